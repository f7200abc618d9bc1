"""E-delivery: files attached to a case that reach the parties only once the case is sealed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.cases import service as cases
from core.extensions import db
from core.jobs import drain
from core.models import Event
from plugins.e_delivery.models import DeliveryFile
from tenants.scoping import tenant_context
from tests import support
from tests.signing.helpers import make_case, signer
from tests.signing.test_signer_page import sign_form

NDA_FILE = b"Secret price list: widgets 10 SEK, gadgets 20 SEK\n" * 20


@pytest.fixture
def nda(people):
    people.acme.enabled_plugins = ["e_delivery"]
    db.session.commit()
    return make_case(people.alice, [signer("Sara Svensson", "sara@example.com", methods=["touch"])], methods=["touch"],
                     title="NDA")


def office(app, email):
    client = app.test_client()
    support.login(client, email)
    return client


def attach(client, case_id, data=NDA_FILE, name="prices.txt"):
    return support.post(client, f"/e-delivery/cases/{case_id}/files",
                        {"file": (io.BytesIO(data), name), "description": "Price list"},
                        token_from=f"/cases/{case_id}", content_type="multipart/form-data")


def delivery_files(case) -> list[DeliveryFile]:
    with tenant_context(case.tenant_id):
        return db.session.scalars(sa.select(DeliveryFile).where(DeliveryFile.case_id == case.id)).all()


def test_officer_attaches_a_file_that_shows_on_the_case(app, nda):
    alice = office(app, "alice@acme.example")
    assert attach(alice, nda.case.id).status_code == 302
    page = alice.get(f"/cases/{nda.case.id}").get_data(as_text=True)
    assert "Delivered after signing" in page and "prices.txt" in page
    assert "File for delivery attached: prices.txt" in page


def test_a_file_name_loses_its_right_to_left_override(app, nda):
    alice = office(app, "alice@acme.example")
    assert attach(alice, nda.case.id, name="prices\u202etxt.exe").status_code == 302
    [delivery] = delivery_files(nda.case)
    assert delivery.filename == "pricestxt.exe"


def test_files_are_encrypted_at_rest(app, nda):
    attach(office(app, "alice@acme.example"), nda.case.id)
    stored = [p.read_bytes() for p in Path(app.config["STORAGE_DIR"]).rglob("*") if p.is_file()]
    assert stored, "the file is in the blob store"
    assert not any(b"Secret price list" in blob for blob in stored)


def test_before_completion_parties_cannot_see_or_fetch_the_files(app, nda, client):
    attach(office(app, "alice@acme.example"), nda.case.id)
    [delivery] = delivery_files(nda.case)
    assert "prices.txt" not in client.get(nda.path("Sara Svensson")).get_data(as_text=True)
    assert client.get(f"/e-delivery/s/{nda.token('Sara Svensson')}/{delivery.id}").status_code == 404


def test_a_file_over_the_limit_the_admin_set_is_refused_with_a_message(app, nda, people):
    alice = office(app, "alice@acme.example")
    admin = alice.get("/admin/").get_data(as_text=True)
    assert 'id="plugin-e_delivery-max_file_mb"' in admin and 'value="50"' in admin  # the default
    saved = support.post(alice, "/admin/plugins/e_delivery/settings", {"max_file_mb": "1", "max_case_mb": "200"},
                         token_from="/admin/")
    assert saved.status_code == 302
    response = attach(alice, nda.case.id, data=b"x" * (1024 * 1024 + 1), name="big.bin")
    page = alice.get(response.headers["Location"]).get_data(as_text=True)
    assert "big.bin is larger than 1 MB" in page
    assert delivery_files(nda.case) == []


def test_officer_removes_a_file_while_the_case_is_open(app, nda):
    alice = office(app, "alice@acme.example")
    attach(alice, nda.case.id)
    [delivery] = delivery_files(nda.case)
    support.post(alice, f"/e-delivery/cases/{nda.case.id}/files/{delivery.id}/remove",
                 token_from=f"/cases/{nda.case.id}")
    assert delivery_files(nda.case) == []


def test_tenant_without_the_plugin_gets_404_and_no_panel(app, people):
    made = make_case(people.alice, [signer(methods=["touch"])], methods=["touch"])
    alice = office(app, "alice@acme.example")
    assert attach(alice, made.case.id).status_code == 404
    assert "Delivered after signing" not in alice.get(f"/cases/{made.case.id}").get_data(as_text=True)


def test_another_tenant_gets_404_for_every_route(app, nda, people):
    attach(office(app, "alice@acme.example"), nda.case.id)
    [delivery] = delivery_files(nda.case)
    people.globex.enabled_plugins = ["e_delivery"]
    db.session.commit()
    charlie = office(app, "charlie@globex.example")
    base = f"/e-delivery/cases/{nda.case.id}/files"
    assert attach(charlie, nda.case.id).status_code == 404
    assert support.post(charlie, f"{base}/{delivery.id}/remove", token_from="/cases/").status_code == 404
    assert charlie.get(f"{base}/{delivery.id}").status_code == 404
    assert len(delivery_files(nda.case)) == 1


def _sign_and_seal(client, made, name="Sara Svensson"):
    response = support.post(client, made.path(name) + "/sign", sign_form(client, made.path(name)),
                            token_from=made.path(name))
    assert response.status_code in (200, 302, 303)
    drain()


def test_after_the_last_signature_the_party_downloads_and_the_chain_records_it(app, nda, client):
    attach(office(app, "alice@acme.example"), nda.case.id)
    [delivery] = delivery_files(nda.case)
    _sign_and_seal(client, nda)
    done = client.get(nda.path("Sara Svensson")).get_data(as_text=True)
    assert "Download prices.txt" in done
    response = client.get(f"/e-delivery/s/{nda.token('Sara Svensson')}/{delivery.id}")
    assert response.status_code == 200
    assert response.data == NDA_FILE
    with tenant_context(nda.case.tenant_id):
        downloads = db.session.scalars(sa.select(Event).where(Event.case_id == nda.case.id,
                                                              Event.kind == "delivery_file_downloaded")).all()
    assert [e.actor_label for e in downloads] == ["Sara Svensson <sara@example.com>"]
    assert downloads[0].ip is not None


def test_a_party_of_another_case_cannot_download(app, nda, people, client):
    attach(office(app, "alice@acme.example"), nda.case.id)
    [delivery] = delivery_files(nda.case)
    other = make_case(people.alice, [signer("Olle Other", "olle@example.com", methods=["touch"])], methods=["touch"])
    _sign_and_seal(client, nda)
    _sign_and_seal(client, other, "Olle Other")
    assert client.get(f"/e-delivery/s/{other.token('Olle Other')}/{delivery.id}").status_code == 404


def test_a_revoked_case_never_releases_the_files(app, nda, people, client):
    attach(office(app, "alice@acme.example"), nda.case.id)
    [delivery] = delivery_files(nda.case)
    with tenant_context(nda.case.tenant_id):
        case = db.session.get(type(nda.case), nda.case.id)
        cases.revoke_case(case, db.session.get(type(people.alice), people.alice.id), "Wrong counterparty")
        db.session.commit()
    assert client.get(f"/e-delivery/s/{nda.token('Sara Svensson')}/{delivery.id}").status_code != 200


def test_the_completion_email_and_the_receipt_list_the_delivered_file(app, nda, client):
    import hashlib

    from pypdf import PdfReader

    from core.models import Case
    from core.storage import blobs

    attach(office(app, "alice@acme.example"), nda.case.id)
    _sign_and_seal(client, nda)
    mail = next(m for m in support.outbox_messages()
                if m["To"] == "sara@example.com" and m["Subject"].startswith("Signed:"))
    assert "Delivered file: prices.txt" in support.body_text(mail)
    with tenant_context(nda.case.tenant_id):
        receipt = blobs().get(db.session.get(Case, nda.case.id).documents[0].receipt_sha256)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(receipt)).pages)
    assert "prices.txt" in text and hashlib.sha256(NDA_FILE).hexdigest()[:32] in text.replace("\n", "")


def _legacy_wrapped_key(secret: str, key: bytes, tenant_id: int, case_id: int) -> str:
    """A file key wrapped as the release before FILE_KEYS did: under an HKDF of DELIVERY_KEY."""
    import base64
    import os

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    kek = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"sigill", info=b"e-delivery kek v1").derive(secret.encode())
    nonce = os.urandom(12)
    aad = f"sigill-e-delivery:{tenant_id}:{case_id}".encode()
    return base64.b64encode(nonce + AESGCM(kek).encrypt(nonce, key, aad)).decode()


def test_older_files_open_with_delivery_key_and_rotate_moves_them_to_file_keys(app_factory, monkeypatch):
    """DELIVERY_KEY in the environment reaches the plugin (it was never loaded: SECRET_KEY was used
    instead), so files of the release before FILE_KEYS still open; `sigill files rotate` re-wraps
    their keys under FILE_KEYS, and again after a key rotation, without touching the files."""
    import base64

    from core import encryption
    from core.models import Case
    from plugins.e_delivery import crypto
    from plugins.e_delivery import service as delivery

    monkeypatch.setenv("DELIVERY_KEY", "delivery key from the environment")
    app = app_factory(FILE_KEYS="2026a:" + "a" * 40)
    assert app.config["DELIVERY_KEY"] == "delivery key from the environment"
    with app.app_context():
        people = support.make_people()
        people.acme.enabled_plugins = ["e_delivery"]
        db.session.commit()
        acme_id = people.acme.id
    with app.app_context(), tenant_context(acme_id):
        people.alice = db.session.merge(people.alice)
        case = cases.create_case(people.alice, "NDA", allowed_methods=["touch"])
        attached = delivery.attach(case, people.alice, "old.txt", NDA_FILE)
        # Make it a file of the release before: its key wrapped under DELIVERY_KEY.
        key = crypto._unwrap(attached.wrapped_key, attached.tenant_id, case.id)
        attached.wrapped_key = _legacy_wrapped_key("delivery key from the environment", key, attached.tenant_id,
                                                   case.id)
        db.session.commit()
        assert delivery.read(attached) == NDA_FILE
        blob_before, case_id = attached.blob_sha256, case.id

    from core.cli import cli

    runner = app.test_cli_runner()
    result = runner.invoke(cli, args=["files", "rotate"])
    assert result.exit_code == 0, result.output
    assert "1 re-encrypted under key '2026a'" in result.output
    assert "0 re-encrypted" in runner.invoke(cli, args=["files", "rotate"]).output  # nothing left

    monkeypatch.delenv("DELIVERY_KEY")  # no longer needed for it
    rotated = app_factory(FILE_KEYS="2026b:" + "b" * 40 + ",2026a:" + "a" * 40)
    assert "1 re-encrypted under key '2026b'" in rotated.test_cli_runner().invoke(cli, args=["files", "rotate"]).output
    only_new = app_factory(FILE_KEYS="2026b:" + "b" * 40)
    with only_new.app_context(), tenant_context(acme_id):
        [kept] = delivery.files_of(db.session.get(Case, case_id))
        assert encryption.key_id_of(base64.b64decode(kept.wrapped_key)) == "2026b"
        assert kept.blob_sha256 == blob_before  # the file itself was never re-encrypted
        assert delivery.read(kept) == NDA_FILE


def test_a_swedish_officer_reads_the_panel_from_the_plugins_own_catalogue(app, nda):
    """e-delivery's texts live in plugins/e_delivery/translations, not the core's catalogue."""
    alice = office(app, "alice@acme.example")
    alice.get("/lang/sv")
    page = alice.get(f"/cases/{nda.case.id}").get_data(as_text=True)
    assert "Levereras efter underskrift" in page and "Delivered after signing" not in page
    assert "Bifoga filen" in page
