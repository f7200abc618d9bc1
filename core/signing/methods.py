"""Signing methods are pluggable classes.

A method is a subclass of `SigningMethod`. The core ships `touch` and `sms`; a plugin adds more by
implementing the `register_signing_methods` hook and returning its classes::

    from core.plugins import hookimpl
    from core.signing.methods import MethodRefused, MethodResult, SigningMethod

    class BankIDMethod(SigningMethod):
        name = "bankid"
        label = _l("BankID")
        template = "bankid/sign_method.html"   # the method's part of the signing form

        def action(self, ctx, action, form):    # extra steps: "start", "collect" ...
            ...
            return ActionResult(data={"qr": ...})

        def verify(self, ctx, form):            # called when the signer submits the form
            ...                                 # raise MethodRefused(_("...")) to refuse
            return MethodResult(evidence={...}, identity={...}, summary={...})

    @hookimpl
    def register_signing_methods():
        return [BankIDMethod]

The signing service does everything around a method: it resolves the party, checks that the
case is open and it is the party's turn, asks `before_party_signs`, shows and checks the consent
text (documents and their SHA-256 in `ctx.document_hashes`), writes exactly one `Signature` with
IP, user agent, UTC time and the method's evidence, and records the `party_signed` event.
A method only proves who signed and how.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from werkzeug.datastructures import MultiDict

from core.i18n import _

if TYPE_CHECKING:
    from core.models import Case, Document, Party


@dataclass
class SigningContext:
    """What a method may look at while a party signs."""

    case: Case
    party: Party
    documents: list[Document]
    # {"<document id>": {"filename": ..., "sha256": ...}}: what the party signs.
    document_hashes: dict[str, dict[str, str]]
    # SHA-256 over the document hashes in order, and the party's field values when they have
    # fields: binds codes and orders to exactly these documents and entries.
    documents_digest: str
    consent_text: str
    ip: str
    user_agent: str
    language: str
    # The party's field values as they sign them, and their SHA-256 (core.fields.values); None: no fields.
    field_values: dict[str, Any] = field(default_factory=dict)
    field_values_sha256: str | None = None
    # What keeps the party's fields from being signed now, by field name (empty: nothing).
    field_errors: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class MethodResult:
    """A method's proof: `evidence` and `identity` go into the Signature; `summary` into the
    `party_signed` event (no secrets: no codes, no full phone or personal numbers)."""

    evidence: dict[str, Any]
    identity: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass
class ActionResult:
    """The answer to a method's extra step (send a code, start an order ...)."""

    ok: bool = True
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)


class MethodRefused(Exception):
    """The method refuses: `message` is for the signer, in their language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class SigningMethod:
    """Base class of every signing method."""

    name: ClassVar[str] = ""
    label: ClassVar[Any] = ""
    # A Jinja template rendered inside the signing form; gets `method`, `ctx`, `party`, `token`
    # and whatever `template_context` returns.
    template: ClassVar[str] = ""
    # Lower comes first on the page.
    order: ClassVar[int] = 100

    def available(self, party: Party) -> bool:
        """Whether this party can use the method (e.g. SMS needs a phone number)."""
        return True

    def template_context(self, ctx: SigningContext) -> dict[str, Any]:
        return {}

    def action(self, ctx: SigningContext, action: str, form: MultiDict) -> ActionResult:
        """An extra step before signing; POSTed to /s/<token>/method/<name>/<action>."""
        raise MethodRefused(_("This signing method has no such step."))

    def verify(self, ctx: SigningContext, form: MultiDict) -> MethodResult:
        """Check the signer's proof; raise `MethodRefused` to refuse. Runs inside the signing
        transaction: rows a method writes commit together with the Signature."""
        raise NotImplementedError


def core_methods() -> list[type[SigningMethod]]:
    from core.signing.bankid_method import BankIDMethod  # offered only when BANKID_URL is set
    from core.signing.sms_method import SmsMethod
    from core.signing.touch import TouchMethod

    return [BankIDMethod, TouchMethod, SmsMethod]


def registry() -> dict[str, SigningMethod]:
    """Every method available to the current tenant: the core ones plus its enabled plugins'."""
    from core.plugins import current_hooks

    classes = list(core_methods())
    for provided in current_hooks().register_signing_methods():
        classes.extend(provided or [])
    methods = {cls.name: cls() for cls in classes if cls.name}
    return dict(sorted(methods.items(), key=lambda item: (item[1].order, item[0])))


def methods_for(party: Party) -> list[SigningMethod]:
    """The methods this party may sign with, in page order."""
    allowed = set(party.effective_methods)
    return [m for name, m in registry().items() if name in allowed and m.available(party)]
