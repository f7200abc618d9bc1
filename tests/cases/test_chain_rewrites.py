"""Rewrites by someone who can write the database but holds no secret outside it are found by
`sigill audit verify`: recomputed chains, downgrades, moved events, chains cut short after an
anchor, and (with the key) a rewrite before sealing, through the head printed in the sealed file."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import sqlalchemy as sa

from core.cases import events
from core.cases.anchoring import anchor_heads
from core.cli import cli
from core.extensions import db
from core.models import Case, Event
from tenants.scoping import tenant_context


def _audit(app, *args):
    return app.test_cli_runner().invoke(cli, ["audit", "verify", *map(str, args)])


def _chain(case_id: int) -> list[Event]:
    return db.session.scalars(sa.select(Event).where(Event.case_id == case_id).order_by(Event.seq)
                              .execution_options(all_tenants=True)).all()


def _rechain(case_id: int, hash_of) -> None:
    """What an attacker does after an edit: recompute every hash and link, and the case's head."""
    prev = events.GENESIS
    for event in _chain(case_id):
        event.prev_hash = prev
        event.hash = prev = hash_of(event)
    db.session.execute(sa.update(Case).where(Case.id == case_id).values(event_head=prev)
                       .execution_options(all_tenants=True))
    db.session.commit()


def _plain_sha256(event: Event) -> str:
    body = events.canonical(event.case_id, event.seq, event.kind, event.actor_type, event.actor_id,
                            event.actor_label or "", event.data or {}, event.ip, event.user_agent, event.created_at,
                            event.prev_hash)
    return hashlib.sha256(body).hexdigest()


def _edit_sent(case_id: int) -> None:
    sent = next(e for e in _chain(case_id) if e.kind == "sent")
    sent.data = {**sent.data, "forged": True}


def test_new_events_are_keyed_and_bind_their_tenant(app, make_case, people):
    case_id = make_case()
    chain = _chain(case_id)
    assert {e.key_id for e in chain} == {"sk"}
    assert all(e.hash != _plain_sha256(e) for e in chain)
    assert _audit(app, case_id).exit_code == 0


def test_an_edit_with_every_later_hash_recomputed_without_the_key_is_found(app, make_case):
    case_id = make_case()
    _edit_sent(case_id)
    _rechain(case_id, _plain_sha256)
    result = _audit(app, case_id)
    assert result.exit_code == 1 and "was edited" in result.output


def test_a_downgrade_to_plain_hashes_is_found(app, make_case):
    case_id = make_case()
    _edit_sent(case_id)
    for event in _chain(case_id):
        event.key_id = None
    _rechain(case_id, _plain_sha256)
    result = _audit(app, case_id)
    assert result.exit_code == 1 and "the upgrade did not cover" in result.output


def test_an_event_moved_to_another_organisation_is_found(app, make_case, people):
    case_id = make_case()
    db.session.execute(sa.update(Event).where(Event.case_id == case_id, Event.kind == "sent")
                       .values(tenant_id=people.globex.id).execution_options(all_tenants=True))
    db.session.commit()
    result = _audit(app, case_id)
    assert result.exit_code == 1 and "stored under another organisation (moved)" in result.output


def test_the_last_event_removed_and_the_head_set_back_is_found_by_the_anchor(app, make_case):
    case_id = make_case()
    anchor = anchor_heads()
    assert anchor is not None and anchor.token is None  # no TSA here: see tests/sealing/test_chain_anchors.py
    *kept, last = _chain(case_id)
    db.session.delete(last)
    db.session.execute(sa.update(Case).where(Case.id == case_id).values(event_head=kept[-1].hash,
                                                                        event_count=len(kept))
                       .execution_options(all_tenants=True))
    db.session.commit()
    assert events.verify_chain(db.session.get(Case, case_id, execution_options={"all_tenants": True})) == []
    result = _audit(app, case_id)
    assert result.exit_code == 1 and f"saw {len(kept) + 1} events; only {len(kept)} are stored" in result.output


def test_a_deleted_case_is_found_by_the_anchor(app, make_case):
    case_id = make_case()
    anchor_heads()
    with db.engine.begin() as conn:
        conn.execute(sa.text('DELETE FROM "case" WHERE id = :c'), {"c": case_id})
    result = _audit(app)
    assert result.exit_code == 1 and f"case {case_id} was anchored" in result.output and "gone" in result.output


def test_an_anchor_sees_only_chains_that_moved(app, make_case):
    first, second = make_case(), make_case()
    assert anchor_heads().leaf_count == 2
    assert anchor_heads() is None
    with tenant_context(db.session.get(Case, first, execution_options={"all_tenants": True}).tenant_id):
        events.record(db.session.get(Case, first), "note", "system", data={"text": "later"})
        db.session.commit()
    later = anchor_heads()
    assert later.leaf_count == 1 and later.previous_root is not None
    assert _audit(app).exit_code == 0
    assert second


def test_keys_rotate_old_events_keep_verifying_and_a_missing_key_is_named(app_factory, tmp_path):
    from core.cases import service
    from tests import support

    app = app_factory(EVIDENCE_KEYS="a:" + "1" * 32)
    with app.app_context():
        people = support.make_people()
        acme = people.acme.id
        with tenant_context(acme):
            case = service.create_case(people.alice, "Rotated", "x", ["touch"], "parallel", "en", None, None, None)
            db.session.commit()
            case_id = case.id
    rotated = app_factory(EVIDENCE_KEYS="b:" + "2" * 32 + ",a:" + "1" * 32)
    with rotated.app_context(), tenant_context(acme):
        events.record(db.session.get(Case, case_id), "note", "system", data={"text": "after rotation"})
        db.session.commit()
        assert [e.key_id for e in _chain(case_id)] == ["a", "b"]
        assert _audit(rotated, case_id).exit_code == 0
    forgotten = app_factory(EVIDENCE_KEYS="b:" + "2" * 32)
    with forgotten.app_context():
        result = _audit(forgotten, case_id)
        assert result.exit_code == 1 and "evidence key 'a', which is not configured" in result.output


def test_chains_written_before_evidence_keys_still_verify_after_the_upgrade(app, make_case):
    case_id = make_case()
    for event in _chain(case_id):  # as stored by the version before keys
        event.key_id = None
    _rechain(case_id, _plain_sha256)
    spec = importlib.util.spec_from_file_location("keyed_migration", Path(__file__).parents[2] / "core" / "migrations"
                                                  / "versions" / "9e4f1a7c2d55_keyed_event_chain_and_anchors.py")
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with db.engine.begin() as conn:
        migration.cover_existing_chains(conn)
    assert _audit(app, case_id).exit_code == 0
    case = db.session.get(Case, case_id, execution_options={"all_tenants": True})
    with tenant_context(case.tenant_id):
        events.record(case, "note", "system", data={"text": "first keyed event"})
        db.session.commit()
    assert _audit(app, case_id).exit_code == 0
    assert [e.key_id for e in _chain(case_id)][-1] == "sk"
    _edit_sent(case_id)  # an old, plain-hashed event edited and the plain part recomputed
    chain = _chain(case_id)
    prev = events.GENESIS
    for event in chain[:-1]:
        event.prev_hash = prev
        event.hash = prev = _plain_sha256(event)
    db.session.commit()
    result = _audit(app, case_id)
    assert result.exit_code == 1
