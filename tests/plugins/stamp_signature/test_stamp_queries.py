"""Stamp signature: the stamp page and the signer page's panel cost the same number of SQL
statements whatever the number of waiting cases (a person with hundreds of them waits no longer)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import Case
from tests.plugins.stamp_signature.test_stamp import SARA, stamp_form
from tests.signing.helpers import make_case, pdf, signer
from tests.support import counted_statements


@pytest.fixture
def on(people):
    people.acme.enabled_plugins = ["stamp_signature"]
    db.session.commit()
    return people



def add_cases(people, number: int, start: int, document: bytes):
    made = None
    for i in range(start, start + number):
        officer = people.alice if i % 2 else people.bob  # two senders: the sender filter lists both
        case = make_case(officer, [signer(SARA, "sara@example.com", methods=["touch"])], methods=["touch"],
                         title=f"Lease {i}", document=document, issue_links=made is None)
        made = made or case
    return made


def statements_for(client, path: str) -> int:
    assert client.get(path).status_code == 200  # the first request warms what a process caches once
    with counted_statements() as statements:
        response = client.get(path)
    assert response.status_code == 200
    return len(statements)


# The SQL statements of one GET (after the first, which warms what a process reads once): the
# stamp page reads the link's party once, the first page's parties and cases (ordered on narrow
# rows, read whole for the page only), their documents, then in one statement the cases with the
# party's fields, the opened documents and the senders, and in one the retry list's recent
# manifests and cases waiting for a seal (a parallel case's other parties are not read). The
# signer page adds its panel's parties and cases to its own. It was 10 and 4.
STAMP_PAGE_STATEMENTS = 5
SIGNER_PAGE_STATEMENTS = 3


def test_the_pages_read_no_more_with_60_waiting_cases_than_with_5(app, on, client):
    document = pdf(["The agreement"])
    first = add_cases(on, 5, 0, document)
    stamp, own = f"/stamp/s/{first.token(SARA)}", first.path(SARA)
    few = statements_for(client, stamp), statements_for(client, own)
    html = client.get(stamp).get_data(as_text=True)
    assert html.count('name="digest:') == 5
    assert "5 documents are waiting for you" in client.get(own).get_data(as_text=True)

    add_cases(on, 55, 5, document)
    many = statements_for(client, stamp), statements_for(client, own)
    html = client.get(stamp).get_data(as_text=True)
    assert html.count('name="digest:') == 50 and "More documents are waiting." in html  # the newest page of 50
    assert "More than 50 documents are waiting for you" in client.get(own).get_data(as_text=True)
    assert many == few, f"statements (stamp page, signer page) with 5 cases {few}, with 60 {many}"
    assert many[0] <= STAMP_PAGE_STATEMENTS and many[1] <= SIGNER_PAGE_STATEMENTS, \
        f"statements (stamp page, signer page) {many}, pinned ({STAMP_PAGE_STATEMENTS}, {SIGNER_PAGE_STATEMENTS})"


# SQL statements per case for the whole of a stamp signature by jobs: the POST, the chunk job that
# signs, the seal job and the completion mails' job (measured as the difference between 10 and 4
# cases, so what is paid once per stamp or per job run does not count): 39.3. It was 61.3 before
# the chunk was one transaction, the completion mails one job, the sealed case not refreshed and
# the POST's fields read in one query (46.3), and before the sealing job read the tenant, owner,
# fields and values once, a transaction's later events followed the head it appended or its
# UPDATE returned, and a signature's lock on the case read its state in the same statement.
STATEMENTS_PER_CASE = 40


def _stamp_statements(app, on, client, monkeypatch, number: int, start: int) -> int:
    from core.jobs import drain
    from plugins.stamp_signature import service

    monkeypatch.setattr(service, "INLINE_CASES", 2)
    monkeypatch.setattr(service, "CHUNK", 50)
    first = add_cases(on, number, start, pdf(["The agreement"]))
    drain()  # the invitations
    html = client.get(f"/stamp/s/{first.token(SARA)}?all=1").get_data(as_text=True)
    form = stamp_form(html, [int(i) for i in re.findall(r'name="digest:(\d+)"', html)])
    with counted_statements() as statements:
        result = client.post(f"/stamp/s/{first.token(SARA)}/sign", data=form).get_data(as_text=True)
        drain()
    assert f"Your stamp signature covers {number} cases" in result
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(Case.status == "completed")) == \
        start + number, "every case signed and sealed"
    return len(statements)


def test_a_stamp_signature_by_jobs_costs_a_pinned_number_of_statements_per_case(app, on, client, monkeypatch):
    few = _stamp_statements(app, on, client, monkeypatch, 4, 0)
    many = _stamp_statements(app, on, client, monkeypatch, 10, 4)
    per_case = (many - few) / 6
    assert per_case <= STATEMENTS_PER_CASE, f"{per_case:.1f} statements per case (pinned: {STATEMENTS_PER_CASE})"


def test_sequential_cases_are_listed_once_her_turn_came_and_their_parties_cost_one_statement(app, on, client):
    from core.models import Party
    from tenants.scoping import tenant_context

    document = pdf(["The agreement"])
    first = add_cases(on, 2, 0, document)
    in_order = [make_case(on.alice, [signer("Per Persson", "per@example.com", methods=["touch"]),
                                     signer(SARA, "sara@example.com", methods=["touch"])],
                          methods=["touch"], order="sequential", title=f"In order {i}", document=document,
                          issue_links=False) for i in range(6)]
    with tenant_context(on.acme.id):
        for made in in_order[:4]:  # Per has signed these: Sara's turn
            per = db.session.scalar(sa.select(Party).where(Party.case_id == made.case_id, Party.name == "Per Persson"))
            per.status = "signed"
        db.session.commit()
    stamp = f"/stamp/s/{first.token(SARA)}"
    html = client.get(stamp).get_data(as_text=True)
    assert [f"In order {i}" in html for i in range(6)] == [True] * 4 + [False] * 2
    assert html.count('name="digest:') == 6
    assert statements_for(client, stamp) <= STAMP_PAGE_STATEMENTS + 1  # the sequential cases' parties: one more
