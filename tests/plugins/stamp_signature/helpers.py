"""Shared setup and checks for the stamp signature's tests: the plugin switched on, one person's
waiting cases from three officers, the stamp page in Chromium, and what every case signed in a stamp
signature must show once sealed."""

from __future__ import annotations

import io
import time

import sqlalchemy as sa
from pypdf import PdfReader

from core.auth.service import create_officer
from core.extensions import db
from core.models import Case, Document, Officer, Signature, Tenant
from core.storage import blobs
from plugins.stamp_signature.models import StampManifest
from tenants.scoping import tenant_context
from tests.sealing.checks import pdfsig, qpdf_check
from tests.signing.helpers import Made, events_of, make_case, pdf, signer

SARA = "Sara Svensson"
SARA_EMAIL = "sara@example.com"


def csrf_of(html: str) -> str:
    """The CSRF token of the page's (first) form."""
    return html.split('name="csrf_token" value="')[1].split('"')[0]


def stamp_on(app, *tenant_ids: int) -> None:
    """Switch the stamp signature plugin on for these tenants."""
    with app.app_context():
        for tenant_id in tenant_ids:
            db.session.get(Tenant, tenant_id).enabled_plugins = ["stamp_signature"]
        db.session.commit()


def three_officers(people) -> list[Officer]:
    """Acme's Alice and Bob, and a third officer, Cecilia Carlsson (inside an app context)."""
    with tenant_context(people.acme.id):
        tenant = db.session.get(Tenant, people.acme.id)
        officers = [db.session.get(Officer, people.alice.id), db.session.get(Officer, people.bob.id),
                    create_officer(tenant, "cecilia@acme.example", "Cecilia Carlsson", password="x" * 20)]
        db.session.commit()
    return officers


def leases_from_three_officers(app, people, count: int, methods: list[str], first: dict | None = None,
                               **sara) -> list[Made]:
    """`count` sent cases "Lease 01", "Lease 02" … for Sara (her party gets `methods` and `sara`'s
    fields), from Alice, Bob and Cecilia in turn, each with one lease in English. `first` maps a
    lease's number to a co-signer who must sign before Sara (sequential order)."""
    first = first or {}
    with app.app_context():
        officers = three_officers(people)
        made = []
        for n in range(1, count + 1):
            title = f"Lease {n:02d}"
            party = signer(SARA, SARA_EMAIL, methods=methods, **sara)
            made.append(make_case(officers[(n - 1) % 3], [first[n], party] if n in first else [party],
                                  methods=methods, order="sequential" if n in first else "parallel",
                                  title=title, document=pdf([title, "Rent 9 500 SEK"]), language="en"))
    return made


def open_documents(page, titles: list[str]) -> None:
    """Open (download) the lease of each titled case from the stamp page; after a reload each is
    marked as opened."""
    for title in titles:
        row = page.locator("li[data-case]", has_text=title)
        with page.expect_download() as download:
            row.get_by_role("link", name="lease.pdf").click()
        assert download.value.path().read_bytes().startswith(b"%PDF")
    page.reload()
    assert page.get_by_text("Opened", exact=True).count() == len(titles)


def sign_with_bankid_by_qr(page, sim, personal_number: str) -> None:
    """Consent to the ticked cases, start BankID for another device, and let the simulated app of
    `personal_number` scan the page's QR code and approve."""
    from tests.bankid_fixtures import control
    from tests.signing_bankid.test_bankid_browser import shown_qr

    page.get_by_label("I have read the ticked documents and agree to sign them.").check()
    page.locator("#bankid-other").click()
    scanned = control(sim, "scan", qr=shown_qr(page), personalNumber=personal_number)
    control(sim, f"orders/{scanned['orderRef']}/approve")


def wait_until_sealed(page, count: int) -> None:
    """The result's progress list, polled by the page, until `count` cases show as sealed."""
    deadline = time.monotonic() + 600  # the jobs sign, then seal, in the live server's threads
    while page.locator('#stamp-progress li[data-outcome="sealed"]').count() < count:
        assert time.monotonic() < deadline, "every case sealed within 10 minutes"
        time.sleep(1)
    assert page.locator("#stamp-progress").get_by_text("Sealed").count() == count


def the_manifest(app, tenant_id: int) -> StampManifest:
    """The tenant's one stamp manifest."""
    with app.app_context(), tenant_context(tenant_id):
        [manifest] = db.session.scalars(sa.select(StampManifest)).all()
        db.session.expunge(manifest)
        return manifest


def assert_sealed_once_naming_the_manifest(app, tenant_id: int, made: list[Made], manifest: StampManifest,
                                           method: str, checked: list[Made] | None = None) -> None:
    """Each case is completed (sealed) exactly once with Sara's one signature by `method` naming the
    manifest; the sealed PDFs of `checked` (default: all) pass pdfsig and qpdf --check, and each
    receipt passes qpdf and says the case was signed together with the others, naming the
    manifest's hash."""
    others = manifest.case_count - 1
    with app.app_context(), tenant_context(tenant_id):
        for m in made:
            case = db.session.get(Case, m.case_id)
            assert case.status == "completed" and len(events_of(case, "completed")) == 1
            [signature] = db.session.scalars(sa.select(Signature).where(Signature.case_id == m.case_id)).all()
            assert signature.method == method
            assert signature.evidence["plugins"]["stamp_signature"]["manifest_sha256"] == manifest.sha256
            if checked is not None and m not in checked:
                continue
            document = db.session.get(Document, m.document_id)
            sealed = blobs().get(document.sealed_sha256)
            report = pdfsig(sealed)
            assert "Signature is Valid" in report and "Total document signed" in report, report
            qpdf_check(sealed)
            receipt = blobs().get(document.receipt_sha256)
            qpdf_check(receipt)
            text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt)).pages).split())
            assert f"{SARA} signed together with {others} other documents in one stamp signature" in text
            assert manifest.sha256 in text.replace(" ", "")
