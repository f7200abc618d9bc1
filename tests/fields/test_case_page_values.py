"""The officer reads a case's typed values on the case page, written the way their language writes
them, with the signed ones marked (the API's typed values: tests/api/test_templates.py)."""

from __future__ import annotations

import re

from tests.fields.helpers import lease_with_fields
from tests.fields.test_signer_fields import save, sign


def row(html: str, name: str) -> str:
    found = re.search(rf'<tr data-field="{name}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, name
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def test_the_case_page_shows_each_value_in_the_officers_language(client, people, login):
    made = lease_with_fields(people.alice, values={"rent": "12500.5"})
    save(client, made.links["tenant"], {"full_name": "Åsa Öberg", "moving_in": "2026-09-01", "pets": "yes"})
    assert sign(client, made.links["tenant"]).status_code == 302
    save(client, made.links["landlord"], {"landlord_note": "Keys at the office."})  # saved, not yet signed
    login(people.alice)
    client.get("/lang/sv")
    html = client.get(f"/cases/{made.case_id}").get_data(as_text=True)
    assert row(html, "full_name") == "Full name Sara Svensson Åsa Öberg Signerat"
    assert row(html, "rent") == "Rent Sara Svensson 12 500,5 Signerat"  # (a no-break space, as Swedish writes)
    assert "12\u00a0500,5" in html
    assert row(html, "pets") == "Pets Sara Svensson Ja Signerat"
    assert row(html, "moving_in") == "Moving in Sara Svensson 2026-09-01 Signerat"
    assert row(html, "landlord_note") == "Note Per Persson Keys at the office."  # no "signed" mark yet
    assert row(html, "landlord_signature").endswith("—")

