"""The chain against what lies outside the database: the head printed in sealed documents, and
anchors timestamped by an RFC 3161 server (the local test TSA), checked offline."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from asn1crypto import pem

from core.cases import events
from core.cases.anchoring import anchor_heads, root_of
from core.cases.audit import printed_chain_head
from core.cli import cli
from core.extensions import db
from core.jobs import drain
from core.models import Case, ChainAnchor, ChainAnchorLeaf, Event
from core.storage import blobs
from tenants.scoping import tenant_context
from tests.completion.test_long_term_seal import pki  # noqa: F401  (the local PKI with its TSA)
from tests.completion.test_sealing_job import sign
from tests.signing.helpers import make_case, signer


@pytest.fixture
def app(app_factory, pki, tmp_path):  # noqa: F811
    roots = tmp_path / "tsa-roots.pem"
    roots.write_bytes(pem.armor("CERTIFICATE", pki.root.dump()))
    app = app_factory(SEAL_P12=str(pki.p12), SEAL_P12_PASSWORD="seal-pass", TSA_URL=pki.tsa_url, SEAL_LEVEL="B-LT",
                      TSA_TRUST_ROOTS=str(roots))
    with app.app_context():
        yield app


@pytest.fixture
def sealed_case_id(app, people, client) -> int:
    made = make_case(people.bob, [signer("Sara Svensson", "sara@example.com", methods=["touch"])], methods=["touch"])
    sign(client, made, "Sara Svensson")
    drain()
    with tenant_context(made.case.tenant_id):
        assert db.session.get(Case, made.case.id).status == "completed"
    return made.case.id


def _audit(app, *args):
    return app.test_cli_runner().invoke(cli, ["audit", "verify", *map(str, args)])


def test_the_sealed_document_prints_the_head_audit_checks(app, sealed_case_id):
    case = db.session.get(Case, sealed_case_id, execution_options={"all_tenants": True})
    with tenant_context(case.tenant_id):
        queued = db.session.scalar(sa.select(Event).where(Event.case_id == case.id, Event.kind == "seal_queued"))
        sealed = blobs().get(case.documents[0].sealed_sha256)
    assert printed_chain_head(sealed) == queued.hash
    result = _audit(app, sealed_case_id)
    assert result.exit_code == 0, result.output


def test_a_rewrite_before_sealing_is_found_even_by_someone_with_the_key(app, sealed_case_id):
    with tenant_context(db.session.get(Case, sealed_case_id, execution_options={"all_tenants": True}).tenant_id):
        chain = db.session.scalars(sa.select(Event).where(Event.case_id == sealed_case_id).order_by(Event.seq)).all()
        sent = next(e for e in chain if e.kind == "sent")
        sent.data = {**sent.data, "forged": True}
        prev = events.GENESIS
        for event in chain:  # recomputed with the real evidence key: the chain alone looks intact
            event.prev_hash = prev
            event.hash = prev = events.event_hash(event)
        db.session.execute(sa.update(Case).where(Case.id == sealed_case_id).values(event_head=prev))
        db.session.commit()
        assert events.verify_chain(db.session.get(Case, sealed_case_id)) == []
    result = _audit(app, sealed_case_id)
    assert result.exit_code == 1 and "the chain was rewritten" in result.output and "receipt prints" in result.output


def test_anchors_are_timestamped_and_checked_offline(app, sealed_case_id, monkeypatch):
    import socket

    anchor = anchor_heads()
    assert anchor.token is not None and anchor.timestamped_at is not None

    def offline(*_args, **_kwargs):
        raise OSError("no network while checking")

    monkeypatch.setattr(socket.socket, "connect", offline)
    result = _audit(app)
    assert result.exit_code == 0, result.output


def test_an_anchor_recomputed_over_rewritten_heads_no_longer_matches_its_timestamp(app, sealed_case_id):
    anchor = anchor_heads()
    leaf = db.session.scalar(sa.select(ChainAnchorLeaf).where(ChainAnchorLeaf.case_id == sealed_case_id))
    leaf.head = "f" * 64
    db.session.commit()
    result = _audit(app, sealed_case_id)
    assert result.exit_code == 1 and "do not give its root" in result.output
    heads = db.session.scalars(sa.select(ChainAnchorLeaf).where(ChainAnchorLeaf.anchor_id == anchor.id)).all()
    from core.cases.anchoring import Head

    db.session.get(ChainAnchor, anchor.id).root = root_of(None, [Head(h.case_id, h.tenant_id, h.event_count, h.head)
                                                                for h in heads])
    db.session.commit()
    result = _audit(app, sealed_case_id)
    assert result.exit_code == 1 and "timestamp does not cover its root" in result.output
