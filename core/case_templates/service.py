"""Templates: create, change (a new version each time), copy, archive, list, save a case as one.

Functions work in the caller's transaction and never commit. A change names the version it was
made from; when a colleague saved a newer one meanwhile, `TemplateChanged` says so instead of
overwriting it. Making a case from a template is `core.case_templates.cases`.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa
from marshmallow import ValidationError

from core.case_templates.models import CaseTemplate, TemplateVersion
from core.case_templates.schemas import load_content
from core.extensions import db
from core.fields import acroform
from core.fields.definitions import FieldSpec, load_specs
from core.fields.geometry import page_boxes
from core.fields.service import fields_of
from core.i18n import _, ngettext
from core.models import Case, Officer
from core.models.base import utcnow
from core.storage import blobs
from core.text import clean_filename

log = logging.getLogger(__name__)

MAX_NAME = 200
PAGE_SIZE = 50


class TemplateError(ValueError):
    """Not possible; `message` is for the officer."""

    def __init__(self, code: str, message: str = "", errors: dict | None = None):
        super().__init__(message or code)
        self.code, self.message, self.errors = code, message or code, errors or {}


class TemplateChanged(TemplateError):
    """A newer version was saved since the one the change started from."""

    def __init__(self, template: CaseTemplate):
        by = template.updated_by.name if template.updated_by else _("a colleague")
        super().__init__("template_changed", _(
            "%(name)s saved a newer version of this template (version %(version)s) while you were working.",
            name=by, version=template.version))
        self.template = template


# --- versions ------------------------------------------------------------------------------------


def _checked(content: dict) -> dict:
    try:
        return load_content(content)
    except ValidationError as error:
        raise TemplateError("invalid_content", _("Some parts of the template need your attention."),
                            errors=error.messages) from None


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())[:MAX_NAME]
    if not name:
        message = _("Give the template a name.")
        raise TemplateError("no_name", message, errors={"name": [message]})
    return name


def create_template(officer: Officer, name: str, content: dict, description: str = "") -> CaseTemplate:
    """A new template of the officer's organisation, with `content` as version 1."""
    checked = _checked(content)
    now = utcnow()
    template = CaseTemplate(tenant_id=officer.tenant_id, name=_clean_name(name), description=description.strip(),
                            status="active", version=1, created_by_id=officer.id, updated_by_id=officer.id,
                            created_at=now, updated_at=now)
    db.session.add(template)
    db.session.flush()
    db.session.add(TemplateVersion(tenant_id=officer.tenant_id, template_id=template.id, number=1, content=checked,
                                   created_by_id=officer.id, created_at=now))
    db.session.flush()
    log.info("template %s created by officer %s", template.id, officer.id)
    return template


def save_version(template: CaseTemplate, officer: Officer, content: dict, base_version: int,
                 name: str | None = None, description: str | None = None) -> TemplateVersion:
    """Save `content` as the template's next version; `base_version` is the one it was made from."""
    _lock(template)
    if base_version != template.version:
        raise TemplateChanged(template)
    checked = _checked(content)
    now = utcnow()
    template.version += 1
    if name is not None:
        template.name = _clean_name(name)
    if description is not None:
        template.description = description.strip()
    template.updated_by_id, template.updated_at = officer.id, now
    version = TemplateVersion(tenant_id=template.tenant_id, template_id=template.id, number=template.version,
                              content=checked, created_by_id=officer.id, created_at=now)
    db.session.add(version)
    db.session.flush()
    return version


def _lock(template: CaseTemplate) -> None:
    """One change at a time (PostgreSQL row lock; SQLite serialises writers itself)."""
    db.session.flush()
    db.session.execute(sa.select(CaseTemplate.id).where(CaseTemplate.id == template.id).with_for_update())
    db.session.refresh(template, attribute_names=["version", "status", "updated_by_id"])


def version_of(template: CaseTemplate, number: int | None = None) -> TemplateVersion:
    number = template.version if number is None else number
    version = db.session.scalar(sa.select(TemplateVersion).where(
        TemplateVersion.template_id == template.id, TemplateVersion.number == number))
    if version is None:
        raise TemplateError("no_such_version", _("The template has no version %(number)s.", number=number))
    return version


def versions(template: CaseTemplate) -> list[TemplateVersion]:
    return list(db.session.scalars(sa.select(TemplateVersion).where(TemplateVersion.template_id == template.id)
                                   .order_by(TemplateVersion.number.desc())))


def specs_of(content: dict) -> list[FieldSpec]:
    return [FieldSpec.from_dict(item) for item in content.get("fields", [])]


# --- copy, archive, list -------------------------------------------------------------------------


def copy_template(template: CaseTemplate, officer: Officer) -> CaseTemplate:
    content = version_of(template).content
    name = _("Copy of %(name)s", name=template.name)[:MAX_NAME]
    return create_template(officer, name, content, template.description)


def set_archived(template: CaseTemplate, officer: Officer, archived: bool) -> None:
    """Archived templates are out of the list and cannot be used; their cases stay as they are."""
    _lock(template)
    status = "archived" if archived else "active"
    if template.status != status:
        template.status, template.updated_by_id, template.updated_at = status, officer.id, utcnow()


def templates(q: str = "", archived: bool = False, limit: int = PAGE_SIZE, offset: int = 0) -> list[CaseTemplate]:
    """The organisation's templates by name; `q` searches names and descriptions."""
    stmt = sa.select(CaseTemplate).where(CaseTemplate.status == ("archived" if archived else "active"))
    q = (q or "").strip()[:200]
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(sa.or_(CaseTemplate.name.ilike(pattern, escape="\\"),
                                 CaseTemplate.description.ilike(pattern, escape="\\")))
    return list(db.session.scalars(stmt.order_by(sa.func.lower(CaseTemplate.name), CaseTemplate.id)
                                   .limit(limit).offset(offset)))


