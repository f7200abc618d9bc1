"""Who acts on a case: one value that events, mails and permission checks read.

A case is created, sent and changed by an officer in the office, by the service itself (the
scheduler, a job), by a public visitor through a plugin's form, by a kiosk device, or by an
integration through an API key. Every function of the case service takes an `Actor` (an `Officer`
is accepted too and stands for `Actor.for_officer(officer)`; `None` is the service itself), so a
plugin can create and send a case without an officer session::

    from core.cases.actors import Actor
    from core.cases import service as cases

    actor = Actor.public(tenant.id, "Web form: parking permit", id=submission.id)
    case = cases.create_case(actor, "Parking permit", owner=responsible_officer)
    ...
    cases.send_case(case, actor)

The event records the actor's kind, id and label (`Event.actor_type`, `actor_id`, `actor_label`);
the timeline shows the label with the kind in the reader's language (`describe`). An actor of one
organisation cannot act on another's case (`check`), whatever the caller's tenant scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.i18n import _

if TYPE_CHECKING:
    from core.models import Case, Officer, Party

# "party" is a signer or recipient acting through their link (the signing service records those).
KINDS = ("officer", "system", "public", "device", "api", "party")
SYSTEM_LABEL = "Sigill"


class ActorNotAllowed(PermissionError):
    """The actor may not act on this case (another organisation's)."""


@dataclass(frozen=True)
class Actor:
    kind: str
    id: int | None = None
    label: str = ""
    # The actor's organisation; None only for the service itself, which acts for every tenant.
    tenant_id: int | None = None
    # The officer behind an "officer" actor (an "api" actor may name the key's officer too).
    officer: Officer | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown actor kind {self.kind!r}")
        if self.kind != "system" and self.tenant_id is None:
            raise ValueError(f"a {self.kind} actor belongs to an organisation (tenant_id)")

    # -- the kinds --

    @classmethod
    def for_officer(cls, officer: Officer) -> Actor:
        return cls("officer", officer.id, f"{officer.name} <{officer.email}>", officer.tenant_id, officer)

    @classmethod
    def system(cls, tenant_id: int | None = None, label: str = SYSTEM_LABEL) -> Actor:
        """The service itself: the scheduler, a job, a plugin's periodic work."""
        return cls("system", None, label, tenant_id)

    @classmethod
    def public(cls, tenant_id: int, label: str, id: int | None = None) -> Actor:  # noqa: A002
        """A visitor without an account, through a plugin's public page; `label` says which page
        (and, if the plugin knows it, who: "Web form: parking permit, Sara Svensson")."""
        return cls("public", id, label[:300], tenant_id)

    @classmethod
    def device(cls, tenant_id: int, id: int | None, label: str) -> Actor:  # noqa: A002
        """A registered device acting on its own (a kiosk tablet)."""
        return cls("device", id, label[:300], tenant_id)

    @classmethod
    def api(cls, tenant_id: int, key_id: int, label: str, officer: Officer | None = None) -> Actor:
        """An integration through an API key (`label`: the key's name)."""
        return cls("api", key_id, label[:300], tenant_id, officer)

    @classmethod
    def for_party(cls, party: Party) -> Actor:
        label = f"{party.name} <{party.email}>" if party.email else party.name
        return cls("party", party.id, label, party.tenant_id)

    @classmethod
    def of(cls, who: Actor | Officer | None) -> Actor:
        """An `Actor` from what a caller passes: an Actor, an Officer, or None (the service itself)."""
        if who is None:
            return cls.system()
        if isinstance(who, Actor):
            return who
        return cls.for_officer(who)

    # -- what others read --

    @property
    def name(self) -> str:
        """How mails name the actor ("Alice Andersson handed you the case ...")."""
        if self.officer is not None:
            return self.officer.name
        return self.label or SYSTEM_LABEL

    def check(self, case: Case) -> None:
        """Raise `ActorNotAllowed` unless the actor may act on the case (same organisation)."""
        if self.tenant_id is not None and self.tenant_id != case.tenant_id:
            raise ActorNotAllowed(f"{self.kind} actor of tenant {self.tenant_id} on case {case.id}")

    def event_fields(self) -> dict[str, Any]:
        return {"actor_type": self.kind, "actor_id": self.id, "actor_label": self.label}


def describe(actor_type: str, actor_label: str) -> str:
    """Who did it, as the timeline says it in the reader's language: the label and, unless it is an
    officer, what kind of actor they are."""
    label = actor_label or _("the service")
    kinds = {
        "party": _("party"),
        "system": _("automatic"),
        "public": _("public visitor"),
        "device": _("device"),
        "api": _("API key"),
    }
    kind = kinds.get(actor_type)
    return f"{label} ({kind})" if kind else label
