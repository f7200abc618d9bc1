"""Issue 16's "done when", in Chromium against the BankID simulator: one person with 30 cases from
three officers reviews some of them and signs with one BankID signature. 25 are signed; 5 are
refused with their reason on the page (3 revoked by their officers after the page was opened, 2
whose signing order has another party sign first). Each signed case is sealed exactly once with its
own receipt naming the manifest, pdfsig and qpdf --check accept the sealed PDFs, and the verify
page shows the stamp signature."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.cases import service as cases
from core.extensions import db
from core.models import Case, Document, Signature
from core.storage import blobs
from tenants.scoping import tenant_context
from tests import support
from tests.plugins.stamp_signature.helpers import (
    SARA,
    assert_sealed_once_naming_the_manifest,
    leases_from_three_officers,
    open_documents,
    sign_with_bankid_by_qr,
    stamp_on,
    the_manifest,
    wait_until_sealed,
)
from tests.signing.helpers import signer
from tests.signing_bankid.conftest import ALICE, BERTIL, bankid_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser
CASES, SIGNED = 30, 25
PER = "Per Persson"


def test_thirty_cases_twenty_five_signed_with_one_bankid_and_five_refused_with_the_reason(
        bankid_server, people, sim, page):  # noqa: F811
    app = bankid_server.app
    stamp_on(app, people.acme.id)
    # Leases 29 and 30: Per signs first. Sara's BankID is required in every case.
    per = signer(PER, "per@example.com", methods=["bankid"], personal_number=BERTIL.personal_number)
    made = leases_from_three_officers(app, people, CASES, ["bankid"], first={29: per, 30: per},
                                      personal_number=ALICE.personal_number)
    to_sign, to_revoke, not_her_turn = made[:SIGNED], made[SIGNED:28], made[28:]

    page.goto(bankid_server.url + made[0].path(SARA))
    assert page.get_by_role("heading", name="28 documents are waiting for you").is_visible()
    support.click_and_load(page, page.get_by_role("link", name="Review and sign together"))
    assert page.locator("input[name='case']").count() == 28  # not yet her turn: not listed
    assert not page.locator("li[data-case]", has_text="Lease 29").count()

    # She reviews a few (the page records what she opened).
    open_documents(page, ["Lease 01", "Lease 14", "Lease 26"])

    # After she opened the page, Bob, Cecilia and Alice each revoke one of these cases.
    with app.app_context(), tenant_context(people.acme.id):
        for m in to_revoke:
            case = db.session.get(Case, m.case_id)
            cases.revoke_case(case, case.owner, "Wrong flat")
        db.session.commit()
        assert {db.session.get(Case, m.case_id).owner.name for m in to_revoke} == {
            "Alice Andersson", "Bob Berg", "Cecilia Carlsson"}

    page.get_by_label("Select all").check()
    assert page.locator("input[name='case']:checked").count() == 28
    # A form that names the two cases whose turn has not come (edited, or kept from elsewhere): the
    # page never offered them, the server must refuse them.
    page.evaluate("""ids => { const form = document.getElementById('sign-form');
        for (const id of ids) for (const [name, value] of [['case', id], ['digest:' + id, '']]) {
          const input = document.createElement('input');
          input.type = 'hidden'; input.name = name; input.value = value; form.appendChild(input); } }""",
                  [str(m.case_id) for m in not_her_turn])
    sign_with_bankid_by_qr(page, sim, ALICE.personal_number)
    page.get_by_text(f"You signed {SIGNED} cases in one stamp signature.").wait_for(timeout=60000)

    # The 5 not signed, each with why.
    assert page.get_by_text("5 cases were not signed:").is_visible()
    for m in to_revoke:
        assert page.locator(f'li[data-refused="{m.case_id}"]').inner_text().endswith("The sender revoked this case.")
    for m in not_her_turn:
        assert page.locator(f'li[data-refused="{m.case_id}"]').inner_text().endswith(
            f"It is not your turn yet: {PER} must sign first.")
    assert page.locator("li[data-refused]").count() == 5

    wait_until_sealed(page, SIGNED)
    manifest = the_manifest(app, people.acme.id)
    assert manifest.method == "bankid" and manifest.case_count == SIGNED and manifest.sha256 in page.content()
    assert_sealed_once_naming_the_manifest(app, people.acme.id, to_sign, manifest, "bankid",
                                           checked=to_sign[::4])  # every fourth: pdfsig, qpdf, receipt
    with app.app_context(), tenant_context(people.acme.id):
        assert [db.session.get(Case, m.case_id).status for m in made[SIGNED:]] == ["revoked"] * 3 + ["pending"] * 2
        assert not db.session.scalars(sa.select(Signature).where(
            Signature.case_id.in_([m.case_id for m in made[SIGNED:]]))).all()
        sealed = blobs().get(db.session.get(Document, to_sign[13].document_id).sealed_sha256)

    # The verify page, given a sealed PDF, names the stamp signature and its manifest.
    page.goto(bankid_server.url + "/verify/")
    page.set_input_files("#verify-file", files=[{"name": "lease.pdf", "mimeType": "application/pdf",
                                                 "buffer": sealed}])
    support.click_and_load(page, page.get_by_role("button", name="Check the file"))
    assert page.get_by_text(f"Signed together with {SIGNED - 1} other documents; manifest SHA-256 "
                            f"{manifest.sha256}").is_visible()
