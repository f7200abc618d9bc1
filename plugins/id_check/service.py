"""ID checks of parties: requiring them, reading and checking a document, approval, evidence, retention.

Views (`views.py`) and hooks (`__init__.py`) call these; every function works in the caller's
transaction and the current tenant. Nothing here logs or records the MRZ text or the full
document number: events, the signature's evidence and the receipt hold `Verdict.as_evidence()`
(document kind, issuing state, last four characters of the number, expiry, each check's outcome).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from marshmallow import Schema, fields, validate

from core import encryption
from core.bounded import BoundExceeded, run_bounded
from core.cases import events
from core.extensions import db
from core.i18n import _, _l
from core.models import Case, Party, Tenant
from core.models.base import utcnow
from core.plugins import plugin_settings
from plugins.id_check import capture
from plugins.id_check.checks import Check, DocumentFields, Outcome, Person, Verdict, check_document_fields, check_mrz
from plugins.id_check.models import (
    AWAITING_APPROVAL,
    FAILED,
    IN_PERSON,
    MODES,
    NAME,
    NONE,
    PASSED,
    REMOTE,
    REQUIRED,
    IdCheck,
    IdCheckTemplateRole,
)
from plugins.id_check.ocr import UnreadableImage, read_mrz

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 15 * 1024 * 1024
MAX_ATTEMPTS = 10  # photos or typed lines a party may try before an officer must look
OPEN_CASE = ("draft", "pending")


class Settings(Schema):
    require_mode = fields.String(
        load_default=NONE, validate=validate.OneOf(list(MODES), labels=[
            _l("Not required"), _l("Required: in person by the officer"),
            _l("Required: by the signer before signing")]),
        metadata={"label": _l("ID check for new signers"),
                  "description": _l("What a new case asks of each signer; the officer can change it per party.")})
    approve_remote = fields.Boolean(
        load_default=False, metadata={"label": _l("An officer approves checks made by the signer"),
                                      "description": _l("The signer may sign only once an officer has approved "
                                                        "the check of their photographed document.")})
    retention_days = fields.Integer(
        load_default=90, validate=validate.Range(1, 3650),
        metadata={"label": _l("Days to keep ID photos"),
                  "description": _l("Photos are deleted this many days after the case closes.")})


class CheckError(ValueError):
    """A photo or typed line that cannot be checked (too large, unreadable, take it again ...), as
    sentences in the current language. Nothing was stored."""

    def __init__(self, reasons: list[str]):
        super().__init__(" ".join(reasons))
        self.reasons = reasons


MODE_LABELS = {NONE: _l("Not required"), IN_PERSON: _l("In person by the officer"),
               REMOTE: _l("By the signer before signing")}
STATUS_LABELS = {REQUIRED: _l("Not yet checked"), FAILED: _l("Failed"),
                 AWAITING_APPROVAL: _l("Passed, waiting for an officer's approval"), PASSED: _l("Passed")}
CHECK_LABELS = {
    Check.FORMAT: _l("machine-readable zone"), Check.DOCUMENT_NUMBER_DIGIT: _l("document number check digit"),
    Check.BIRTH_DATE_DIGIT: _l("birth date check digit"), Check.EXPIRY_DATE_DIGIT: _l("expiry date check digit"),
    Check.OPTIONAL_DATA_DIGIT: _l("optional data check digit"), Check.COMPOSITE_DIGIT: _l("composite check digit"),
    Check.NOT_EXPIRED: _l("not expired"), Check.NAME: _l("name"), Check.BIRTH_DATE: _l("date of birth"),
    Check.PERSONAL_NUMBER_DIGIT: _l("personal number check digit"), Check.PERSONAL_NUMBER: _l("personal number"),
}
KIND_LABELS = {"passport": _l("passport"), "id_card": _l("ID card"), "visa": _l("visa"),
               "driving_licence": _l("driving licence")}


def capture_messages() -> dict[str, str]:
    """The "take it again" sentences, in the current language, for the browser's checks."""
    return {problem.value: str(text) for problem, text in capture.MESSAGES.items()}


