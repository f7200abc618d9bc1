"""Signing methods are pluggable classes.

A method is a subclass of `SigningMethod`, registered through the `register_signing_methods` hook
and nowhere else: the core's own methods (`touch`, `sms`, `bankid`) come from the always-on plugin
`core.signing.builtin`, and a plugin adds more the same way. Every list of methods (the office
form, the API's schema and OpenAPI document, the signer page, the receipt, the verify page, the
case timeline) is read from this registry::

    from core.plugins import hookimpl
    from core.signing.methods import MethodRefused, MethodResult, SigningMethod

    class BankIDMethod(SigningMethod):
        name = "bankid"
        label = _l("BankID")                   # the signer page's heading
        title = _l("BankID")                   # its name in the office, on receipts, when verifying
        party_needs = {}                       # e.g. {"phone": _l("A mobile number is needed ...")}
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

After signing, `identity`, `evidence_lines`, `signature_strokes` and `signature_image` say what the
evidence shows on the receipt, the verify page and in signature fields. `installed()` holds every installed plugin's
methods (names of stored signatures stay readable); `registry()` and `offered()` those of the
current tenant.

The signing service does everything around a method: it resolves the party, checks that the
case is open and it is the party's turn, asks `before_party_signs`, shows and checks the consent
text (documents and their SHA-256 in `ctx.document_hashes`), writes exactly one `Signature` with
IP, user agent, UTC time and the method's evidence, and records the `party_signed` event.
A method only proves who signed and how.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from werkzeug.datastructures import MultiDict

from core.i18n import _

if TYPE_CHECKING:
    from core.fields.drawing import Strokes
    from core.models import Case, Document, Party, Signature


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
    # What a code or an order says is signed, when not the case's title (e.g. "12 documents" for a
    # plugin signing several cases at once).
    subject: str | None = None
    # When a plugin signs several cases at once, what an e-ID order shows and signs in place of this
    # case's documents: `listing`, one (heading, line) per item, shortened by the method with "… and
    # N more" to fit the e-ID's limits, then `listing_note` (always shown); `signed_data`, the data
    # signed unseen (e.g. the SHA-256 of the plugin's manifest). None: built from the case.
    listing: list[tuple[str, str]] | None = None
    listing_note: str | None = None
    signed_data: str | None = None
    # Where an e-ID app started on this device returns to (None: the party's signer page).
    return_url: str | None = None
    # The case's fields and stored values as read for this context (core.fields.service.CaseFields),
    # so the signer page shows the same fields the digest above binds without reading them again.
    fields: Any = None


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
    """The method refuses: `message` is for the signer, in their language; `field`, the id of the
    input it is about (the page shows the message at that input and moves focus there)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class SigningMethod:
    """Base class of every signing method: everything the office, the API, the signer page, the
    receipt and the verify page show about a method is read from here."""

    # The method's id: stored in cases, parties and signatures, accepted by the API. Lower case
    # letters, digits and "_", at most 20 characters; unique over every installed plugin.
    name: ClassVar[str] = ""
    # The heading of the method's part of the signer page (lazy-translatable).
    label: ClassVar[Any] = ""
    # What the method is called in the office, on the receipt, on the verify page and in the case's
    # timeline (lazy-translatable, e.g. "Drawn signature"); defaults to `label`.
    title: ClassVar[Any] = ""
    # An inline SVG shown beside the title (trusted markup from the plugin's code; "" for none).
    icon: ClassVar[str] = ""
    # A Jinja template rendered inside the signing form; gets `method`, `ctx`, `party`, `token`
    # and whatever `template_context` returns.
    template: ClassVar[str] = ""
    # Lower comes first on the page and in lists.
    order: ClassVar[int] = 100
    # Party details a signer who may use this method must have: {"phone": _l("A mobile number is
    # needed ...")}. The office form and the API refuse such a party without them, with that message.
    party_needs: ClassVar[dict[str, Any]] = {}

    def configured(self) -> bool:
        """Whether this service is set up for the method (e.g. BankID needs BANKID_URL); an officer
        can offer only configured methods."""
        return True

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

    # -- what the evidence says, after signing (receipt, verify page, signature fields) --

    def identity(self, party: Party, signature: Signature) -> dict[str, str]:
        """Who the method proved the signer to be, for the receipt: any of `name` (a name the method
        verified), `personal_number` (masked when printed) and `phone` (masked when printed)."""
        found = signature.identity or {}
        return {key: found[key] for key in ("name", "personal_number", "phone") if found.get(key)}

    def evidence_lines(self, signature: Signature) -> list[tuple[str, str]]:
        """Lines `(label, text)` describing the signature's evidence on the receipt and the verify
        page, in the current language (no secrets: they are printed for anyone holding the PDF)."""
        return []

    def signature_strokes(self, signature: Signature) -> Strokes | None:
        """The pen strokes of a drawn signature, drawn as lines in the party's signature fields (sharp
        and small; preferred to `signature_image`), or None."""
        return None

    def signature_image(self, signature: Signature) -> bytes | None:
        """A PNG to show in the party's signature fields (a drawn signature without strokes) and on
        the receipt, or None for a printed block with the name, the method's title and the time."""
        return None

    @property
    def display_title(self) -> str:
        return str(self.title or self.label or self.name)


