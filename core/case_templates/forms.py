"""The template form: settings, documents and roles, parsed and checked (no JavaScript needed).

Like the case form it is a plain round trip: adding, moving and removing roles are submit
buttons that re-render the form with everything kept, files already accepted included.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.case_templates.schemas import LANGUAGES, ORDERS, ROLE_KEY, ROLE_KINDS
from core.cases.forms import KeptFile, PartyRow, available_methods, numbers, row_action, validate_party
from core.i18n import _


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
    methods: list[str] = field(default_factory=lambda: ["touch"])
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
            methods=[m for m in form.getlist("methods") if m in available_methods()],
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
        methods=[m for m in form.getlist(f"role-{index}-methods") if m in available_methods()],
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
