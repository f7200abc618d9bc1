"""The stamp signature in Chromium on a phone-sized page: from a signing link to the stamp page,
"Select all", one drawn signature, and every case sealed once with its own receipt."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import Case, Document, Officer
from plugins.stamp_signature.models import StampManifest
from tenants.scoping import tenant_context
from tests import support
from tests.plugins.stamp_signature.helpers import SARA, stamp_on
from tests.signing.helpers import events_of, make_case, pdf, signer
from tests.signing.test_signer_browser import draw_with_mouse

pytestmark = pytest.mark.browser


def test_a_party_signs_three_cases_with_one_drawn_signature(live_server, people, phone_page):
    app = live_server.app
    stamp_on(app, people.acme.id)
    with app.app_context():
        with tenant_context(people.acme.id):
            alice, bob = db.session.get(Officer, people.alice.id), db.session.get(Officer, people.bob.id)
        made = [make_case(officer, [signer(SARA, "sara@example.com", methods=["touch"])], methods=["touch"],
                          title=f"Lease {n}", document=pdf([f"Lease {n}"]))
                for n, officer in ((1, alice), (2, bob), (3, alice))]
    page = phone_page
    page.goto(live_server.url + made[0].path(SARA))
    assert page.get_by_role("heading", name="3 documents are waiting for you").is_visible()
    support.click_and_load(page, page.get_by_role("link", name="Review and sign together"))
    for n in (1, 2, 3):
        assert page.get_by_text(f"Lease {n}", exact=True).is_visible()
    page.get_by_label("Select all").check()
    assert page.locator("input[name='case']:checked").count() == 3
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # fits 360 px
    page.get_by_label("I have read the ticked documents and agree to sign them.").check()
    draw_with_mouse(page, "#touch-pad")
    page.get_by_role("button", name="Sign with my drawn signature").click()
    page.get_by_text("You signed 3 cases in one stamp signature.").wait_for()
    # The result follows the sealing live (polling), case by case.
    for n in range(3):
        page.locator('#stamp-progress li[data-outcome="sealed"]').nth(n).wait_for(timeout=60000)
    assert page.locator("#stamp-progress").get_by_text("Sealed").count() == 3

    with app.app_context(), tenant_context(people.acme.id):
        manifest = db.session.scalar(sa.select(StampManifest))
        assert manifest.case_count == 3 and manifest.sha256 in page.content()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # sealing runs in the background
            db.session.rollback()
            if all(db.session.get(Case, m.case_id).status == "completed" for m in made):
                break
            time.sleep(0.5)
        for m in made:
            assert db.session.get(Case, m.case_id).status == "completed"
            assert len(events_of(db.session.get(Case, m.case_id), "completed")) == 1
            assert db.session.get(Document, m.document_id).receipt_sha256
