"""Every hook is documented: a spec without a docstring, or an argument its docstring does not
name, fails here (datasette's test_docs idea)."""

import inspect

from core import hookspecs


def _specs():
    return [(name, fn) for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
            if hasattr(fn, "sigill_spec")]


def test_there_are_hookspecs():
    assert len(_specs()) >= 10


def test_every_hookspec_and_argument_is_documented():
    undocumented = []
    for name, fn in _specs():
        doc = inspect.getdoc(fn) or ""
        if not doc:
            undocumented.append(name)
            continue
        for arg in inspect.signature(fn).parameters:
            if arg not in doc:
                undocumented.append(f"{name}({arg})")
    assert undocumented == []


def test_firstresult_hooks_say_so():
    for name, fn in _specs():
        if fn.sigill_spec.get("firstresult"):
            assert "Stops at first non-None result" in inspect.getdoc(fn), name
