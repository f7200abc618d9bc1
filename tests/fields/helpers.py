"""A lease case with fields for two signers, made from a template through the services the office uses."""

from __future__ import annotations

from dataclasses import dataclass

from core.case_templates import service as templates
from core.case_templates.cases import Person, case_from_template
from core.cases import service as cases
from core.extensions import db
from core.fields import service as fields
from core.models import Case
from tenants.scoping import tenant_context
from tests.signing.helpers import LEASE_LINES, pdf

ROLES = [{"key": "tenant", "label": "Tenant", "kind": "signer"},
         {"key": "landlord", "label": "Landlord", "kind": "signer"}]


def field(name: str, type_: str, assignee: str, y: float, page: int = 1, **extra) -> dict:
    return {"name": name, "type": type_, "document": 0, "page": page, "x": 0.12, "y": y, "w": 0.4, "h": 0.03,
            "assignee": assignee, "label": extra.pop("label", name.replace("_", " ").capitalize()), **extra}


FIELDS = [
    field("full_name", "text", "tenant", 0.30, required=True, label="Full name"),
    field("rent", "number", "tenant", 0.35, required=True, min="0", label="Rent"),
    field("moving_in", "date", "tenant", 0.40, label="Moving in"),
    field("pets", "checkbox", "tenant", 0.45, w=0.03, h=0.02, label="Pets"),
    field("tenant_signature", "signature", "tenant", 0.55, h=0.07, label="Tenant's signature"),
    field("signed_on", "date_signed", "tenant", 0.63, label="Signed on"),
    field("landlord_note", "textarea", "landlord", 0.70, h=0.08, label="Note"),
    field("landlord_signature", "signature", "landlord", 0.80, h=0.07, label="Landlord's signature"),
]

BOXES = {f["name"]: (f["x"], f["y"], f["w"], f["h"]) for f in FIELDS}


@dataclass
class FieldCase:
    case_id: int
    tenant_id: int
    links: dict[str, str]  # role key -> path /s/<token>

    def case(self) -> Case:
        db.session.expire_all()
        with tenant_context(self.tenant_id):
            return db.session.get(Case, self.case_id)


def lease_template(officer, extra_fields=(), methods=("touch", "sms"), language="en"):
    with tenant_context(officer.tenant_id):
        document = templates.document_entry("lease.pdf", pdf(LEASE_LINES, pages=2))
        content, _found = templates.revised_content(
            None, {"title": "Lease", "message": "", "allowed_methods": list(methods), "signing_order": "parallel",
                   "language": language, "expiry_days": 30, "reminder_interval_days": 0, "reminder_max": 0},
            [dict(r) for r in ROLES], [], [document])
        content["fields"] = [*FIELDS, *extra_fields]
        template = templates.create_template(officer, "Lease with fields", content)
        db.session.commit()
        return template


def lease_with_fields(officer, values=None, send=True, methods=("touch", "sms"), extra_fields=(),
                      language="en") -> FieldCase:
    template = lease_template(officer, extra_fields=extra_fields, methods=methods, language=language)
    with tenant_context(officer.tenant_id):
        people = {"tenant": Person("Sara Svensson", "sara@example.com", "+46701234567", None, "en"),
                  "landlord": Person("Per Persson", "per@example.com", "+46709876543", None, "en")}
        case = case_from_template(template, officer, people, values=values or {})
        links = {}
        if send:
            cases.send_case(case, officer)
            for party in case.parties:
                links[party.role_key] = "/s/" + cases.issue_party_link(party).rsplit("/", 1)[-1]
        db.session.commit()
        return FieldCase(case.id, case.tenant_id, links)


def stored(made: FieldCase) -> dict:
    with tenant_context(made.tenant_id):
        case = made.case()
        rows = {f.id: f.name for f in fields.fields_of(case)}
        return {rows[v.field_id]: v for v in fields.stored_values(case).values()}


def text_in_box(pdf_bytes: bytes, original: bytes, box: tuple[float, float, float, float], page: int = 0) -> str:
    """The words poppler's pdftotext finds on a page of `pdf_bytes` whose middle lies in `box`, a field's
    place relative to the page as viewed in `original` (the sealed page may be taller: the footer
    strip goes below, and nothing above it moves)."""
    import re
    import subprocess
    import tempfile
    from html import unescape

    def words(data: bytes) -> str:
        with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
            file.write(data)
            file.flush()
            return subprocess.run(["pdftotext", "-bbox", "-f", str(page + 1), "-l", str(page + 1), file.name, "-"],
                                  capture_output=True, text=True, check=True).stdout

    size = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', words(original))
    width, height = float(size.group(1)), float(size.group(2))
    x, y, w, h = box
    left, top, right, bottom = x * width, y * height, (x + w) * width, (y + h) * height
    found = []
    for x0, y0, x1, y1, word in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', words(pdf_bytes)):
        middle_x, middle_y = (float(x0) + float(x1)) / 2, (float(y0) + float(y1)) / 2
        if left <= middle_x <= right and top <= middle_y <= bottom:
            found.append(unescape(word))
    return " ".join(found)
