"""Actors: a case created and sent without an officer session (the service itself, a public visitor
through a plugin's form), recorded and shown for who did it, in Swedish and English."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.cases import followup, service
from core.cases.actors import Actor, ActorNotAllowed
from core.extensions import db
from core.jobs import drain
from core.models import Case, Event
from core.plugins import hookimpl
from tenants.scoping import tenant_context
from tests import support
from tests.cases import pdfs


class SeenActors:
    """A plugin that keeps who created and sent each case."""

    def __init__(self):
        self.seen = []
        self.templates = []

    @hookimpl
    def plugin_info(self):
        return {"name": "seen_actors", "title": "Seen actors", "description": ""}

    @hookimpl
    def case_created(self, case, actor):
        self.seen.append(("created", actor.kind, actor.label))
        self.templates.append(case.template_id)

    @hookimpl
    def case_sent(self, case, actor):
        self.seen.append(("sent", actor.kind, actor.label))


@pytest.fixture
def plugin():
    return SeenActors()


@pytest.fixture
def app(app_factory, plugin):
    app = app_factory(_plugins=[plugin])
    with app.app_context():
        yield app


@pytest.fixture
def acme(people):
    people.acme.enabled_plugins = ["seen_actors"]
    db.session.commit()
    return people


def _make_and_send(actor: Actor, owner=None) -> int:
    with tenant_context(actor.tenant_id):
        case = service.create_case(actor, "Parking permit", allowed_methods=["touch"], language="en", owner=owner)
        service.add_document(case, "permit.pdf", pdfs.pdf(1), actor=actor)
        service.add_party(case, "Sam Signer", "sam@example.org", language="en", actor=actor)
        service.send_case(case, actor)
        db.session.commit()
        return case.id


def _events(tenant_id: int, case_id: int) -> list[Event]:
    with tenant_context(tenant_id):
        return db.session.scalars(sa.select(Event).where(Event.case_id == case_id).order_by(Event.seq)).all()


def _timeline(app, case_id: int, language: str) -> str:
    alice = app.test_client()
    support.login(alice, "alice@acme.example")
    alice.get(f"/lang/{language}")
    return alice.get(f"/cases/{case_id}").get_data(as_text=True)


def test_the_service_itself_creates_and_sends_a_case_without_an_owner(app, acme, plugin):
    case_id = _make_and_send(Actor.system(acme.acme.id))
    recorded = _events(acme.acme.id, case_id)
    assert [(e.kind, e.actor_type, e.actor_label) for e in recorded] == [
        ("created", "system", "Sigill"), ("document_added", "system", "Sigill"),
        ("party_added", "system", "Sigill"), ("sent", "system", "Sigill"), ("invited", "system", "Sigill")]
    with tenant_context(acme.acme.id):
        assert db.session.get(Case, case_id).owner_id is None
    drain()
    [invitation] = [m for m in support.outbox_messages() if "sam@example.org" in str(m["To"])]
    assert "Acme" in support.body_text(invitation)  # no officer: the organisation asks
    assert plugin.seen == [("created", "system", "Sigill"), ("sent", "system", "Sigill")]


def test_a_public_visitor_creates_and_sends_a_case_owned_by_an_officer(app, acme, plugin):
    actor = Actor.public(acme.acme.id, "Web form: parking permit", id=7)
    case_id = _make_and_send(actor, owner=acme.bob)
    recorded = _events(acme.acme.id, case_id)
    assert {(e.actor_type, e.actor_id, e.actor_label) for e in recorded} == {
        ("public", 7, "Web form: parking permit")}
    with tenant_context(acme.acme.id):
        assert db.session.get(Case, case_id).owner_id == acme.bob.id
    drain()
    [invitation] = [m for m in support.outbox_messages() if "sam@example.org" in str(m["To"])]
    assert acme.bob.name in support.body_text(invitation)
    assert plugin.seen == [("created", "public", "Web form: parking permit"),
                           ("sent", "public", "Web form: parking permit")]


@pytest.mark.parametrize(("language", "public", "system"), [
    ("en", "Web form: parking permit (public visitor)", "Sigill (automatic)"),
    ("sv", "Web form: parking permit (besökare)", "Sigill (automatiskt)"),
])
def test_the_timeline_says_who_acted_in_the_readers_language(app, acme, language, public, system):
    case_id = _make_and_send(Actor.public(acme.acme.id, "Web form: parking permit"), owner=acme.alice)
    with tenant_context(acme.acme.id):
        case = db.session.get(Case, case_id)
        followup.remind_party(case, case.parties[0], actor=None)
        db.session.commit()
    page = _timeline(app, case_id, language)
    assert public in page and system in page


def test_an_officer_is_still_recorded_as_the_officer(app, acme):
    case_id = _make_and_send(acme.alice)
    assert {(e.actor_type, e.actor_id, e.actor_label) for e in _events(acme.acme.id, case_id)} == {
        ("officer", acme.alice.id, f"{acme.alice.name} <{acme.alice.email}>")}
    with tenant_context(acme.acme.id):
        assert db.session.get(Case, case_id).owner_id == acme.alice.id


def test_an_actor_of_another_organisation_cannot_act_on_a_case(app, acme):
    case_id = _make_and_send(acme.alice)
    stranger = Actor.public(acme.globex.id, "Globex form")
    with tenant_context(acme.acme.id):
        case = db.session.get(Case, case_id)
        with pytest.raises(ActorNotAllowed):
            service.revoke_case(case, stranger, "not yours")
        with pytest.raises(ActorNotAllowed):
            followup.add_note(case, stranger, "hello")
        db.session.rollback()
        assert db.session.get(Case, case_id).status == "pending"


def test_a_case_needs_an_organisation_and_an_owner_from_it(app, acme):
    with pytest.raises(ActorNotAllowed):
        service.create_case(Actor.system(), "No organisation")
    with tenant_context(acme.acme.id), pytest.raises(service.CaseError):
        service.create_case(Actor.public(acme.acme.id, "Form"), "Owned elsewhere", owner=acme.charlie)


def test_a_plugin_revokes_a_case_and_the_owner_is_told_by_the_actor_in_mails(app, acme):
    case_id = _make_and_send(acme.alice)
    with tenant_context(acme.acme.id):
        case = db.session.get(Case, case_id)
        followup.reassign_case(case, Actor.system(acme.acme.id, "Retention"), acme.bob)
        db.session.commit()
    drain()
    [handed] = [m for m in support.outbox_messages() if "bob@acme.example" in str(m["To"])]
    assert "Retention handed" in support.body_text(handed)


def test_a_public_form_makes_a_case_from_a_template_and_plugins_see_the_template(app, acme, plugin):
    from core.case_templates.cases import Person, case_from_template
    from tests.case_templates.conftest import build_template

    template = build_template(acme.alice)
    actor = Actor.public(acme.acme.id, "Web form: lease")
    with tenant_context(acme.acme.id):
        case = case_from_template(template, actor, {"tenant": Person("Åsa Öberg", "asa@example.com", None, None,
                                                                     "en")}, owner=acme.alice)
        service.send_case(case, actor)
        db.session.commit()
        assert (case.template_id, case.owner_id) == (template.id, acme.alice.id)
        assert [p.role_key for p in case.parties] == ["tenant", "our-signatory"]
        made = [e for e in case.events if e.kind == "made_from_template"]
        assert [(e.actor_type, e.actor_label) for e in made] == [("public", "Web form: lease")]
    assert plugin.templates == [template.id]
