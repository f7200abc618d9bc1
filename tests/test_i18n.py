"""Translations: the fast lookup in core.i18n gives what Flask-Babel gives, in every context.

Each request gets its own app context, as in serving (the language is cached on `g`)."""

from __future__ import annotations

from flask import render_template_string

from core.i18n import _, _l, force_locale, ngettext, pgettext


def test_messages_follow_the_request_and_forced_languages(app):
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert _("Decline to sign") == "Decline to sign"
        with force_locale("sv"):  # e.g. an email to a Swedish party from an English page
            assert _("Decline to sign") == "Avböj att skriva under"
            assert render_template_string('{{ _("Decline to sign") }}') == "Avböj att skriva under"
        assert _("Decline to sign") == "Decline to sign"
        assert render_template_string('{{ _("Decline to sign") }}') == "Decline to sign"
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "sv"}):
        assert _("Decline to sign") == "Avböj att skriva under"
        assert str(_l("Decline to sign")) == "Avböj att skriva under"


def test_plurals_and_placeholders(app):
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "sv"}):
        assert ngettext("%(num)d page", "%(num)d pages", 1) == "1 sida"
        assert ngettext("%(num)d page", "%(num)d pages", 3) == "3 sidor"
        assert _("From %(org)s", org="Acme AB") == "Från Acme AB"


def test_without_an_app_messages_stay_as_written():
    assert _("Decline to sign") == "Decline to sign"
    assert str(_l("Decline to sign")) == "Decline to sign"


def test_contexts_tell_a_case_status_from_a_party_status(app):
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "sv"}):
        assert render_template_string('{{ _("Signed") }}') == "Signerat"  # a case
        assert render_template_string('{{ pgettext("party status", "Signed") }}') == "Har skrivit under"
        assert pgettext("API key", "Revoked") == "Återkallad"