def camera_texts() -> dict[str, str]:
    """The webcam capture's texts (capture.js), in the current language."""
    return {"use": _("Use the camera"), "take": _("Take the photo"), "cancel": _("Cancel"),
            "fit": _("Hold the document inside the frame, flat and still, without reflections."),
            "failed": _("The camera could not be started. Choose a photo file instead."),
            "taken": _("Photo taken.")}


def settings(tenant_id: int) -> dict:
    return plugin_settings(db.session.get(Tenant, tenant_id), NAME)


def check_of(party: Party) -> IdCheck | None:
    return db.session.scalars(sa.select(IdCheck).where(IdCheck.party_id == party.id)).first()


def checks_of(case: Case) -> dict[int, IdCheck]:
    return {c.party_id: c for c in db.session.scalars(sa.select(IdCheck).where(IdCheck.case_id == case.id))}


def required_check(party: Party) -> IdCheck | None:
    row = check_of(party)
    return row if row is not None and row.required and party.role == "signer" else None


# --- requiring --------------------------------------------------------------------------------------


def template_modes(template_id: int | None) -> dict[str, str]:
    """What a template asks of each role, by role key (roles not listed: the tenant's default)."""
    if template_id is None:
        return {}
    return dict(db.session.execute(sa.select(IdCheckTemplateRole.role_key, IdCheckTemplateRole.mode)
                                   .where(IdCheckTemplateRole.template_id == template_id)).all())


def default_mode(case: Case, party: Party, tenant_default: str | None = None,
                 by_role: dict[str, str] | None = None) -> str:
    """What is asked of a signer the officer did not decide for: their template role's choice, else
    the tenant's default."""
    by_role = template_modes(case.template_id) if by_role is None else by_role
    if party.role_key and party.role_key in by_role:
        return by_role[party.role_key]
    return settings(case.tenant_id)["require_mode"] if tenant_default is None else tenant_default


def apply_default(case: Case) -> None:
    """When a case is sent: each signer the officer did not decide for gets what their template
    role asks, else the tenant's default."""
    tenant_default = settings(case.tenant_id)["require_mode"]
    by_role = template_modes(case.template_id)
    decided = checks_of(case)
    for party in case.parties:
        if party.role != "signer" or party.id in decided:
            continue
        mode = default_mode(case, party, tenant_default, by_role)
        if mode == NONE:
            continue
        db.session.add(IdCheck(case_id=case.id, party_id=party.id, mode=mode, status=REQUIRED))
        events.record(case, "id_check_required", "system", data={"party": party.id, "party_name": party.name,
                                                                  "mode": mode})


def set_template_requirement(template, role_key: str, mode: str) -> None:
    roles = {role["key"] for role in _template_roles(template) if role.get("kind") == "signer"}
    if mode not in MODES or role_key not in roles:
        raise CheckError([_("Choose how the ID is checked.")])
    row = db.session.scalars(sa.select(IdCheckTemplateRole).where(
        IdCheckTemplateRole.template_id == template.id, IdCheckTemplateRole.role_key == role_key)).first()
    if row is None:
        row = IdCheckTemplateRole(template_id=template.id, role_key=role_key)
        db.session.add(row)
    row.mode = mode


def _template_roles(template) -> list[dict]:
    from core.case_templates.models import TemplateVersion

    version = db.session.scalars(sa.select(TemplateVersion).where(
        TemplateVersion.template_id == template.id, TemplateVersion.number == template.version)).first()
    return list(((version.content if version else None) or {}).get("roles") or [])


def set_requirement(case: Case, party: Party, mode: str, officer) -> IdCheck:
    if mode not in MODES:
        raise CheckError([_("Choose how the ID is checked.")])
    if case.status not in OPEN_CASE or party.status in ("signed", "declined") or party.role != "signer":
        raise CheckError([_("The ID check can no longer be changed for this party.")])
    row = check_of(party)
    if row is None:
        row = IdCheck(case_id=case.id, party_id=party.id, mode=NONE, status=REQUIRED)
        db.session.add(row)
    if row.mode != mode:
        row.mode = mode
        if row.status != PASSED or mode == NONE:
            row.status = REQUIRED
        elif mode != _how_passed(row):
            row.status = REQUIRED  # passed the other way: the new way is asked anew
        events.record(case, "id_check_required", "officer", actor_id=officer.id, actor_label=officer.name,
                      data={"party": party.id, "party_name": party.name, "mode": mode})
    return row


