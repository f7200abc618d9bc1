"""What the case timeline says for each kind of event, in the reader's language.

`KINDS` holds every kind the core records, each with a function from the event's data to its
text. Plugins give the texts of their own kinds through the `event_text` hook. A test
(`tests/cases/test_event_texts.py`) reads the source for every kind that core and plugins can
record and asserts a human text in Swedish and English, so a new kind without a text fails there
rather than reaching an officer as a raw name.
"""

from __future__ import annotations

from collections.abc import Callable

from core.i18n import _

_BANKID_REASONS = {
    # hint and error codes of the BankID RP API v6.0 a finished order can carry
    "userCancel": "cancelled",
    "cancelled": "replaced",
    "expiredTransaction": "timed_out",
    "startFailed": "not_started",
    "certificateErr": "certificate",
    "userDeclinedCall": "cancelled",
    "notSupportedByUserApp": "app_too_old",
    "evidence_rejected": "evidence",
}


def _bankid_reason(data: dict) -> str:
    reason = _BANKID_REASONS.get(data.get("hint") or "") or _BANKID_REASONS.get(data.get("error") or "")
    texts = {
        "cancelled": _("cancelled in the BankID app"),
        "replaced": _("replaced by a newer attempt"),
        "timed_out": _("not confirmed in time"),
        "not_started": _("the BankID app was not started"),
        "certificate": _("the BankID used is blocked or not valid"),
        "app_too_old": _("the BankID app is too old"),
        "evidence": _("BankID's answer did not match this signer or these documents"),
    }
    if reason in texts:
        return texts[reason]
    code = data.get("error") or data.get("hint") or ""
    return _("BankID answered %(code)s", code=code) if code else _("no reason given")


def _gave_up(data: dict) -> str:
    attempts, error = data.get("attempts", 0), data.get("error", "")
    texts = {
        "sealing": _("Sealing gave up after %(attempts)s attempts (%(error)s); the owner was told by email",
                     attempts=attempts, error=error),
        "mail": _("An email could not be delivered after %(attempts)s attempts (%(error)s); the owner was told",
                  attempts=attempts, error=error),
        "webhooks": _("A webhook could not be delivered after %(attempts)s attempts (%(error)s); the owner was told",
                      attempts=attempts, error=error),
    }
    return texts.get(data.get("work")) or _("Background work gave up after %(attempts)s attempts (%(error)s)",
                                            attempts=attempts, error=error)


def _signed(data: dict) -> str:
    from core.signing.methods import title_of

    return _("Signed (%(method)s)", method=title_of(data.get("method", "")))


def _sms_wrong(data: dict) -> str:
    if data.get("locked"):
        return _("Wrong SMS code entered (attempt %(attempt)s); the code is now locked",
                 attempt=data.get("attempt", ""))
    return _("Wrong SMS code entered (attempt %(attempt)s)", attempt=data.get("attempt", ""))


def _name(data: dict) -> str:
    return data.get("name", "")


def _seal_failed(d: dict) -> str:
    if d.get("certified_by"):
        return _("Sealing stopped: %(file)s is certified by %(signer)s, whose certification forbids the footer and "
                 "receipt that sealing adds; it is not tried again automatically. Ask for a copy that is not "
                 "certified and upload it in a new case.", file=d.get("document"), signer=d["certified_by"])
    if d.get("bound") == "memory":
        return _("Sealing stopped: %(file)s needs more memory than a document may use; it is not tried again "
                 "automatically. Upload the document again (it is checked now) in a new case.", file=d.get("document"))
    if d.get("bound"):
        return _("Sealing stopped: %(file)s takes longer than a document may, or breaks the PDF reader; it is not "
                 "tried again automatically. Upload the document again (it is checked now) in a new case.",
                 file=d.get("document"))
    return _("Sealing failed; it will be tried again (%(error)s)", error=d.get("error", ""))


KINDS: dict[str, Callable[[dict], str]] = {
    "created": lambda d: _("Case created"),
    "made_from_template": lambda d: _("Made from the template “%(template)s” (version %(version)s)",
                                      template=d.get("template", ""), version=d.get("version", "")),
    "updated": lambda d: _("Draft changed"),
    "document_added": lambda d: _("Document added: %(file)s", file=d.get("filename", "")),
    "document_removed": lambda d: _("Document removed: %(file)s", file=d.get("filename", "")),
    "party_added": lambda d: _("Party added: %(name)s", name=_name(d)),
    "party_updated": lambda d: _("Party changed: %(name)s", name=_name(d)),
    "party_removed": lambda d: _("Party removed: %(name)s", name=_name(d)),
    "sent": lambda d: _("Sent for signing"),
    "invited": lambda d: _("Link sent to %(name)s", name=_name(d)),
    "link_resent": lambda d: (_("Link sent again to %(name)s; links sent earlier still work", name=_name(d))
                              if d.get("earlier_links") == "kept" else _("New link sent to %(name)s", name=_name(d))),
    "link_replaced": lambda d: _("New link sent to %(name)s; links sent earlier no longer work", name=_name(d)),
    "reminded": lambda d: _("Reminder sent to %(name)s", name=_name(d)),
    "in_person": lambda d: _("%(name)s has no email address and signs in person: no link was sent", name=_name(d)),
    "party_corrected": lambda d: _("Contact details of %(name)s corrected", name=_name(d)),
    "viewed": lambda d: _("Opened the documents"),
    "party_signed": _signed,
    "sms_code_sent": lambda d: _("SMS code sent"),
    "sms_code_not_sent": lambda d: _("The SMS code could not be sent to %(phone)s", phone=d.get("phone", "")),
    "sms_code_wrong": _sms_wrong,
    "sms_code_verified": lambda d: _("SMS code confirmed"),
    "bankid_started": lambda d: _("BankID signing started"),
    "bankid_not_started": lambda d: _("BankID signing could not be started (%(reason)s)", reason=_bankid_reason(d)),
    "bankid_completed": lambda d: _("Confirmed in the BankID app"),
    "bankid_failed": lambda d: _("BankID signing did not finish (%(reason)s)", reason=_bankid_reason(d)),
    "declined": lambda d: _("Declined: %(reason)s", reason=d.get("reason", "")),
    "revoked": lambda d: _("Revoked: %(reason)s", reason=d.get("reason", "")),
    "expired": lambda d: _("Expired"),
    "reassigned": lambda d: _("Handed over to %(name)s", name=d.get("new_owner", "")),
    "note": lambda d: _("Note: %(text)s", text=d.get("text", "")),
    "seal_queued": lambda d: _("All signatures in; sealing the documents"),
    "seal_failed": _seal_failed,
    "seal_retried": lambda d: _("Sealing restarted"),
    "completed": lambda d: _("Documents sealed; every party was sent the signed documents"),
    "job_gave_up": _gave_up,
    "mail_not_sent": lambda d: _("No email was sent to %(name)s: %(email)s is not one valid email address. "
                                 "Correct the address.", name=d.get("name", ""), email=d.get("email", "")),
}


def text(event) -> str:
    """The timeline's text for an event (a plugin's kinds through its `event_text` hook)."""
    data = event.data or {}
    known = KINDS.get(event.kind)
    if known is not None:
        return known(data)
    from flask import current_app

    # Every installed plugin is asked, also one the tenant has since switched off: a timeline's
    # past stays readable. Only a plugin no longer installed leaves its kind without words.
    pm = current_app.extensions["sigill_pm"]
    return pm.hook.event_text(event=event) or _("Event recorded by an extension that is not installed "
                                                "(%(kind)s)", kind=event.kind)
