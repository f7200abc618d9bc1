"""The stamp's proof handed to its chunk jobs (`sign_chunk`): re-encrypted by `sigill files rotate`
so a job still pending when the old key is retired reads it, and released once every chunk job of
the stamp has finished (done or given up), never while one may still run again."""

from __future__ import annotations

import sqlalchemy as sa

from core import encryption
from core.cli import cli
from core.extensions import db
from core.jobs import drain
from core.models import Job, Signature
from tenants.scoping import tenant_context
from tests import support
from tests.plugins.stamp_signature.test_stamp import SARA, lease, stamp_form

OLD = "2026a:" + "a" * 40
NEW = "2026b:" + "b" * 40


def _stamp(client, made) -> str:
    html = client.get(f"/stamp/s/{made[0].token(SARA)}").get_data(as_text=True)
    return client.post(f"/stamp/s/{made[0].token(SARA)}/sign",
                       data=stamp_form(html, [m.case_id for m in made])).get_data(as_text=True)


def _signed(tenant_id: int) -> int:
    with tenant_context(tenant_id):
        db.session.rollback()
        return db.session.scalar(sa.select(sa.func.count()).select_from(Signature))


def test_a_chunk_job_pending_across_a_key_rotation_still_reads_its_proof_after_the_old_key_is_retired(
        app_factory, monkeypatch):
    from plugins.stamp_signature import service

    monkeypatch.setattr(service, "INLINE_CASES", 2)  # 4 cases: signed by jobs of 2 cases each
    monkeypatch.setattr(service, "CHUNK", 2)
    app = app_factory(FILE_KEYS=OLD)
    with app.app_context():
        people = support.make_people()
        people.acme.enabled_plugins = people.globex.enabled_plugins = ["stamp_signature"]
        db.session.commit()
        acme_id, globex_id = people.acme.id, people.globex.id
        made = [lease(people.alice, f"Lease {n}") for n in range(1, 5)]
        other = [lease(people.charlie, f"Globex lease {n}") for n in range(1, 4)]  # another organisation's stamp
        assert "Your stamp signature covers 4 cases" in _stamp(app.test_client(), made)
        assert "Your stamp signature covers 3 cases" in _stamp(app.test_client(), other)
        assert _signed(acme_id) == 0 and _signed(globex_id) == 0, "the jobs have not run yet"

    rotated = app_factory(FILE_KEYS=f"{NEW},{OLD}")  # the new key first, the old one kept
    output = rotated.test_cli_runner().invoke(cli, args=["files", "rotate"]).output
    assert "2 re-encrypted under key '2026b'" in output, output  # one proof per organisation's stamp
    assert "0 re-encrypted" in rotated.test_cli_runner().invoke(cli, args=["files", "rotate"]).output

    retired = app_factory(FILE_KEYS=NEW)  # the old key removed, as `files rotate` said it could be
    with retired.app_context():
        drain()
        assert _signed(acme_id) == 4 and _signed(globex_id) == 3, "every pending chunk job read its proof"
        with tenant_context(acme_id):
            assert {j.state for j in db.session.scalars(sa.select(Job).where(Job.func.like("%sign_chunk")))} == {"done"}
        assert encryption.current_key_id() == "2026b"

