"""The template form: settings, documents and roles, parsed and checked (no JavaScript needed).

Like the case form it is a plain round trip: adding, moving and removing roles are submit
buttons that re-render the form with everything kept, files already accepted included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from core.case_templates.schemas import LANGUAGES, ORDERS, ROLE_KEY, ROLE_KINDS
from core.cases.forms import KeptFile, PartyRow, numbers, row_action, validate_party
from core.i18n import _
from core.models.base import utcnow
from core.signing import methods as signing_methods
from core.text import line_problem


@dataclass
class RoleRow:
    key: str = ""
    label: str = ""
    kind: str = "signer"
    methods: list[str] = field(default_factory=list)
    fixed: bool = False
    name: str = ""
    email: str = ""
    phone: str = ""
    personal_number: str = ""
    language: str = "sv"
    errors: dict[str, str] = field(default_factory=dict)

    def content(self) -> dict:
        fixed = None
        if self.fixed:
            fixed = {"name": self.name, "email": self.email.lower(), "phone": self.phone or None,
                     "personal_number": self.personal_number or None, "language": self.language}
        return {"key": self.key, "label": self.label, "kind": self.kind, "methods": list(self.methods) or None,
                "fixed": fixed}

    @classmethod
    def from_content(cls, role: dict) -> RoleRow:
        fixed = role.get("fixed") or {}
        return cls(key=role["key"], label=role["label"], kind=role.get("kind", "signer"),
                   methods=list(role.get("methods") or []), fixed=bool(fixed), name=fixed.get("name", ""),
                   email=fixed.get("email", ""), phone=fixed.get("phone") or "",
                   personal_number=fixed.get("personal_number") or "", language=fixed.get("language", "sv"))


@dataclass
class TemplateForm:
    name: str = ""
    description: str = ""
    title: str = ""
    message: str = ""
    methods: list[str] = field(default_factory=lambda: list(signing_methods.DEFAULT_METHODS))
    signing_order: str = "parallel"
    language: str = "sv"
    expiry_days: str = "30"
    reminder_interval_days: str = "3"
    reminder_max: str = "3"
    roles: list[RoleRow] = field(default_factory=list)
    kept: list[KeptFile] = field(default_factory=list)
    remove_documents: set[int] = field(default_factory=set)
    base_version: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    file_errors: list[str] = field(default_factory=list)

    @classmethod
    def defaults(cls, tenant) -> TemplateForm:
        language = tenant.setting("default_language") or "sv"
        return cls(language=language, expiry_days=str(tenant.setting("expiry_days")),
                   reminder_interval_days=str(tenant.setting("reminder_interval_days") or 0),
                   reminder_max=str(tenant.setting("reminder_max") or 0),
                   roles=[RoleRow(label=_("Customer"), language=language)])

    @classmethod
    def from_template(cls, template, content: dict) -> TemplateForm:
        return cls(name=template.name, description=template.description or "", title=content.get("title", ""),
                   message=content.get("message", ""), methods=list(content.get("allowed_methods") or []),
                   signing_order=content.get("signing_order", "parallel"), language=content.get("language", "sv"),
                   expiry_days=str(content.get("expiry_days", 30)),
                   reminder_interval_days=str(content.get("reminder_interval_days", 0)),
                   reminder_max=str(content.get("reminder_max", 0)),
                   roles=[RoleRow.from_content(role) for role in content.get("roles", [])],
                   base_version=template.version)

    @classmethod
    def from_request(cls, form, tenant_id: int) -> TemplateForm:
        parsed = cls(
            name=form.get("name", "").strip(), description=form.get("description", "").strip(),
            title=form.get("title", "").strip(), message=form.get("message", "").strip(),
            methods=[m for m in form.getlist("methods") if m in signing_methods.offered()],
            signing_order=_choice(form.get("signing_order"), ORDERS), language=_choice(form.get("language"), LANGUAGES),
            expiry_days=form.get("expiry_days", "").strip(),
            reminder_interval_days=form.get("reminder_interval_days", "").strip(),
            reminder_max=form.get("reminder_max", "").strip(),
            base_version=int(form.get("base_version", "0")) if form.get("base_version", "").isdigit() else 0,
        )
        indexes = sorted({int(key.split("-")[1]) for key in form if key.startswith("role-") and key.endswith("-label")
                          and key.split("-")[1].isdigit()})
        parsed.roles = [_role_from(form, index) for index in indexes]
        parsed.kept = KeptFile.all_from(form, tenant_id)
        parsed.remove_documents = numbers(form, "remove_document")
        return parsed

    def apply_row_action(self, action: str) -> bool:
        """"add_role", "up-N", "down-N", "remove-N", "unkeep-N"; True if it was one."""
        if action == "add_role":
            self.roles.append(RoleRow(language=self.language))
            return True
        return row_action(action, self.roles, self.kept)

    def validate(self) -> bool:
        self.errors = {}
        if not self.name:
            self.errors["name"] = _("Give the template a name.")
        elif line_problem(self.name):
            self.errors["name"] = line_problem(self.name)
        if line_problem(self.title):
            self.errors["title"] = line_problem(self.title)
        if not self.methods:
            self.errors["methods"] = _("Choose at least one signing method.")
        for name, low, top in (("expiry_days", 1, 366), ("reminder_interval_days", 0, 30), ("reminder_max", 0, 10)):
            value = getattr(self, name)
            if not value.isdigit() or not low <= int(value) <= top:
                self.errors[name] = _("Give a whole number from %(low)s to %(top)s.", low=low, top=top)
        for row in self.roles:
            _validate_role(row, self.methods)
        return not self.errors and not any(row.errors for row in self.roles)

    def settings(self) -> dict:
        """The content's settings (everything but documents, roles and fields)."""
        return {"title": self.title, "message": self.message, "allowed_methods": list(self.methods),
                "signing_order": self.signing_order, "language": self.language,
                "expiry_days": int(self.expiry_days), "reminder_interval_days": int(self.reminder_interval_days),
                "reminder_max": int(self.reminder_max)}