def _how_passed(row: IdCheck) -> str | None:
    return (row.result or {}).get("mode")


# --- reading and checking -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    front: bytes
    back: bytes | None = None


def _analyse(images: list[bytes], read: bool) -> tuple[list[str], tuple[str, ...] | None]:
    """In the bounded child: each photo's quality problems, and the MRZ of the first that has one."""
    problems: list[str] = []
    for image in images:
        problems += [p.value for p in capture.measure(image).problems if p.value not in problems]
    if problems or not read:
        return problems, None
    for image in images:
        reading = read_mrz(image)
        if reading.found:
            return [], reading.lines
    return [], None


def read_upload(upload: Upload, read: bool = True) -> tuple[str, ...] | None:
    """The MRZ lines read from the photos, in a bounded child; raises `CheckError` with "take it
    again" reasons when a photo is unreadable or not good enough. With `read` False (the lines
    are typed in because the photo could not be read) only that each is an image is asked."""
    images = [image for image in (upload.back, upload.front) if image]  # an ID card's MRZ is on its back
    if not images:
        raise CheckError([_("Choose a photo of the document.")])
    if any(len(image) > MAX_IMAGE_BYTES for image in images):
        raise CheckError([_("The photo is larger than 15 MB. Take it again or choose a smaller image.")])
    try:
        problems, lines = run_bounded(_analyse, images, read, memory_mb=700, cpu_seconds=30, wall_seconds=40)
    except UnreadableImage:
        raise CheckError([str(capture.UNREADABLE_MESSAGE)]) from None
    except BoundExceeded as exc:
        log.warning("id_check: reading a photo went over its %s bound", exc.kind)
        raise CheckError([_("The photo could not be read in time. Take it again or choose a smaller image.")]) from None
    if problems and read:
        raise CheckError([str(capture.MESSAGES[capture.Problem(p)]) for p in problems])
    return lines


def image_type(data: bytes) -> str:
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def person_of(party: Party) -> Person:
    return Person(name=party.name, personal_number=party.personal_number or None)


def document_fields(form) -> DocumentFields | None:
    """A driving licence's fields as the officer typed them (no MRZ), or None when none were given."""
    names = ("dl_number", "dl_surname", "dl_given_names", "dl_birth_date", "dl_expiry")
    if not any((form.get(name) or "").strip() for name in names):
        return None
    values = {name: (form.get(name) or "").strip() for name in (*names, "dl_state", "dl_personal_number")}
    try:
        birth, expiry = date.fromisoformat(values["dl_birth_date"]), date.fromisoformat(values["dl_expiry"])
    except ValueError:
        birth = expiry = None
    if birth is None or not all(values[name] for name in names[:3]):
        raise CheckError([_("Give the document's number, surname, given names, date of birth and expiry date.")])
    state = (values["dl_state"] or "SWE").upper()[:3]
    return DocumentFields(kind="driving_licence", issuing_state=state, number=values["dl_number"][:40],
                          surname=values["dl_surname"][:100], given_names=values["dl_given_names"][:100],
                          birth_date=birth, expiry=expiry, personal_number=values["dl_personal_number"][:20] or None)


