"""A test plugin that adds a signing method through the documented surface only.

"Typed name": the signer types their name as the sender wrote it. It uses nothing but
`register_signing_methods`, `register_blueprints` (for its template folder) and `plugin_info`,
and brings its own Swedish and English texts; no line of `core/` names it. `tests/plugins/
test_example_method.py` follows it through the office form, the API, the signer page, the
receipt and the verify page.
"""

from __future__ import annotations

from flask import Blueprint
from flask_babel import get_locale
from werkzeug.datastructures import MultiDict

from core.plugins import hookimpl
from core.signing.methods import MethodRefused, MethodResult, SigningContext, SigningMethod

NAME = "typed_name"


class Texts:
    """A text in Swedish and English, picked when it is shown (the plugin's own small catalogue)."""

    def __init__(self, en: str, sv: str):
        self.by_language = {"en": en, "sv": sv}

    def __str__(self) -> str:
        locale = get_locale()
        return self.by_language.get(locale.language if locale else "en", self.by_language["en"])


TITLE = Texts("Typed name", "Skrivet namn")
LABEL = Texts("Type your name", "Skriv ditt namn")
PROMPT = Texts("Your name, as in the invitation", "Ditt namn, som i inbjudan")
BUTTON = Texts("Sign with my typed name", "Signera med mitt skrivna namn")
MISMATCH = Texts("Type your name exactly as it is in the invitation.", "Skriv ditt namn precis som i inbjudan.")
TYPED = Texts("Name typed", "Namnet som skrevs")
NEEDS_NUMBER = Texts("A personal identity number is needed for a typed-name signature.",
                     "Ett personnummer behövs för en signatur med skrivet namn.")


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


class TypedNameMethod(SigningMethod):
    name = NAME
    label = LABEL
    title = TITLE
    icon = ('<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" class="method-icon" id="typed-icon">'
            '<path d="M4 18h16" stroke="currentColor" stroke-width="2"/></svg>')
    template = "example_method/sign.html"
    order = 50
    party_needs = {"personal_number": NEEDS_NUMBER}

    def template_context(self, ctx: SigningContext) -> dict:
        return {"prompt": str(PROMPT), "button": str(BUTTON)}

    def verify(self, ctx: SigningContext, form: MultiDict) -> MethodResult:
        typed = " ".join(form.get("typed_name", "").split())[:200]
        if not _same(typed, ctx.party.name):
            raise MethodRefused(str(MISMATCH))
        return MethodResult(evidence={"typed_name": typed}, summary={"typed": True})

    def evidence_lines(self, signature) -> list[tuple[str, str]]:
        return [(str(TYPED), (signature.evidence or {}).get("typed_name", ""))]


@hookimpl
def plugin_info():
    return {"name": "example_method", "title": "Typed name", "description": "Sign by typing your name."}


@hookimpl
def register_blueprints(app):
    return [Blueprint("example_method", __name__, template_folder="templates")]


@hookimpl
def register_signing_methods():
    return [TypedNameMethod]
