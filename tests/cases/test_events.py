"""The event chain: every change is recorded, and `sigill audit verify` finds tampering."""

from __future__ import annotations

import sqlalchemy as sa

from core.cases import events
from core.cli import cli
from core.extensions import db
from core.models import Case, Event
from tenants.scoping import tenant_context


def _case(case_id: int) -> Case:
    return db.session.scalar(sa.select(Case).where(Case.id == case_id).execution_options(all_tenants=True))


def _audit(app, *args):
    return app.test_cli_runner().invoke(cli, ["audit", "verify", *map(str, args)])


def _tamper(sql: str, **params) -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def test_it_chains_every_event_to_the_one_before(app, make_case):
    case_id = make_case()
    with tenant_context(_case(case_id).tenant_id):
        case = _case(case_id)
        chain = case.events
        assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
        assert chain[0].prev_hash == events.GENESIS
        assert all(later.prev_hash == earlier.hash for earlier, later in zip(chain, chain[1:], strict=False))
        assert case.event_head == chain[-1].hash and case.event_count == len(chain)
        assert events.verify_chain(case) == []


def test_it_records_who_did_it(app, make_case, people):
    case_id = make_case()
    with tenant_context(people.acme.id):
        sent = db.session.scalar(sa.select(Event).where(Event.case_id == case_id, Event.kind == "sent"))
    assert (sent.actor_type, sent.actor_id) == ("officer", people.alice.id)
    assert "Alice Andersson" in sent.actor_label


def test_audit_verify_says_ok_for_an_intact_case(app, make_case):
    case_id = make_case()
    result = _audit(app, case_id)
    assert result.exit_code == 0, result.output
    assert f"case {case_id}: ok" in result.output


def test_audit_verify_finds_an_edited_event(app, make_case):
    case_id = make_case()
    _tamper("UPDATE event SET data = :data WHERE case_id = :c AND kind = 'sent'", data='{"forged": true}', c=case_id)
    result = _audit(app, case_id)
    assert result.exit_code == 1
    assert "(sent) was edited" in result.output


def test_audit_verify_finds_a_removed_event(app, make_case):
    case_id = make_case()
    _tamper("DELETE FROM event WHERE case_id = :c AND seq = 2", c=case_id)
    result = _audit(app, case_id)
    assert result.exit_code == 1
    assert "event #2 is missing (removed)" in result.output


def test_audit_verify_finds_a_removed_last_event(app, make_case):
    case_id = make_case()
    _tamper("DELETE FROM event WHERE case_id = :c AND seq = (SELECT max(seq) FROM event WHERE case_id = :c)",
            c=case_id)
    result = _audit(app, case_id)
    assert result.exit_code == 1
    assert "removed" in result.output


def test_audit_verify_finds_reordered_events(app, make_case):
    case_id = make_case()
    _tamper("UPDATE event SET seq = -seq WHERE case_id = :c AND seq IN (2, 3)", c=case_id)
    _tamper("UPDATE event SET seq = CASE seq WHEN -2 THEN 3 ELSE 2 END WHERE case_id = :c AND seq < 0", c=case_id)
    result = _audit(app, case_id)
    assert result.exit_code == 1
    assert "reordered" in result.output


def test_audit_verify_checks_every_case_without_an_argument(app, make_case, people):
    first, second = make_case(), make_case(owner=people.charlie, parties=(("Gus", "gus@example.org"),))
    _tamper("UPDATE event SET actor_label = 'Mallory' WHERE case_id = :c AND seq = 1", c=second)
    result = _audit(app)
    assert result.exit_code == 1
    assert f"case {second}: BROKEN" in result.output and f"case {first}:" not in result.output
    assert "2 case(s) checked, 1 with problems" in result.output


def test_audit_verify_of_an_unknown_case_says_so(app, people):
    result = _audit(app, 9999)
    assert result.exit_code != 0 and "no case with id 9999" in result.output


def test_every_case_is_checked_a_batch_at_a_time(app, make_case):
    from core.cases.audit import verify_cases

    ids = [make_case(title=f"Case {n}") for n in range(5)]
    _tamper("UPDATE event SET data = :data WHERE case_id = :c AND kind = 'sent'", data='{"forged": true}', c=ids[4])
    results = [(case.id, problems) for case, problems in verify_cases(batch=2)]
    assert [case_id for case_id, _ in results] == ids
    assert [case_id for case_id, problems in results if problems] == [ids[4]]
