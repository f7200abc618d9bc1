"""docs/plugins.md names every hook, and the worked example it points to exists."""

from __future__ import annotations

import inspect
from pathlib import Path

from core import hookspecs

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "docs" / "plugins.md").read_text()


def test_the_guide_covers_every_hook():
    hooks = [name for name, func in inspect.getmembers(hookspecs, inspect.isfunction)
             if hasattr(func, "sigill_spec")]
    assert len(hooks) > 20
    missing = [name for name in hooks if f"`{name}" not in GUIDE]
    assert missing == [], f"docs/plugins.md does not describe {missing}"


def test_the_guides_links_lead_to_files():
    for target in ("../tests/plugins/example/__init__.py", "../tests/plugins/test_example_plugin.py",
                   "../core/hookspecs.py", "../tests/plugins/example_method/__init__.py"):
        assert f"({target})" in GUIDE
        assert (ROOT / "docs" / target).resolve().is_file(), target
