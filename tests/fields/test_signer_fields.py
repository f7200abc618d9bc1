"""The signer fills in: saved as they go, checked on the server, bound into what they sign, frozen then."""

from __future__ import annotations

import json
import re

from core.fields.values import values_sha256
from core.models import Signature
from tenants.scoping import tenant_context
from tests import support
from tests.fields.helpers import lease_with_fields, stored
from tests.signing.helpers import drawn_signature


def save(client, path: str, values: dict, revisions: dict | None = None):
    token = support.csrf_token(client, path)
    return client.post(path + "/fields", data=json.dumps({"values": values, "revisions": revisions or {}}),
                       content_type="application/json", headers={"X-CSRFToken": token, "Accept": "application/json"})


def page_of(client, path: str) -> str:
    return client.get(path).get_data(as_text=True)


def digest(html: str) -> str:
    return re.search(r'name="documents_digest" value="([0-9a-f]{64})"', html).group(1)


def sign(client, path: str, **extra):
    html = page_of(client, path)
    form = {"method": "touch", "consent": "yes", "documents_digest": digest(html), **drawn_signature(), **extra}
    return support.post(client, path + "/sign", form, token_from=path)


def test_the_page_lists_the_partys_fields_and_the_consent_names_their_hash(client, people):
    made = lease_with_fields(people.bob, values={"rent": "9500"})
    html = page_of(client, made.links["tenant"])
    assert "Full name" in html and "Rent" in html and "Tenant&#39;s signature" in html
    assert "Note" not in html  # the landlord's field
    assert 'value="9500"' in html
    assert "My entries in 4 fields, SHA-256" in html


def test_values_are_checked_on_the_server_and_saved_as_typed(client, people):
    made = lease_with_fields(people.bob)
    path = made.links["tenant"]
    answer = save(client, path, {"rent": "a lot", "full_name": "Åsa Öberg", "landlord_note": "mine"}).json
    assert answer["errors"] == {"rent": ["Give a number, like 1250 or 12,5."],
                                "landlord_note": ["There is no such field for you to fill in."]}
    assert answer["values"] == {"full_name": "Åsa Öberg"} and answer["revisions"] == {"full_name": 1}
    answer = save(client, path, {"rent": "9 500,50"}).json
    assert answer["ok"] and answer["values"] == {"rent": "9500.50"}
    assert {name: value.value for name, value in stored(made).items()} == {"full_name": "Åsa Öberg",
                                                                          "rent": "9500.50"}


def test_a_reload_or_another_device_continues_where_the_party_left_off(client, app, people):
    made = lease_with_fields(people.bob)
    path = made.links["tenant"]
    save(client, path, {"full_name": "Åsa Öberg", "pets": "yes"})
    other_device = app.test_client()
    html = page_of(other_device, path)
    assert 'value="Åsa Öberg"' in html and re.search(r'type="checkbox"[^>]*checked', html)


def test_two_tabs_filling_the_same_field_do_not_overwrite_each_other(client, app, people):
    made = lease_with_fields(people.bob)
    path = made.links["tenant"]
    first = save(client, path, {"full_name": "Sara Svensson"}, {"full_name": 0}).json
    assert first["revisions"] == {"full_name": 1}
    second_tab = app.test_client()
    answer = save(second_tab, path, {"full_name": "Sara S."}, {"full_name": 0}).json
    assert not answer["ok"] and answer["conflicts"] == {"full_name": {"value": "Sara Svensson", "revision": 1}}
    assert stored(made)["full_name"].value == "Sara Svensson"
    # A save of another field tells the tab of every stored value, so it learns of changes it did not send.
    answer = save(second_tab, path, {"rent": "12"}, {"rent": 0}).json
    assert answer["current"] == {"full_name": {"value": "Sara Svensson", "revision": 1},
                                 "rent": {"value": "12", "revision": 1}}
    answer = save(second_tab, path, {"full_name": "Sara S."}, {"full_name": 1}).json  # "keep mine"
    assert answer["ok"] and stored(made)["full_name"].value == "Sara S."


def test_each_save_answers_with_the_new_consent_and_digest(client, people):
    made = lease_with_fields(people.bob)
    path = made.links["tenant"]
    before = digest(page_of(client, path))
    answer = save(client, path, {"full_name": "Sara Svensson"}).json
    assert answer["documents_digest"] != before and answer["documents_digest"] == digest(page_of(client, path))
    assert "My entries in 4 fields, SHA-256" in answer["consent_text"]


def test_signing_is_refused_while_a_required_field_is_empty_and_nothing_typed_is_lost(client, people):
    made = lease_with_fields(people.bob)
    path = made.links["tenant"]
    save(client, path, {"full_name": "Sara Svensson"})
    response = sign(client, path)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Fill in the fields marked below before you sign." in html and "Fill in this field." in html
    assert 'value="Sara Svensson"' in html
    with tenant_context(made.tenant_id):
        assert Signature.query.count() == 0


def test_a_value_changed_after_the_page_was_loaded_is_not_signed_unseen(client, app, people):
    made = lease_with_fields(people.bob, values={"rent": "9500"})
    path = made.links["tenant"]
    save(client, path, {"full_name": "Sara Svensson"})
    html = page_of(client, path)
    save(app.test_client(), path, {"rent": "1"}, {"rent": 0})  # another tab changes the rent
    form = {"method": "touch", "consent": "yes", "documents_digest": digest(html), **drawn_signature()}
    response = support.post(client, path + "/sign", form, token_from=path)
    assert response.status_code == 422 and "Your entries or the documents have changed" in response.get_data(
        as_text=True)


