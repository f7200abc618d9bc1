"""A case from a template: documents, parties for its roles, fields and settings copied into a draft.

The case records the template and the version it was made from; nothing of the template is
shared with the case afterwards, so later edits of the template never change it. The office's
form and the API both come here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.case_templates.models import CaseTemplate
from core.case_templates.service import TemplateError, specs_of, use_problems, version_of
from core.cases import events
from core.cases import service as cases
from core.cases.actors import Actor
from core.extensions import db
from core.fields import service as fields
from core.i18n import _
from core.models import Case, Officer
from core.models.base import utcnow
from core.storage import blobs


@dataclass
class Person:
    """Who plays a role: the service's arguments for a party."""

    name: str
    email: str
    phone: str | None = None
    personal_number: str | None = None
    language: str = "sv"


def fixed_person(role: dict) -> Person | None:
    fixed = role.get("fixed")
    return Person(**{k: fixed.get(k) for k in ("name", "email", "phone", "personal_number", "language")}) \
        if fixed else None


def case_from_template(template: CaseTemplate, actor: Actor | Officer, people: dict[str, Person],
                       version: int | None = None, values: dict[str, Any] | None = None, title: str | None = None,
                       message: str | None = None, expires_at: datetime | None = None,
                       owner: Officer | None = None) -> Case:
    """A draft made from version `version` (default: the newest) of `template`, with `people` by
    role key (a role with a fixed person needs none) and prefilled field `values` by field name.
    Raises TemplateError (with `errors` by role key or field name) when something is missing.
    `actor` and `owner` as for `cases.create_case` (a plugin's form may make cases from a template)."""
    actor = Actor.of(actor)
    if template.status != "active":
        raise TemplateError("archived", _("This template is archived. Use it again before making cases from it."))
    content = version_of(template, version).content
    problems = use_problems(content)
    if problems:
        raise TemplateError("not_usable", " ".join(problems))
    chosen = _people(content["roles"], people)
    case = cases.create_case(
        actor, (title or content.get("title") or template.name)[:300],
        message if message is not None else content.get("message", ""), list(content["allowed_methods"]),
        content["signing_order"], content["language"],
        expires_at or utcnow() + timedelta(days=content["expiry_days"]),
        content["reminder_interval_days"], content["reminder_max"], owner=owner,
        template=(template.id, version_of(template, version).number))
    documents = [cases.add_document(case, d["filename"], blobs().get(d["sha256"]), actor=actor,
                                    checked_pages=d.get("page_count"))  # checked when the template was made
                 for d in content["documents"]]
    parties = {}
    for role in content["roles"]:
        person = chosen[role["key"]]
        party = cases.add_party(case, person.name, person.email, person.phone, person.personal_number,
                                role=role["kind"], language=person.language, methods=role.get("methods"),
                                actor=actor, role_key=role["key"])
        parties[role["key"]] = party
    _copy_fields(case, content, documents, parties)
    errors = fields.prefill(case, values or {})
    if errors:
        raise TemplateError("invalid_values", _("Some field values are not valid."), errors=errors)
    events.record_by(case, "made_from_template", actor,
                     data={"template_id": template.id, "template": template.name, "version": case.template_version})
    db.session.flush()
    return case


def _people(roles: list[dict], people: dict[str, Person]) -> dict[str, Person]:
    unknown = {key: [_("The template has no role with this key.")] for key in people
               if key not in {role["key"] for role in roles}}
    if unknown:
        raise TemplateError("unknown_roles", _("Give people only for the template's roles."), errors=unknown)
    chosen, missing = {}, {}
    for role in roles:
        person = people.get(role["key"]) or fixed_person(role)
        if person is None:
            missing[role["key"]] = [_("Give the person for the role %(role)s.", role=role["label"])]
        else:
            chosen[role["key"]] = person
    if missing:
        raise TemplateError("missing_people", _("Give a person for every role."), errors=missing)
    return chosen


def _copy_fields(case: Case, content: dict, documents: list, parties: dict) -> None:
    specs = [spec.moved(document=documents[spec.document].id,
                        assignee=str(parties[spec.assignee].id) if spec.assignee in parties else None)
             for spec in specs_of(content)]
    sizes = {documents[i].id: [tuple(size) for size in d["pages"]] for i, d in enumerate(content["documents"])}
    fields.replace_fields(case, specs, sizes)
