"""Office, signer and public pages pass axe-core's WCAG 2 A/AA rules (axe-core from npm, in Chromium).

Only "serious" and "critical" findings fail the test; each failure names the rule, the page and
the elements, so it can be fixed where it is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import support
from tests.signing.helpers import make_case, signer

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def axe_page(browser):
    if not AXE.exists():
        pytest.fail("node_modules/axe-core is missing: run `npm ci` (make test does)")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def violations(page) -> list[str]:
    """Serious and critical axe findings on the current page, one line each."""
    page.evaluate(AXE.read_text())  # evaluate, not a script tag: the pages' CSP forbids inline scripts
    result = page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", RULES)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:5]}"
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]


def test_pages_have_no_serious_accessibility_violations(live_server, people, axe_page):
    with live_server.app.app_context():
        from core.cases import service as cases
        from core.extensions import db
        from core.models import Officer
        from tenants.scoping import tenant_context

        with tenant_context(people.acme.id):
            alice = db.session.get(Officer, people.alice.id)
            made = make_case(alice, [signer(), signer("Per Persson", "per@example.com", phone="+46709876543")],
                             order="sequential")
            case_id = made.case.id
            with tenant_context(people.acme.id):
                link = cases.issue_party_link(made.parties[1])
            db.session.commit()
    page = axe_page
    found: dict[str, list[str]] = {}
    waiting = "/s/" + link.rsplit("/", 1)[-1]  # Per's page: his turn has not come
    for path in ("/login", "/verify/", "/verify/?code=ABCD-EFGH", made.path("Sara Svensson"), waiting):
        page.goto(live_server.url + path)
        found[path] = violations(page)
    support.login(live_server.app.test_client(), "alice@acme.example")  # /account lists another device
    support.browser_login(page, live_server.url, "alice@acme.example")
    for path in ("/cases/", "/cases/new", f"/cases/{case_id}", "/admin/", "/account", "/admin/api"):
        page.goto(live_server.url + path)
        found[path] = violations(page)
    problems = {path: lines for path, lines in found.items() if lines}
    assert not problems, "\n".join(f"{path}:\n  " + "\n  ".join(lines) for path, lines in problems.items())