def test_the_signature_binds_the_values_and_they_are_frozen(client, people):
    made = lease_with_fields(people.bob, values={"rent": "9500"})
    path = made.links["tenant"]
    save(client, path, {"full_name": "Sara Svensson", "moving_in": "2026-09-01"})
    assert sign(client, path).status_code == 302
    expected = {"full_name": "Sara Svensson", "rent": "9500", "moving_in": "2026-09-01", "pets": False}
    with tenant_context(made.tenant_id):
        [signature] = Signature.query.all()
        assert signature.field_values_sha256 == values_sha256(expected)
        assert values_sha256(expected) in signature.consent_text
    values = stored(made)
    assert {name: v.value for name, v in values.items()}["signed_on"] is not None  # filled in at signing
    assert all(v.signed_at is not None for v in values.values())
    response = save(client, path, {"full_name": "Someone else"})
    assert response.status_code == 409  # the link is signed: nothing can be saved any more
    assert stored(made)["full_name"].value == "Sara Svensson"


def test_the_next_signer_sees_the_signed_values_read_only(client, people):
    made = lease_with_fields(people.bob)
    tenant = made.links["tenant"]
    save(client, tenant, {"full_name": "Sara Svensson", "rent": "9500"})
    sign(client, tenant)
    html = page_of(client, made.links["landlord"])
    assert "Filled in by others who have signed" in html and "Sara Svensson" in html and "9,500" in html
    answer = save(client, made.links["landlord"], {"rent": "1"}).json
    assert answer["errors"] == {"rent": ["There is no such field for you to fill in."]}


def test_the_plain_form_saves_without_javascript(client, people):
    made = lease_with_fields(people.bob)
    path = made.links["tenant"]
    data = {"value:full_name": "Sara Svensson", "revision:full_name": "0", "value:rent": "12", "revision:rent": "0",
            "revision:pets": "0"}
    response = support.post(client, path + "/fields", data, token_from=path)
    assert response.status_code == 302
    assert {name: v.value for name, v in stored(made).items()} == {"full_name": "Sara Svensson", "rent": "12",
                                                                   "pets": False}
    data["value:rent"] = "twelve"
    response = support.post(client, path + "/fields", data, token_from=path)
    assert response.status_code == 422 and "Give a number" in response.get_data(as_text=True)


def test_saving_needs_the_csrf_token_and_a_valid_link(client, people):
    made = lease_with_fields(people.bob)
    response = client.post(made.links["tenant"] + "/fields", json={"values": {"full_name": "x"}})
    assert response.status_code == 400
    assert save(client, "/s/not-a-token", {"full_name": "x"}).status_code in (404, 409)


def test_bankid_signs_the_hash_of_the_values_and_will_not_start_while_fields_are_missing(client, people):
    from werkzeug.datastructures import MultiDict

    from core.i18n import force_locale
    from core.signing import service
    from core.signing.bankid_method import BankIDMethod, non_visible_text, visible_text

    made = lease_with_fields(people.bob, values={"rent": "9500"})
    path = made.links["tenant"]
    with tenant_context(made.tenant_id):
        party = next(p for p in made.case().parties if p.role_key == "tenant")
        ctx = service.signing_context(service.link_state(party), "127.0.0.1", "test", "en")
        with force_locale("en"):
            refused = BankIDMethod().start(ctx, MultiDict({"consent": "yes", "documents_digest": ctx.documents_digest}))
        assert not refused.ok and refused.message == "Fill in the fields marked below before you sign."
    save(client, path, {"full_name": "Sara Svensson"})
    with tenant_context(made.tenant_id):
        party = next(p for p in made.case().parties if p.role_key == "tenant")
        ctx = service.signing_context(service.link_state(party), "127.0.0.1", "test", "en")
        expected = values_sha256({"full_name": "Sara Svensson", "rent": "9500", "moving_in": None, "pets": False})
        assert json.loads(non_visible_text(ctx))["field_values_sha256"] == expected
        assert expected in visible_text(ctx)


def test_an_sms_code_binds_the_entries_and_a_change_after_it_was_sent_asks_for_a_new_one(client, app, people):
    from tests.signing.helpers import sms_codes

    made = lease_with_fields(people.bob, values={"rent": "9500"})
    path = made.links["tenant"]
    save(client, path, {"full_name": "Sara Svensson"})
    support.post(client, path + "/method/sms/send", {}, token_from=path)
    [code] = sms_codes(app.config["OUTBOX_DIR"] + "/sms")
    save(client, path, {"rent": "9600"}, {"rent": 0})  # changed after the code was sent
    response = sign(client, path, method="sms", sms_code=code)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Your entries or the documents have changed since the code was sent." in html
    assert 'value="9600"' in html and 'value="Sara Svensson"' in html
    support.post(client, path + "/method/sms/send", {}, token_from=path)
    new_code = next(c for c in sms_codes(app.config["OUTBOX_DIR"] + "/sms") if c != code)
    assert sign(client, path, method="sms", sms_code=new_code).status_code == 302
    with tenant_context(made.tenant_id):
        [signature] = Signature.query.all()
        assert signature.field_values_sha256 == values_sha256(
            {"full_name": "Sara Svensson", "rent": "9600", "moving_in": None, "pets": False})
