"""pyproject.toml lists packages explicitly; a package missing there would be missing when installed."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_every_package_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("core", "plugins", "tenants")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found - listed == set()
    assert listed - found == set()
