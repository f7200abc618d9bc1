"""The case form: parsing, validation and normalisation of what the officer typed.

The form is a plain round trip (no JavaScript needed): adding, moving and removing party rows are
submit buttons that re-render the form with everything kept, including files already accepted
(stored as blobs at once and carried along as signed references).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from core.i18n import _
from core.models.base import utcnow
from core.personal_numbers import normalise_personal_number
from core.phones import normalise_phone
from core.security import keyed_hash
from core.signing import methods as signing_methods
from core.text import clean_filename, line_problem, valid_email

LANGUAGES = ("sv", "en")
ROLES = ("signer", "recipient")
ORDERS = ("parallel", "sequential")
_PARTY_KEY = re.compile(r"^party-(\d+)-name$")


# --- kept uploads --------------------------------------------------------------------------------


@dataclass
class KeptFile:
    """A file already checked and stored as a blob, waiting for the form to be saved."""

    sha256: str
    pages: int
    filename: str

    def reference(self, tenant_id: int) -> str:
        return f"{self._sign(tenant_id)}|{self.sha256}|{self.pages}|{self.filename}"

    @property
    def signed_notice(self):
        """What the officer should know if the file is already signed (None if it is not)."""
        from core.cases.service import signed_by_blob, signed_notice

        names = signed_by_blob(self.sha256)
        return signed_notice(names) if names else None

    def _sign(self, tenant_id: int) -> str:
        return keyed_hash("kept-upload", str(tenant_id), self.sha256, str(self.pages), self.filename)[:32]

    @classmethod
    def all_from(cls, form, tenant_id: int) -> list[KeptFile]:
        """The files a submitted form carries along (each once), as `kept` references."""
        found: list[KeptFile] = []
        for reference in form.getlist("kept"):
            kept = cls.from_reference(reference, tenant_id)
            if kept is not None and kept.sha256 not in {k.sha256 for k in found}:
                found.append(kept)
        return found

    @classmethod
    def from_reference(cls, reference: str, tenant_id: int) -> KeptFile | None:
        """The file a reference names, or None if the reference was not made for this tenant."""
        parts = reference.split("|", 3)
        if len(parts) != 4 or not parts[2].isdigit():
            return None
        kept = cls(sha256=parts[1], pages=int(parts[2]), filename=parts[3])
        return kept if kept._sign(tenant_id) == parts[0] else None


def numbers(form, name: str) -> set[int]:
    """The whole numbers among the submitted values of `name` (ticked checkboxes)."""
    return {int(v) for v in form.getlist(name) if v.isdigit() and len(v) < 10}


def row_action(action: str, rows: list, kept: list) -> bool:
    """"up-N", "down-N", "remove-N" on `rows` and "unkeep-N" on `kept`, in place; True if it was one.
    The no-JavaScript way to edit a list of rows (parties, roles) and of files already accepted."""
    verb, _sep, number = action.partition("-")
    if not number.isdigit():
        return False
    index = int(number)
    if verb == "up" and 0 < index < len(rows):
        rows[index - 1], rows[index] = rows[index], rows[index - 1]
    elif verb == "down" and 0 <= index < len(rows) - 1:
        rows[index + 1], rows[index] = rows[index], rows[index + 1]
    elif verb == "remove" and 0 <= index < len(rows):
        del rows[index]
    elif verb == "unkeep" and 0 <= index < len(kept):
        del kept[index]
    else:
        return False
    return True


def accept_uploads(files: list, tenant, kept: list[KeptFile], file_errors: list[str]) -> None:
    """Check every uploaded file now and keep the good ones (as blobs), whatever else is wrong."""
    from core.cases.service import DocumentRejected, check_upload, signed_by
    from core.storage import blobs

    for upload in files:
        if not upload or not upload.filename:
            continue
        data = upload.read()
        filename = clean_filename(upload.filename)
        try:
            pages = check_upload(tenant, filename, data)
        except DocumentRejected as rejected:
            file_errors.append(str(rejected.message))
            continue
        accepted = KeptFile(sha256=blobs().put(data), pages=pages, filename=filename)
        signed_by(data, accepted.sha256)  # remembered for the notice under the file
        if accepted.sha256 not in {k.sha256 for k in kept}:
            kept.append(accepted)


# --- the form ------------------------------------------------------------------------------------


@dataclass
class PartyRow:
    id: int | None = None
    name: str = ""
    email: str = ""
    phone: str = ""
    personal_number: str = ""
    role: str = "signer"
    language: str = "sv"
    methods: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def blank(self) -> bool:
        return not (self.name or self.email or self.phone or self.personal_number)

    def values(self) -> dict:
        """The service's arguments for this party."""
        return {"id": self.id, "name": self.name, "email": self.email.lower(), "phone": self.phone or None,
                "personal_number": self.personal_number or None, "role": self.role, "language": self.language,
                "methods": list(self.methods) or None}