def _choice(value: str | None, choices: tuple[str, ...]) -> str:
    return value if value in choices else choices[0]


def _role_from(form, index: int) -> RoleRow:
    def get(name: str) -> str:
        return form.get(f"role-{index}-{name}", "").strip()

    key = get("key")
    return RoleRow(
        key=key if ROLE_KEY.match(key) else "", label=get("label"), kind=_choice(get("kind"), ROLE_KINDS),
        methods=[m for m in form.getlist(f"role-{index}-methods") if m in signing_methods.offered()],
        fixed=get("fixed") == "yes", name=get("name"), email=get("email"), phone=get("phone"),
        personal_number=get("personal_number"), language=_choice(get("language"), LANGUAGES),
    )


def _validate_role(row: RoleRow, template_methods: list[str]) -> None:
    row.errors = {}
    if not row.label:
        row.errors["label"] = _("Give the role a name, like Customer or Our signatory.")
    elif len(row.label) > 100:
        row.errors["label"] = _("Use at most 100 characters.")
    if not row.fixed:
        return
    person = PartyRow(name=row.name, email=row.email, phone=row.phone, personal_number=row.personal_number,
                      role=row.kind, methods=row.methods)
    validate_party(person, template_methods)
    row.phone, row.personal_number = person.phone, person.personal_number
    row.errors.update(person.errors)


@dataclass
class UseForm:
    """A case from a template: the person for each role, title, message, last day, prefilled values."""

    version: int
    title: str = ""
    message: str = ""
    expires_on: str = ""
    people: dict[str, PartyRow] = field(default_factory=dict)  # by role key
    values: dict[str, str] = field(default_factory=dict)  # prefilled, by field name
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def for_template(cls, template, content: dict) -> UseForm:
        people = {}
        for role in content["roles"]:
            fixed = role.get("fixed") or {}
            people[role["key"]] = PartyRow(name=fixed.get("name", ""), email=fixed.get("email", ""),
                                           phone=fixed.get("phone") or "",
                                           personal_number=fixed.get("personal_number") or "",
                                           role=role["kind"], language=fixed.get("language", content["language"]),
                                           methods=list(role.get("methods") or []))
        expires = (utcnow_date() + timedelta(days=content["expiry_days"])).isoformat()
        return cls(version=template.version, title=content.get("title") or template.name,
                   message=content.get("message", ""), expires_on=expires, people=people)

    @classmethod
    def from_request(cls, form, content: dict) -> UseForm:
        raw_version = form.get("version", "")
        parsed = cls(version=int(raw_version) if raw_version.isdigit() else 0, title=form.get("title", "").strip(),
                     message=form.get("message", "").strip(), expires_on=form.get("expires_on", "").strip())
        parsed.people = {role["key"]: _person_from(form, role) for role in content["roles"]}
        for spec in content["fields"]:
            value = form.get(f"value-{spec['name']}", "").strip()
            if value:
                parsed.values[spec["name"]] = value
        return parsed

    def keep_people(self, other: UseForm) -> None:
        """After the template changed: keep what was typed for the roles that are still there."""
        for key, row in other.people.items():
            if key in self.people and not row.blank:
                self.people[key] = row
        self.title, self.message, self.expires_on = other.title, other.message, other.expires_on
        self.values = dict(other.values)

    def validate(self, methods: list[str]) -> bool:
        self.errors = {}
        if not self.title:
            self.errors["title"] = _("Give the case a title.")
        elif line_problem(self.title):
            self.errors["title"] = line_problem(self.title)
        try:
            day = date.fromisoformat(self.expires_on)
        except ValueError:
            self.errors["expires_on"] = _("Give the last day for signing as a date (YYYY-MM-DD).")
        else:
            if day <= utcnow_date():
                self.errors["expires_on"] = _("The last day for signing must be in the future.")
        for row in self.people.values():
            validate_party(row, methods)
            if row.blank:
                row.errors["name"] = _("Give the party's name.")
        return not self.errors and not any(row.errors for row in self.people.values())

    @property
    def expires_at(self) -> datetime:
        return datetime.combine(date.fromisoformat(self.expires_on), time(23, 59, 59), tzinfo=UTC)


def utcnow_date() -> date:
    return utcnow().date()


def _person_from(form, role: dict) -> PartyRow:
    def get(name: str) -> str:
        return form.get(f"person-{role['key']}-{name}", "").strip()

    return PartyRow(name=get("name"), email=get("email"), phone=get("phone"), personal_number=get("personal_number"),
                    role=role["kind"], language=_choice(get("language"), LANGUAGES),
                    methods=list(role.get("methods") or []))
