"""Cases for the signer's tests, made through the same case service the office uses."""

from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from PIL import Image, ImageDraw

from core.cases import service as cases
from core.extensions import db
from core.models import Case, Event, Party
from tenants.scoping import tenant_context

SARA = "Sara Svensson"
PER = "Per Persson"

LEASE_LINES = [
    "Lease agreement for flat 12, Storgatan 1, Stockholm",
    "The rent is 9 500 SEK per month, paid in advance.",
    "The lease runs from 1 January until further notice.",
    "Notice period: three months.",
]


def pdf(lines: list[str] | None = None, pages: int = 2) -> bytes:
    """A small real PDF with text lines on every page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, invariant=1)
    for number in range(1, pages + 1):
        y = 780
        for line in lines or LEASE_LINES:
            c.drawString(72, y, f"{line}")
            y -= 20
        c.drawString(72, 60, f"Page {number}")
        c.showPage()
    c.save()
    return out.getvalue()


@dataclass
class Made:
    case: Case
    parties: list[Party]
    links: dict[str, str] = field(default_factory=dict)  # party name -> link
    document_id: int = 0
    case_id: int = 0
    document_sha256: str = ""

    def token(self, name: str) -> str:
        return self.links[name].rsplit("/", 1)[-1]

    def path(self, name: str) -> str:
        return "/s/" + self.token(name)


def make_case(officer, signers: list[dict], methods: list[str] | None = None, order: str = "parallel",
              title: str = "Lease 12", document: bytes | None = None, issue_links: bool = True,
              **case_fields) -> Made:
    """A sent case; with `issue_links` every signer gets a fresh link the test can use."""
    with tenant_context(officer.tenant_id):
        case = cases.create_case(officer, title, message="Please sign the lease.",
                                 allowed_methods=methods or ["touch", "sms"], signing_order=order, **case_fields)
        added = cases.add_document(case, "lease.pdf", document or pdf())
        parties = [cases.add_party(case, **signer) for signer in signers]
        cases.send_case(case, officer)
        made = Made(case, parties, document_id=added.id, document_sha256=added.sha256, case_id=case.id)
        if issue_links:
            for party in parties:
                made.links[party.name] = cases.issue_party_link(party)
        db.session.commit()
        return made


def signer(name: str = "Sara Svensson", email: str = "sara@example.com", phone: str | None = "+46701234567",
           language: str = "en", **extra) -> dict:
    return {"name": name, "email": email, "phone": phone, "language": language, **extra}


def sms_codes(folder) -> list[str]:
    """Codes in the outbox gateway's messages, oldest first."""
    from core.sms import outbox_messages

    return [re.search(r"\b(\d{6})\b", m["message"]).group(1) for m in reversed(outbox_messages(folder))]


def drawn_signature() -> dict:
    strokes = [{"penColor": "#000", "points": [{"x": 10 + i * 5, "y": 50 + (i % 3) * 4, "time": i, "pressure": 0.5}
                                               for i in range(20)]}]
    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(10, 50), (110, 58)], fill=(0, 0, 0, 255), width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return {"touch_strokes": json.dumps(strokes), "touch_png": "data:image/png;base64," + base64.b64encode(
        out.getvalue()).decode(), "touch_width": "600", "touch_height": "200"}


def sign_form(client, path: str, method: str = "touch", **extra) -> dict:
    html = client.get(path).get_data(as_text=True)
    digest = html.split('name="documents_digest" value="')[1].split('"')[0]
    form = {"method": method, "consent": "yes", "documents_digest": digest}
    if method == "touch":
        form.update(drawn_signature())
    form.update(extra)
    return form


def events_of(case, kind: str) -> list[Event]:
    with tenant_context(case.tenant_id):
        return db.session.scalars(sa.select(Event).where(Event.case_id == case.id, Event.kind == kind)).all()
