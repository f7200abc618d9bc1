"""A party with 30 waiting cases from three officers, in Chromium: the stamp page, a filter, a few
documents opened, every case ticked and signed with one drawn signature (more than 25 cases: the
jobs sign them); then each sealed PDF passes pdfsig and qpdf --check, and each receipt says the
case was signed together with the 29 others and names the manifest's hash."""

from __future__ import annotations

import io
import time

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from core.auth.service import create_officer
from core.extensions import db
from core.models import Case, Document, Officer, Signature, Tenant
from core.storage import blobs
from plugins.stamp_signature.models import StampManifest, StampOpened
from tenants.scoping import tenant_context
from tests.sealing.checks import pdfsig, qpdf_check
from tests.signing.helpers import events_of, make_case, pdf, signer
from tests.signing.test_signer_browser import draw_with_mouse

pytestmark = pytest.mark.browser
SARA = "Sara Svensson"
CASES = 30


def test_a_party_signs_thirty_cases_from_three_officers_with_one_drawn_signature(live_server, people, page):
    app = live_server.app
    with app.app_context():
        db.session.get(Tenant, people.acme.id).enabled_plugins = ["stamp_signature"]
        db.session.commit()
        with tenant_context(people.acme.id):
            tenant = db.session.get(Tenant, people.acme.id)
            officers = [db.session.get(Officer, people.alice.id), db.session.get(Officer, people.bob.id),
                        create_officer(tenant, "cecilia@acme.example", "Cecilia Carlsson", password="x" * 20)]
            db.session.commit()
        made = [make_case(officers[n % 3], [signer(SARA, "sara@example.com", methods=["touch"])], methods=["touch"],
                          title=f"Lease {n + 1:02d}", document=pdf([f"Lease {n + 1:02d}", "Rent 9 500 SEK"]),
                          language="en")
                for n in range(CASES)]
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
    for title in ("Lease 01", "Lease 02", "Lease 17"):
        row = page.locator("li[data-case]", has_text=title)
        with page.expect_download() as download:
            row.get_by_role("link", name="lease.pdf").click()
        assert download.value.path().read_bytes().startswith(b"%PDF")
    page.reload()
    assert page.get_by_text("Opened", exact=True).count() == 3

    page.get_by_label("Select all").check()
    assert page.locator("input[name='case']:checked").count() == CASES
    page.get_by_label("I have read the ticked documents and agree to sign them.").check()
    draw_with_mouse(page, "#touch-pad")
    page.get_by_role("button", name="Sign with my drawn signature").click()
    page.get_by_text(f"Your stamp signature covers {CASES} cases: each is being signed and sealed, "
                     "see below.").wait_for(timeout=60000)
    deadline = time.monotonic() + 600  # the jobs sign, then seal, in the live server's threads
    while page.locator('#stamp-progress li[data-outcome="sealed"]').count() < CASES:
        assert time.monotonic() < deadline, "every case sealed within 10 minutes"
        time.sleep(1)
    assert page.locator("#stamp-progress").get_by_text("Sealed").count() == CASES

    with app.app_context(), tenant_context(people.acme.id):
        [manifest] = db.session.scalars(sa.select(StampManifest)).all()
        assert manifest.case_count == CASES and manifest.sha256 in page.content()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StampOpened)) == 3
        for m in made:
            case = db.session.get(Case, m.case_id)
            assert case.status == "completed" and len(events_of(case, "completed")) == 1
            [signature] = db.session.scalars(sa.select(Signature).where(Signature.case_id == m.case_id)).all()
            assert signature.evidence["plugins"]["stamp_signature"]["manifest_sha256"] == manifest.sha256
            document = db.session.get(Document, m.document_id)
            sealed = blobs().get(document.sealed_sha256)
            report = pdfsig(sealed)
            assert "Signature is Valid" in report and "Total document signed" in report, report
            qpdf_check(sealed)
            receipt = blobs().get(document.receipt_sha256)
            qpdf_check(receipt)
            text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt)).pages).split())
            assert f"{SARA} signed together with {CASES - 1} other documents in one stamp signature" in text
            assert manifest.sha256 in text.replace(" ", "")