# What a new case, template or API request offers when it names no method: the core's drawn
# signature, which needs nothing but a screen.
DEFAULT_METHODS: tuple[str, ...] = ("touch",)

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,19}$")


class MethodRegistryError(Exception):
    """A plugin's method cannot be registered (bad or duplicate name); raised at start-up."""


def _collect(results) -> dict[str, SigningMethod]:
    methods: dict[str, SigningMethod] = {}
    for provided in results:
        for cls in provided or []:
            if not NAME_PATTERN.match(cls.name or ""):
                raise MethodRegistryError(f"signing method {cls.__module__}.{cls.__qualname__}: name {cls.name!r} "
                                          "must be lower case letters, digits or _, at most 20 characters")
            if cls.name in methods and type(methods[cls.name]) is not cls:
                raise MethodRegistryError(f"two signing methods are named {cls.name!r}: "
                                          f"{type(methods[cls.name]).__module__} and {cls.__module__}")
            methods[cls.name] = cls()
    return dict(sorted(methods.items(), key=lambda item: (item[1].order, item[0])))


def installed(pm=None) -> dict[str, SigningMethod]:
    """Every method of every installed plugin (the core's included), whatever the tenant: what
    names a stored signature's method (receipt, verify page) and what the API documents.
    Checked at start-up (`MethodRegistryError`)."""
    if pm is None:
        from flask import current_app

        pm = current_app.extensions["sigill_pm"]
    cached = getattr(pm, "_sigill_methods", None)
    if cached is None:
        cached = pm._sigill_methods = _collect(pm.hook.register_signing_methods())
    return cached


def registry() -> dict[str, SigningMethod]:
    """Every method available to the current tenant: the core's plus its enabled plugins'."""
    from core.plugins import current_hooks

    hooks = current_hooks()
    found = hooks.__dict__.get("_sigill_methods")
    if found is None:
        found = hooks.__dict__["_sigill_methods"] = _collect(hooks.register_signing_methods())
    return found


def offered() -> list[str]:
    """The methods an officer (or the API) may offer in the current tenant, in order."""
    return [name for name, method in registry().items() if method.configured()]


def titles() -> dict[str, str]:
    """{name: title} of the methods the tenant may offer, in the current language."""
    return {name: registry()[name].display_title for name in offered()}


def all_titles() -> dict[str, str]:
    """{name: title} of every installed method, in the current language (to name stored choices)."""
    return {name: method.display_title for name, method in installed().items()}


def title_of(name: str) -> str:
    """What a method is called, in the current language, for any installed method (a stored
    signature's method stays named after its plugin is switched off); unknown names as they are."""
    method = installed().get(name)
    return method.display_title if method is not None else name


def missing_for(methods: list[str], role: str, details: dict[str, Any]) -> dict[str, str]:
    """{party detail: message} for what a party with these details lacks to sign with `methods`
    (e.g. SMS needs a phone); empty for recipients."""
    if role != "signer":
        return {}
    missing: dict[str, str] = {}
    every = installed()
    for name in methods:
        method = every.get(name)
        for detail, message in (method.party_needs if method is not None else {}).items():
            if not details.get(detail) and detail not in missing:
                missing[detail] = str(message)
    return missing


def icon_of(name: str):
    """The method's icon as markup (trusted: it comes from the method's code), or "" for none."""
    from markupsafe import Markup

    method = installed().get(name)
    return Markup(method.icon) if method is not None and method.icon else ""  # noqa: S704 (from code, not input)


def init_app(app) -> None:
    """Check every installed method at start-up and give templates `method_title`/`method_icon`."""
    installed(app.extensions["sigill_pm"])
    app.jinja_env.globals.update(method_title=title_of, method_icon=icon_of)


def methods_for(party: Party) -> list[SigningMethod]:
    """The methods this party may sign with, in page order."""
    allowed = set(party.effective_methods)
    return [m for name, m in registry().items() if name in allowed and m.available(party)]