def check_party(case: Case, party: Party, upload: Upload, typed: str, *, officer=None, seen: bool = False,
                fields: DocumentFields | None = None) -> IdCheck:
    """Check the party's document: from the photos, or from the MRZ lines typed in beside them, or
    (in person only) from a driving licence's fields typed in by the officer.

    `officer` given: an in-person check in the office, which needs `seen` (the officer saw the
    person and the document). Otherwise the party's own (remote) check. Stores the verdict, the
    encrypted photos and an event; the caller commits. Raises `CheckError` when nothing could be
    checked (nothing is then stored but the attempt).
    """
    row = required_check(party)
    if row is None or case.status != "pending" or party.status in ("signed", "declined"):
        raise CheckError([_("No ID check is asked of this party now.")])
    in_person = officer is not None
    if in_person and not seen:
        raise CheckError([_("Confirm that you have seen the person and the document.")])
    if not in_person and row.mode != REMOTE:
        raise CheckError([_("Your ID document is checked in person by the officer.")])
    if not in_person and row.status in (PASSED, AWAITING_APPROVAL):
        raise CheckError([_("Your ID document has already been checked.")])
    if not in_person and row.attempts >= MAX_ATTEMPTS:
        raise CheckError([_("Too many attempts. Contact the sender, who can check your ID document in person.")])
    if fields is not None and not in_person:
        raise CheckError([_("Your ID document is checked in person by the officer.")])
    row.attempts += 1
    db.session.flush()
    typed = (typed or "").strip()
    # A photo is kept as the evidence even when the lines or fields are typed.
    lines = read_upload(upload, read=not typed and fields is None)
    if fields is not None:
        how = "fields"
        verdict = check_document_fields(fields, person_of(party), utcnow().date())
    else:
        if typed:
            how, text = "typed", typed
        elif lines is None:
            raise CheckError([str(capture.NOT_FOUND_MESSAGE)])
        else:
            how, text = "photo", "\n".join(lines)
        verdict = check_mrz(text, person_of(party), utcnow().date())
    _store_images(row, upload)
    return _record(case, party, row, verdict, how, officer)


def _store_images(row: IdCheck, upload: Upload) -> None:
    row.front_image = encryption.encrypt(upload.front, row.tenant_id, f"id_check:{row.id}:front") \
        if upload.front else None
    row.back_image = encryption.encrypt(upload.back, row.tenant_id, f"id_check:{row.id}:back") if upload.back else None
    row.image_type = image_type(upload.front or upload.back or b"")
    row.images_deleted_at = None


def read_image(row: IdCheck, side: str) -> bytes | None:
    blob = row.front_image if side == "front" else row.back_image
    return None if blob is None else encryption.decrypt(blob, row.tenant_id, f"id_check:{row.id}:{side}")


def _record(case: Case, party: Party, row: IdCheck, verdict: Verdict, how: str, officer) -> IdCheck:
    mode = IN_PERSON if officer is not None else REMOTE
    now = utcnow()
    needs_approval = (mode == REMOTE and verdict.passed
                      and (settings(case.tenant_id)["approve_remote"] or how == "typed"))
    row.status = (AWAITING_APPROVAL if needs_approval else PASSED) if verdict.passed else FAILED
    row.how = how
    row.checked_at = now
    row.checked_by = officer.id if officer is not None else None
    row.approved_at = row.approved_by = None
    row.result = {**verdict.as_evidence(), "mode": mode, "how": how, "passed": verdict.passed,
                  "checked_by": officer.name if officer is not None else None}
    data = {"party": party.id, "party_name": party.name, **row.result}
    kind = "id_check_passed" if verdict.passed else "id_check_failed"
    if officer is not None:
        event = events.record(case, kind, "officer", actor_id=officer.id, actor_label=officer.name, data=data)
    else:
        event = events.record(case, kind, "party", actor_id=party.id, actor_label=party.name, data=data)
    row.event_id = event.id if row.status == PASSED else None
    log.info("id_check: party %s checked (%s, %s): %s", party.id, mode, how, "passed" if verdict.passed else
             "failed " + ",".join(c.value for c in verdict.failed))
    return row


def approve(case: Case, row: IdCheck, officer) -> None:
    if row.status != AWAITING_APPROVAL or case.status != "pending":
        raise CheckError([_("This ID check is not waiting for approval.")])
    row.status = PASSED
    row.approved_at = utcnow()
    row.approved_by = officer.id
    row.result = {**(row.result or {}), "approved_by": officer.name}
    event = events.record(case, "id_check_approved", "officer", actor_id=officer.id, actor_label=officer.name,
                          data={"party": row.party_id, "party_name": _party_name(row)})
    row.event_id = event.id