@dataclass
class CaseForm:
    title: str = ""
    message: str = ""
    methods: list[str] = field(default_factory=lambda: list(signing_methods.DEFAULT_METHODS))
    signing_order: str = "parallel"
    language: str = "sv"
    expires_on: str = ""
    reminder_interval_days: str = "3"
    reminder_max: str = "3"
    parties: list[PartyRow] = field(default_factory=list)
    kept: list[KeptFile] = field(default_factory=list)
    remove_documents: set[int] = field(default_factory=set)
    errors: dict[str, str] = field(default_factory=dict)
    file_errors: list[str] = field(default_factory=list)

    @classmethod
    def defaults(cls, tenant) -> CaseForm:
        language = tenant.setting("default_language") or "sv"
        expires = (utcnow() + timedelta(days=int(tenant.setting("expiry_days")))).date()
        return cls(language=language, expires_on=expires.isoformat(),
                   reminder_interval_days=str(tenant.setting("reminder_interval_days") or 0),
                   reminder_max=str(tenant.setting("reminder_max") or 0),
                   parties=[PartyRow(language=language)])

    @classmethod
    def from_case(cls, case) -> CaseForm:
        parties = [PartyRow(id=p.id, name=p.name, email=p.email, phone=p.phone or "",
                            personal_number=p.personal_number or "", role=p.role, language=p.language,
                            methods=list(p.methods or [])) for p in case.parties]
        return cls(title=case.title, message=case.message or "", methods=list(case.allowed_methods or []),
                   signing_order=case.signing_order, language=case.language,
                   expires_on=case.expires_at.date().isoformat() if case.expires_at else "",
                   reminder_interval_days=str(case.reminder_interval_days or 0),
                   reminder_max=str(case.reminder_max or 0), parties=parties or [PartyRow(language=case.language)])

    @classmethod
    def from_request(cls, form, tenant_id: int) -> CaseForm:
        methods = [m for m in form.getlist("methods") if m in signing_methods.offered()]
        parsed = cls(
            title=form.get("title", "").strip(), message=form.get("message", "").strip(), methods=methods,
            signing_order=_choice(form.get("signing_order"), ORDERS), language=_choice(form.get("language"), LANGUAGES),
            expires_on=form.get("expires_on", "").strip(),
            reminder_interval_days=form.get("reminder_interval_days", "").strip(),
            reminder_max=form.get("reminder_max", "").strip(),
        )
        for index in sorted(int(m.group(1)) for key in form if (m := _PARTY_KEY.match(key))):
            parsed.parties.append(_party_from(form, index))
        parsed.kept = KeptFile.all_from(form, tenant_id)
        parsed.remove_documents = numbers(form, "remove_document")
        return parsed

    # -- row actions (the no-JavaScript way to edit the list) --

    def apply_row_action(self, action: str) -> bool:
        """Handle "add_party", "up-N", "down-N", "remove-N", "unkeep-N"; True if it was one."""
        if action == "add_party":
            self.parties.append(PartyRow(language=self.language))
            return True
        return row_action(action, self.parties, self.kept)

    # -- validation --

    def validate(self) -> bool:
        self.errors = {}
        if not self.title:
            self.errors["title"] = _("Give the case a title.")
        elif len(self.title) > 300:
            self.errors["title"] = _("Use at most 300 characters.")
        elif line_problem(self.title):
            self.errors["title"] = line_problem(self.title)
        if not self.methods:
            self.errors["methods"] = _("Choose at least one signing method.")
        self._validate_expiry()
        self._validate_reminders()
        for row in self.parties:
            validate_party(row, self.methods)
        filled = [row for row in self.parties if not row.blank]
        if not filled:
            self.errors["parties"] = _("Add at least one party.")
        return not self.errors and not any(row.errors for row in filled)

    def _validate_expiry(self) -> None:
        try:
            day = date.fromisoformat(self.expires_on)
        except ValueError:
            self.errors["expires_on"] = _("Give the last day for signing as a date (YYYY-MM-DD).")
            return
        if day <= utcnow().date():
            self.errors["expires_on"] = _("The last day for signing must be in the future.")
        elif day > utcnow().date() + timedelta(days=366):
            self.errors["expires_on"] = _("The last day for signing can be at most a year ahead.")

    def _validate_reminders(self) -> None:
        for name, top in (("reminder_interval_days", 30), ("reminder_max", 10)):
            value = getattr(self, name) or "0"
            if not value.isdigit() or int(value) > top:
                self.errors[name] = _("Give a whole number from 0 to %(top)s.", top=top)

    @property
    def expires_at(self) -> datetime:
        return datetime.combine(date.fromisoformat(self.expires_on), time(23, 59, 59), tzinfo=UTC)

    def case_values(self) -> dict:
        return {"title": self.title, "message": self.message, "allowed_methods": list(self.methods),
                "signing_order": self.signing_order, "language": self.language, "expires_at": self.expires_at,
                "reminder_interval_days": int(self.reminder_interval_days or 0),
                "reminder_max": int(self.reminder_max or 0)}

    def party_values(self) -> list[dict]:
        return [row.values() for row in self.parties if not row.blank]


