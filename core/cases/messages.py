"""What a refused case action tells the officer (the office and the API say the same)."""

from __future__ import annotations

from core.cases.service import CaseError
from core.i18n import _


def error_text(error: CaseError) -> str:
    messages = {
        "not_draft": _("Only a draft can be changed or deleted; this case has been sent."),
        "not_pending": _("This is only possible while the case is waiting for signatures."),
        "no_documents": _("Add at least one PDF document before sending."),
        "no_signers": _("Add at least one party who signs before sending."),
        "no_methods": _("Choose at least one signing method."),
        "fields_unassigned": _("Some fields are not assigned to a party. Place fields to assign or delete them."),
        "party_done": _("This party has already signed or declined."),
        "not_invited": _("This party has not been invited yet (the case is signed in order)."),
        "no_email": _("This party has no email address: they sign in person. Add an address to send a link."),
        "reminded_recently": _("This party was reminded less than an hour ago. Try again later."),
        "unknown_officer": _("Choose a colleague in your organisation."),
        "empty_note": _("Write something in the note."),
    }
    return messages.get(error.code, str(error.message))


def send_or_say_why(case, actor) -> tuple[bool, str]:
    """Send a draft just saved: (True, "sent") or (False, why not), for the office to show."""
    from core.cases.service import send_case

    try:
        send_case(case, actor)
    except CaseError as error:
        return False, _("The draft was saved but not sent: %(reason)s", reason=error_text(error))
    return True, _("The case has been sent for signing.")
