"""Every kind of event the code can record has a human text on the timeline, in Swedish and English.

The kinds are read from the source: every call that records an event (`events.record`,
`events.record_by`, `actor_event`, `system_event`, `_party_event`, `invite_party(kind=...)`) in core and the plugins.
A call whose kind cannot be read from the source fails the test, so a new kind cannot slip by.
"""

from __future__ import annotations

import ast
from pathlib import Path

from flask import g

from core.cases import event_texts
from core.i18n import force_locale
from core.models import Event
from core.plugins import TenantHooks

ROOT = Path(__file__).resolve().parents[2]
RECORDERS = {"record": 1, "record_by": 1, "actor_event": 1, "system_event": 1, "_party_event": 1}
# Functions that take the kind as a parameter and pass it on to a recorder.
KIND_PARAMETERS = {"invite_party": "kind"}

SAMPLE = {
    "name": "Sam Signer", "filename": "lease.pdf", "reason": "Wrong amount", "method": "sms", "attempt": 2,
    "phone": "+46 70 *** ** 67", "hint": "userCancel", "error": "RuntimeError: no", "new_owner": "Bob",
    "text": "Called Sam", "template": "Lease", "version": 3, "attempts": 8, "work": "sealing",
}


def _strings(node: ast.AST, function: ast.FunctionDef | None, where: str, unresolved: list) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return (_strings(node.body, function, where, unresolved)
                | _strings(node.orelse, function, where, unresolved))
    if isinstance(node, ast.Name) and function is not None:
        found: set[str] = set()
        for statement in ast.walk(function):
            if isinstance(statement, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == node.id for t in statement.targets):
                found |= _strings(statement.value, function, where, unresolved)
        arguments = function.args
        positional = arguments.posonlyargs + arguments.args
        defaults = dict(zip([a.arg for a in positional[len(positional) - len(arguments.defaults):]],
                            arguments.defaults, strict=True))
        defaults.update({a.arg: d for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True) if d})
        if node.id in defaults and KIND_PARAMETERS.get(function.name) == node.id:
            found |= _strings(defaults[node.id], None, where, unresolved)  # callers' values: see kinds_in_code
            return found
        if found:
            return found
    unresolved.append(f"{where}: {ast.unparse(node)}")
    return set()


def kinds_in_code() -> tuple[set[str], list[str]]:
    kinds: set[str] = set()
    unresolved: list[str] = []
    for path in sorted([*ROOT.joinpath("core").rglob("*.py"), *ROOT.joinpath("plugins").rglob("*.py")]):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(), str(path))
        parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
            if name == "record" and not (isinstance(func, ast.Attribute) and ast.unparse(func.value) == "events") \
                    and not (isinstance(func, ast.Name) and path.name == "events.py"):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            enclosing = node
            while enclosing in parents and not isinstance(enclosing, ast.FunctionDef | ast.AsyncFunctionDef):
                enclosing = parents[enclosing]
            function = enclosing if isinstance(enclosing, ast.FunctionDef | ast.AsyncFunctionDef) else None
            if name in RECORDERS:
                index = RECORDERS[name]
                argument = node.args[index] if len(node.args) > index else next(
                    (k.value for k in node.keywords if k.arg == "kind"), None)
                if argument is None or (isinstance(function, ast.FunctionDef) and function.name in RECORDERS):
                    continue  # the recorders themselves pass their parameter on
                kinds |= _strings(argument, function, where, unresolved)
            elif name in KIND_PARAMETERS:
                for keyword in node.keywords:
                    if keyword.arg == KIND_PARAMETERS[name]:
                        kinds |= _strings(keyword.value, function, where, unresolved)
    return kinds, unresolved


def test_the_source_scan_finds_the_known_kinds():
    kinds, unresolved = kinds_in_code()
    assert not unresolved, f"kinds the test cannot read from the source: {unresolved}"
    # a sample across the modules: signing methods, the case service, follow-ups, sealing, a plugin
    assert {"sms_code_wrong", "bankid_failed", "bankid_completed", "invited", "link_resent", "reminded",
            "seal_failed", "completed", "made_from_template", "delivery_file_added"} <= kinds
    assert set(event_texts.KINDS) <= kinds, "texts for kinds nothing records"


def test_every_recorded_kind_has_a_human_text_in_swedish_and_english(app):
    """Also a plugin's kinds where no plugin is on: a switched-off plugin's past events keep their words."""
    kinds, _unresolved = kinds_in_code()
    raw = []
    with app.test_request_context():
        g.hooks, g.hooks_tenant = TenantHooks(app.extensions["sigill_pm"], []), None  # every plugin off
        for kind in sorted(kinds):
            for data in (SAMPLE, {}):
                event = Event(kind=kind, data=data, actor_type="system")
                with force_locale("en"):
                    english = event_texts.text(event)
                with force_locale("sv"):
                    swedish = event_texts.text(event)
                for language, text in (("en", english), ("sv", swedish)):
                    # not the raw name, nor the fallback for kinds nobody gives a text (which names the kind)
                    if not text.strip() or text == kind.replace("_", " ") or ("_" in kind and kind in text):
                        raw.append(f"{kind} ({language}): {text!r}")
                if english == swedish:
                    raw.append(f"{kind}: not translated ({english!r})")
    assert not raw, "\n".join(raw)


def test_the_timeline_shows_sms_and_bankid_events_in_words(app, client, login, alice, make_case):
    from core.cases import events
    from core.extensions import db
    from core.models import Case
    from tenants.scoping import tenant_context

    case_id = make_case(methods=("sms", "bankid"))
    with tenant_context(alice.tenant_id):
        case = db.session.get(Case, case_id)
        events.record(case, "sms_code_wrong", "party", actor_label="Sam Signer", data={"attempt": 1, "locked": False})
        events.record(case, "bankid_failed", "party", actor_label="Sam Signer",
                      data={"status": "failed", "hint": "userCancel"})
        events.record(case, "bankid_completed", "party", actor_label="Sam Signer", data={"status": "complete"})
        db.session.commit()
    login(alice)
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    for raw in ("sms code wrong", "bankid failed", "bankid completed"):
        assert raw not in html
    assert "Wrong SMS code entered (attempt 1)" in html
    assert "BankID signing did not finish (cancelled in the BankID app)" in html
    assert "Confirmed in the BankID app" in html