def _choice(value: str | None, choices: tuple[str, ...]) -> str:
    return value if value in choices else choices[0]


def _party_from(form, index: int) -> PartyRow:
    def get(name: str) -> str:
        return form.get(f"party-{index}-{name}", "").strip()

    raw_id = get("id")
    return PartyRow(
        id=int(raw_id) if raw_id.isdigit() else None, name=get("name"), email=get("email"), phone=get("phone"),
        personal_number=get("personal_number"), role=_choice(get("role"), ROLES),
        language=_choice(get("language"), LANGUAGES),
        methods=[m for m in form.getlist(f"party-{index}-methods") if m in signing_methods.offered()],
    )


def validate_party(row: PartyRow, case_methods: list[str]) -> None:
    """Check a party's details and normalise phone and personal number; errors into `row.errors`."""
    row.errors = {}
    if row.blank:
        return
    if not row.name:
        row.errors["name"] = _("Give the party's name.")
    elif line_problem(row.name):
        row.errors["name"] = line_problem(row.name)
    # A signer without an address signs in person (e.g. on a kiosk tablet); anyone else needs one.
    if (row.email or row.role != "signer") and not valid_email(row.email):
        row.errors["email"] = _("Give a valid email address, like name@example.com.")
    if row.phone:
        try:
            row.phone = normalise_phone(row.phone)
        except ValueError:
            row.errors["phone"] = _("This is not a valid phone number. Give it like 070-123 45 67 or +46 70 123 45 67.")
    if row.personal_number:
        try:
            row.personal_number = normalise_personal_number(row.personal_number)
        except ValueError:
            row.errors["personal_number"] = _("Give a personal identity number with 12 digits, YYYYMMDDNNNN, "
                                              "with a correct check digit.")
    details = {"phone": row.phone, "personal_number": row.personal_number, "email": row.email, "name": row.name}
    for detail, message in signing_methods.missing_for(row.methods or case_methods, row.role, details).items():
        row.errors.setdefault(detail, message)
