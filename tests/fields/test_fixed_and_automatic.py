"""Fields the party does not type: a read-only value the sender filled in, the party's name and the
date of signing. The party sees them, cannot change them, signs them (they are in the hash) and
finds them printed in their boxes."""

from __future__ import annotations

import re

from core.fields.values import values_sha256
from core.jobs import drain
from core.models import Signature
from core.storage import blobs
from tenants.scoping import tenant_context
from tests.fields.helpers import field, lease_with_fields, stored, text_in_box
from tests.fields.test_signer_fields import page_of, save, sign

EXTRA = [field("address", "text", "tenant", 0.20, read_only=True, label="Address"),
         field("printed_name", "name", "tenant", 0.25, label="Printed name")]
BOX = {f["name"]: (f["x"], f["y"], f["w"], f["h"]) for f in EXTRA}
SIGNED_ON = (0.12, 0.63, 0.4, 0.03)  # the lease's date_signed field


def test_a_read_only_value_is_shown_kept_signed_and_printed_with_the_name_and_date(client, people):
    made = lease_with_fields(people.bob, values={"rent": "9500", "address": "Storgatan 1, Umeå"}, extra_fields=EXTRA)
    tenant, landlord = made.links["tenant"], made.links["landlord"]
    html = page_of(client, tenant)
    assert re.search(r'value="Storgatan 1, Umeå"[^>]*readonly', html)
    assert "Sara Svensson" in html and "(filled in when you sign)" in html

    answer = save(client, tenant, {"address": "Somewhere else", "full_name": "Sara Svensson"}).json
    assert answer["errors"] == {"address": ["There is no such field for you to fill in."]}
    assert sign(client, tenant).status_code == 302
    assert sign(client, landlord).status_code == 302
    drain()

    expected = values_sha256({"full_name": "Sara Svensson", "rent": "9500", "moving_in": None, "pets": False,
                              "address": "Storgatan 1, Umeå", "printed_name": "Sara Svensson"})
    case = made.case()
    with tenant_context(made.tenant_id):
        signature = Signature.query.filter_by(party_id=next(p.id for p in case.parties
                                                            if p.role_key == "tenant")).one()
        assert signature.field_values_sha256 == expected
        signed_on = stored(made)["signed_on"].value
        [document] = case.documents
        pdf = blobs().get(document.sealed_sha256)
    original = pdf[: pdf.index(b"%%EOF") + 5]
    assert text_in_box(pdf, original, BOX["address"]) == "Storgatan 1, Umeå"
    assert text_in_box(pdf, original, BOX["printed_name"]) == "Sara Svensson"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", signed_on) and text_in_box(pdf, original, SIGNED_ON) == signed_on
