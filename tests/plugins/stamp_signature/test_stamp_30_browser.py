"""A party with 30 waiting cases from three officers, in Chromium: the stamp page, a filter, a few
documents opened, every case ticked and signed with one drawn signature (more than 25 cases: the
jobs sign them); then each sealed PDF passes pdfsig and qpdf --check, and each receipt says the
case was signed together with the 29 others and names the manifest's hash."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.extensions import db
from plugins.stamp_signature.models import StampOpened
from tenants.scoping import tenant_context
from tests.plugins.stamp_signature.helpers import (
    SARA,
    assert_sealed_once_naming_the_manifest,
    leases_from_three_officers,
    open_documents,
    stamp_on,
    the_manifest,
    wait_until_sealed,
)
from tests.signing.test_signer_browser import draw_with_mouse

pytestmark = pytest.mark.browser
CASES = 30


def test_a_party_signs_thirty_cases_from_three_officers_with_one_drawn_signature(live_server, people, page):
    app = live_server.app
    stamp_on(app, people.acme.id)
    made = leases_from_three_officers(app, people, CASES, ["touch"])
    bob_cases = sum(1 for n in range(CASES) if n % 3 == 1)

    page.goto(live_server.url + made[0].path(SARA))
    assert page.get_by_role("heading", name=f"{CASES} documents are waiting for you").is_visible()
    page.get_by_role("link", name="Review and sign together").click()
    page.wait_for_url("**/stamp/s/**")
    assert page.locator("input[name='case']").count() == CASES

    # Only Bob's cases, then every case again.
    page.get_by_label("Sender").select_option(label="Bob Berg")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**sender=**")
    assert page.locator("input[name='case']").count() == bob_cases
    page.get_by_role("link", name="Show all", exact=True).click()
    page.wait_for_url(lambda url: "sender=" not in url)
    assert page.locator("input[name='case']").count() == CASES

    # A few documents opened from the page are recorded, and marked.
    open_documents(page, ["Lease 01", "Lease 02", "Lease 17"])

    page.get_by_label("Select all").check()
    assert page.locator("input[name='case']:checked").count() == CASES
    page.get_by_label("I have read the ticked documents and agree to sign them.").check()
    draw_with_mouse(page, "#touch-pad")
    page.get_by_role("button", name="Sign with my drawn signature").click()
    page.get_by_text(f"Your stamp signature covers {CASES} cases: each is being signed and sealed, "
                     "see below.").wait_for(timeout=60000)
    wait_until_sealed(page, CASES)

    manifest = the_manifest(app, people.acme.id)
    assert manifest.case_count == CASES and manifest.sha256 in page.content()
    with app.app_context(), tenant_context(people.acme.id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StampOpened)) == 3
    assert_sealed_once_naming_the_manifest(app, people.acme.id, made, manifest, "touch")