def active_template(template_id: int) -> CaseTemplate | None:
    return db.session.scalar(sa.select(CaseTemplate).where(CaseTemplate.id == template_id,
                                                           CaseTemplate.status == "active"))


# --- documents -----------------------------------------------------------------------------------


@dataclass
class AddedDocument:
    entry: dict  # the content's document entry
    found: list[FieldSpec]  # the PDF's own form fields (document index 0: the caller renumbers)


def document_entry(filename: str, data: bytes) -> AddedDocument:
    """A checked PDF (the caller checked it against the organisation's rules) as a template
    document: stored as a blob, with its page sizes and its own form fields."""
    sha256 = blobs().put(data)
    boxes = page_boxes(data)
    entry = {"sha256": sha256, "filename": clean_filename(filename), "size": len(data), "page_count": len(boxes),
             "pages": [list(box.viewed_size) for box in boxes]}
    return AddedDocument(entry, _offerable(acroform.detect(data), entry["pages"]))


def _offerable(found: list[FieldSpec], sizes: list) -> list[FieldSpec]:
    """The form fields that make valid fields; a filled-in value that would not be accepted
    (too long for its box, characters the font lacks) is left out rather than the field."""
    offered = []
    for spec in found:
        for candidate in (spec, spec.moved(default=None)):
            specs, problems = load_specs([candidate.as_dict()], {spec.document: len(sizes)}, None,
                                         {spec.document: sizes})
            if not problems:
                offered.extend(specs)
                break
    return offered


# --- a case as a template ------------------------------------------------------------------------


def content_from_case(case: Case, role_label) -> dict:
    """The case's documents, parties (as roles, without the people), fields and settings."""
    from core.fields.service import page_sizes

    documents, index_of = [], {}
    for index, document in enumerate(case.documents):
        index_of[document.id] = index
        documents.append({"sha256": document.sha256, "filename": document.filename, "size": document.size,
                          "page_count": document.page_count, "pages": [list(s) for s in page_sizes(document)]})
    roles, key_of, counts = [], {}, {}
    for party in case.parties:
        counts[party.role] = counts.get(party.role, 0) + 1
        key = f"{party.role}-{counts[party.role]}"
        key_of[party.id] = key
        roles.append({"key": key, "label": role_label(party.role, counts[party.role]), "kind": party.role,
                      "methods": list(party.methods) if party.methods else None, "fixed": None})
    specs = [f.spec.moved(document=index_of[f.document_id], assignee=key_of.get(f.party_id)) for f in fields_of(case)]
    expiry = (case.expires_at - case.created_at).days if case.expires_at else 30
    return {"title": case.title, "message": case.message or "", "allowed_methods": list(case.allowed_methods or []),
            "signing_order": case.signing_order, "language": case.language, "expiry_days": max(1, min(366, expiry)),
            "reminder_interval_days": case.reminder_interval_days or 0, "reminder_max": case.reminder_max or 0,
            "documents": documents, "roles": roles, "fields": [spec.as_dict() for spec in specs]}


# --- role keys -----------------------------------------------------------------------------------


def role_key(label: str, used: set[str]) -> str:
    """A stable key for a new role, from its label: "Our signatory" -> "our-signatory"."""
    plain = unicodedata.normalize("NFKD", label.lower()).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:32] or "role"
    key, number = base, 2
    while key in used:
        key, number = f"{base}-{number}", number + 1
    return key


def revised_content(previous: dict | None, settings: dict, roles: list[dict], keep: list[int],
                    added: list[AddedDocument]) -> tuple[dict, int]:
    """The next version's content: `settings`, `roles` (a role without a key gets one), the
    previous documents at the indexes in `keep` and the `added` ones. Fields follow their
    document (and go with it); a field whose role is gone (or only receives the result) waits to
    be assigned again. The added
    documents' own form fields become fields of the first signer role. Returns the content and
    how many form fields were found."""
    previous = previous or {"documents": [], "fields": []}
    used = {role["key"] for role in roles if role.get("key")}
    for role in roles:
        if not role.get("key"):
            role["key"] = role_key(role["label"], used)
            used.add(role["key"])
    old_documents = previous.get("documents", [])
    new_index = {old: new for new, old in enumerate(i for i in keep if 0 <= i < len(old_documents))}
    documents = [old_documents[old] for old in new_index]
    signers = {role["key"] for role in roles if role.get("kind", "signer") == "signer"}
    specs = [spec.moved(document=new_index[spec.document], assignee=spec.assignee if spec.assignee in signers else None)
             for spec in specs_of(previous) if spec.document in new_index]
    first_signer = next((role["key"] for role in roles if role["key"] in signers), None)
    names = {spec.name for spec in specs}
    found = 0
    for document in added:
        index = len(documents)
        documents.append(document.entry)
        for spec in document.found:
            if spec.name in names:
                continue
            names.add(spec.name)
            specs.append(spec.moved(document=index, assignee=first_signer))
            found += 1
    content = {**settings, "documents": documents, "roles": roles, "fields": [spec.as_dict() for spec in specs]}
    return content, found


def use_problems(content: dict) -> list[str]:
    """Why a case cannot be made from this content yet (for the officer), empty when it can."""
    problems = []
    if not content.get("documents"):
        problems.append(_("Add at least one document."))
    if not any(role.get("kind", "signer") == "signer" for role in content.get("roles", [])):
        problems.append(_("Add at least one role that signs."))
    unassigned = sum(1 for spec in content.get("fields", []) if not spec.get("assignee"))
    if unassigned:
        problems.append(ngettext("%(num)d field is not assigned to a role.",
                                 "%(num)d fields are not assigned to a role.", unassigned))
    return problems