def _party_name(row: IdCheck) -> str:
    party = db.session.get(Party, row.party_id)
    return party.name if party is not None else ""


def failure_reasons(row: IdCheck) -> list[str]:
    """The failed checks of the row's last result, as sentences in the current language."""
    from plugins.id_check.checks import MESSAGES

    checks = (row.result or {}).get("checks") or {}
    return [str(MESSAGES[Check(name)]) for name, outcome in checks.items() if outcome == Outcome.FAILED.value]


def passed_checks(result: dict) -> list[str]:
    return [name for name, outcome in (result.get("checks") or {}).items() if outcome == Outcome.PASSED.value]


# --- evidence --------------------------------------------------------------------------------------------


def evidence(row: IdCheck) -> dict:
    result = row.result or {}
    return {"event": row.event_id, "mode": result.get("mode"), "how": result.get("how"),
            "document": result.get("document"), "checks_passed": passed_checks(result),
            "checked_by": result.get("checked_by"), "approved_by": result.get("approved_by"),
            "checked_at": row.checked_at.isoformat() if row.checked_at else None}


def receipt_line(party_name: str, found: dict) -> str:
    """One receipt line, in the current locale (the caller forces the receipt's language)."""
    document = found.get("document") or {}
    how = _("in person by %(officer)s", officer=found.get("checked_by") or "") if found.get("mode") == IN_PERSON \
        else _("remotely by the signer")
    if found.get("approved_by"):
        how += ", " + _("approved by %(officer)s", officer=found["approved_by"])
    checked = found.get("checked_at", "")[:16].replace("T", " ")
    passed = ", ".join(str(CHECK_LABELS[Check(name)]) for name in found.get("checks_passed") or ())
    return _("%(party)s: ID checked %(how)s, %(when)s UTC; %(kind)s issued by %(state)s, number ending %(last4)s, "
             "valid until %(expiry)s; checks passed: %(checks)s.",
             party=party_name, how=how, when=checked, kind=str(KIND_LABELS.get(document.get("kind"), "")),
             state=document.get("issuing_state", ""), last4=document.get("number_last4", ""),
             expiry=document.get("expiry") or "", checks=passed)


# --- retention -------------------------------------------------------------------------------------------


def delete_expired_images(tenant) -> int:
    """The periodic job (per tenant with the plugin on): photos of cases closed more than the
    retention period ago are deleted, each deletion an event on the case."""
    days = plugin_settings(tenant, NAME)["retention_days"]
    cutoff: datetime = utcnow() - timedelta(days=days)
    closed = sa.func.coalesce(Case.closed_at, Case.completed_at)
    rows = db.session.execute(
        sa.select(IdCheck, Case).join(Case, Case.id == IdCheck.case_id)
        .where(sa.or_(IdCheck.front_image.is_not(None), IdCheck.back_image.is_not(None)),
               Case.status.not_in(OPEN_CASE), closed.is_not(None), closed < cutoff)).all()
    for row, case in rows:
        row.front_image = row.back_image = None
        row.images_deleted_at = utcnow()
        events.record(case, "id_check_images_deleted", "system",
                      data={"party": row.party_id, "party_name": _party_name(row), "retention_days": days})
    if rows:
        log.info("id_check: deleted the photos of %d checks past %d days", len(rows), days)
    return len(rows)


def reencrypt_all() -> int:
    from tenants.scoping import tenant_context

    count = 0
    tenant_ids = db.session.scalars(sa.select(IdCheck.tenant_id).distinct().execution_options(all_tenants=True)).all()
    for tenant_id in tenant_ids:
        with tenant_context(tenant_id):
            for row in db.session.scalars(sa.select(IdCheck).where(
                    sa.or_(IdCheck.front_image.is_not(None), IdCheck.back_image.is_not(None)))):
                for side in ("front", "back"):
                    blob = getattr(row, f"{side}_image")
                    if blob is not None:
                        new = encryption.reencrypt(blob, tenant_id, f"id_check:{row.id}:{side}")
                        if new is not None:
                            setattr(row, f"{side}_image", new)
                            count += 1
            db.session.commit()
    return count


def today() -> date:
    return utcnow().date()
