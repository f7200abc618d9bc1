"""The signing receipt: what happened in a case, printed on A4 pages after the documents.

The receipt shows identities masked (personal numbers as 19800101-XXXX, phone numbers
with hidden middle digits) because it travels with the document to everyone who gets
it. Texts are plain dicts for Swedish and English: this module runs outside Flask.
"""

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Literal
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import qrcode
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.rw_common import find_inherited_value_in_tree
from pyhanko.pdf_utils.writer import copy_into_new_writer
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from reportlab.platypus import Flowable, Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.fields.drawing import Strokes, draw_strokes, ink_size
from core.sealing import rawpages
from core.sealing.footer import PageCanvas
from core.sealing.rawpages import FastReader
from core.sealing.stamp import Overlay, import_overlay, open_writer, page_refs, text_font, write
from core.security import mask_personal_number, mask_phone

Language = Literal["sv", "en"]
PAGE_SIZE = A4
QR_SIZE = 32 * mm
QR_MASK = 1  # any of the eight is valid QR; 1 flips whole rows, keeping horizontal runs
INHERITABLE = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Signing receipt",
        "organisation": "Organisation",
        "case": "Case",
        "case_id": "Case id",
        "documents": "Documents",
        "document": "Document",
        "pages": "Pages",
        "original_sha256": "Original SHA-256",
        "parties": "Parties",
        "role": "Role",
        "method": "Method",
        "identity": "Identity",
        "invited": "Invited",
        "viewed": "Viewed",
        "signed": "Signed",
        "not_yet": "—",
        "subject_names": {
            "common_name": "Name", "organization_name": "Organisation", "organizational_unit_name": "Unit",
            "organization_identifier": "Organisation id", "country_name": "Country", "locality_name": "Locality",
            "state_or_province_name": "State or province", "email_address": "Email", "serial_number": "Serial number",
        },
        "drawn_signature": "Drawn signature",
        "evidence": "Evidence",
        "evidence_head": "Head of the event chain (SHA-256)",
        "fingerprint": "Fingerprint",
        "seal": "Seal",
        "seal_subject": "Sealed by",
        "seal_level": "Signature level",
        "timestamp": "Timestamp",
        "no_timestamp": "none (the seal time is the server's clock)",
        "sealed_at": "Sealed at",
        "verify": "How to check this document",
        "step_1": "Open {url} or scan the QR code.",
        "step_2": "Upload the PDF. The service compares it byte for byte with the sealed "
        "original and checks the seal.",
        "step_3": "Or type the fingerprint {fingerprint}; case, spaces and dashes do not matter.",
        "step_4": "A PDF reader's signature panel shows the seal by {subject}; any change "
        "after sealing makes the seal invalid.",
        "email": "Email link",
        "field_values": "Filled-in fields",
        "field_values_sha256": "Fields, SHA-256",
        "many_fields": "{count} fields, see the document",
        "signer": "Signer",
        "approver": "Approver",
        "viewer": "Receives a copy",
    },
    "sv": {
        "title": "Signeringskvitto",
        "organisation": "Organisation",
        "case": "Ärende",
        "case_id": "Ärende-id",
        "documents": "Dokument",
        "document": "Dokument",
        "pages": "Sidor",
        "original_sha256": "Originalets SHA-256",
        "parties": "Parter",
        "role": "Roll",
        "method": "Metod",
        "identity": "Identitet",
        "invited": "Inbjuden",
        "viewed": "Öppnade",
        "signed": "Signerade",
        "not_yet": "—",
        "subject_names": {
            "common_name": "Namn", "organization_name": "Organisation", "organizational_unit_name": "Enhet",
            "organization_identifier": "Organisationsnummer", "country_name": "Land", "locality_name": "Ort",
            "state_or_province_name": "Län eller delstat", "email_address": "E-post", "serial_number": "Serienummer",
        },
        "drawn_signature": "Ritad underskrift",
        "evidence": "Bevis",
        "evidence_head": "Händelsekedjans senaste länk (SHA-256)",
        "fingerprint": "Fingeravtryck",
        "seal": "Försegling",
        "seal_subject": "Förseglat av",
        "seal_level": "Signaturnivå",
        "timestamp": "Tidsstämpel",
        "no_timestamp": "ingen (förseglingstiden är serverns klocka)",
        "sealed_at": "Förseglat",
        "verify": "Så kontrollerar du dokumentet",
        "step_1": "Öppna {url} eller skanna QR-koden.",
        "step_2": "Ladda upp PDF-filen. Tjänsten jämför den byte för byte med det förseglade "
        "originalet och kontrollerar förseglingen.",
        "step_3": "Eller skriv in fingeravtrycket {fingerprint}; versaler, mellanslag och "
        "bindestreck spelar ingen roll.",
        "step_4": "En PDF-läsares signaturpanel visar förseglingen av {subject}; varje ändring "
        "efter förseglingen gör den ogiltig.",
        "email": "E-postlänk",
        "field_values": "Ifyllda fält",
        "field_values_sha256": "Fält, SHA-256",
        "many_fields": "{count} fält, se dokumentet",
        "signer": "Undertecknare",
        "approver": "Godkännare",
        "viewer": "Får en kopia",
    },
}


@dataclass(frozen=True)
class ReceiptDocument:
    name: str
    sha256: str
    pages: int


@dataclass(frozen=True)
class ReceiptParty:
    """A party as the evidence recorded them; masking happens when printing."""

    name: str
    role: str
    method: str
    # The method's name in the receipt's language and what it says of its evidence (label, text);
    # both from the signing method (`SigningMethod.display_title`, `evidence_lines`).
    method_title: str = ""
    evidence: tuple[tuple[str, str], ...] = ()
    email: str | None = None
    phone: str | None = None
    verified_name: str | None = None  # a name the signing method verified (BankID)
    personal_number: str | None = None
    invited_at: datetime | None = None
    viewed_at: datetime | None = None
    signed_at: datetime | None = None
    # The values the party filled in and signed, as (label, value as printed), and their SHA-256.
    field_values: tuple[tuple[str, str], ...] = ()
    field_values_sha256: str | None = None
    signature_image: bytes | None = None  # the drawn signature (PNG), printed beside the party
    signature_strokes: Strokes | None = None  # or its pen strokes, drawn as lines (preferred)


@dataclass(frozen=True)
class ReceiptSeal:
    certificate_subject: str
    level: str
    timestamp_authority: str | None = None
    sealed_at: datetime | None = None
    # The certificate's subject as (attribute, value), e.g. ("common_name", "Sigill"): printed with
    # labels in the receipt's language. Without it, `certificate_subject` is printed as it is.
    subject_fields: tuple[tuple[str, str], ...] = ()

    @property
    def signer_name(self) -> str:
        """Who the seal is by, in one name (for the sentence about the signature panel)."""
        names = dict(self.subject_fields)
        return names.get("common_name") or names.get("organization_name") or self.certificate_subject


@dataclass(frozen=True)
class ReceiptSection:
    """Extra content from plugins: a heading and plain text lines."""

    heading: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReceiptData:
    organisation: str
    case_title: str
    case_id: str
    documents: tuple[ReceiptDocument, ...]
    parties: tuple[ReceiptParty, ...]
    evidence_head: str
    fingerprint: str
    verify_url: str
    seal: ReceiptSeal
    extra_sections: tuple[ReceiptSection, ...] = field(default_factory=tuple)
    time_zone: str = "Europe/Stockholm"  # the organisation's, shown beside UTC


def render_receipt(
    receipt: ReceiptData,
    language: Language,
    extra_pages: Callable[[canvas.Canvas], None] | None = None,
) -> bytes:
    """The receipt as a standalone A4 PDF, deterministic for the same data.

    `extra_pages` may draw more pages after the receipt's own, in the same document (the
    pipeline draws the footers there, see stamp.Footer).
    """
    texts = {**TEXTS[language], "zone": receipt.time_zone}
    styles = _styles()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=PAGE_SIZE,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{texts['title']}: {receipt.case_title}",
        author=receipt.organisation,
        invariant=1,
    )
    document.build(_story(receipt, texts, styles), canvasmaker=_canvas_maker(extra_pages))
    return buffer.getvalue()


def receipt_alone(rendered: bytes, extra_pages: int) -> bytes:
    """The receipt as a file of its own, from a document `render_receipt` drew with `extra_pages`
    more pages after the receipt's (the pipeline's footers and drawn values).

    The sealing job keeps this file beside the sealed one; cutting it out of the document the
    pipeline drew anyway costs far less than drawing the receipt a second time. Only what the
    receipt's pages use is kept (nothing of the extra pages); the document information and ID
    stay the ones reportlab wrote, so the same rendering gives the same bytes. reportlab's file is
    cut as bytes (`_cut_pages`: ~0.2 ms against ~2 ms for copying it through pyHanko's objects,
    which stays the way for anything that does not look as reportlab writes it).
    """
    if not extra_pages:
        return rendered
    cut = _cut_pages(rendered, extra_pages)
    return cut if cut is not None else _copied_without(rendered, extra_pages)


_XREF = re.compile(rb"xref\n0 (\d+)\n")
_XREF_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])[ \r]\n")
_OBJECT_HEADER = re.compile(rb"(\d+) 0 obj\n")
_REFERENCE = re.compile(rb"(\d+) 0 R\b")
_KIDS = re.compile(rb"/Kids \[((?: \d+ 0 R)*) \]")
_COUNT = re.compile(rb"/Count (\d+)")
_INFO = re.compile(rb"/Info (\d+) 0 R")
_ROOT = re.compile(rb"/Root (\d+) 0 R")


@dataclass
class _Layout:
    """A reportlab file as laid out: object bodies by number (each "N 0 obj ... endobj"), the
    trailer, the catalogue's, information's and page tree's numbers and the pages in order."""

    bodies: dict[int, bytes]
    first_offset: int
    size: int
    trailer: bytes
    root: int
    info: int
    tree: int
    pages: list[int]


def _layout(rendered: bytes) -> _Layout | None:
    """The layout of a file reportlab wrote, or None when it is not laid out that way (one
    cross-reference table, objects in number order, one flat page tree)."""
    try:
        xref_at = int(rendered[rendered.rindex(b"startxref") + 9 :].split()[0])
    except ValueError:
        return None
    header = _XREF.match(rendered, xref_at)
    trailer_at = rendered.find(b"trailer", xref_at)
    if header is None or trailer_at < 0:
        return None
    size = int(header.group(1))
    entries = _XREF_ENTRY.findall(rendered, header.end(), trailer_at)
    if len(entries) != size or any(kind != b"n" for _offset, _generation, kind in entries[1:]):
        return None
    offsets = [int(offset) for offset, _generation, _kind in entries[1:]]
    if not offsets or offsets != sorted(offsets) or offsets[-1] >= xref_at:
        return None
    bodies: dict[int, bytes] = {}
    for number, (start, end) in enumerate(zip(offsets, [*offsets[1:], xref_at], strict=True), 1):
        found = _OBJECT_HEADER.match(rendered, start)
        if found is None or int(found.group(1)) != number:
            return None
        bodies[number] = rendered[start:end]
    trailer = rendered[trailer_at : rendered.rindex(b"startxref")]
    root, info = _ROOT.search(trailer), _INFO.search(trailer)
    if root is None:
        return None
    catalogue = bodies.get(int(root.group(1)), b"")
    tree = re.search(rb"/Pages (\d+) 0 R", catalogue)
    tree_number = int(tree.group(1)) if tree else -1
    tree_body = bodies.get(tree_number, b"")
    kids, count = _KIDS.search(tree_body), _COUNT.search(tree_body)
    if kids is None or count is None:
        return None
    pages = [int(number) for number in _REFERENCE.findall(kids.group(1))]
    if int(count.group(1)) != len(pages):
        return None
    if any(b"/Type /Page\n" not in bodies.get(number, b"") for number in pages):
        return None  # a tree of more levels
    return _Layout(bodies, offsets[0], size, trailer, int(root.group(1)), int(info.group(1)) if info else -1,
                   tree_number, pages)


def _references(body: bytes) -> list[int]:
    """The object numbers an object's dictionary (not its stream data) refers to."""
    stream = body.find(b"\nstream\n")
    return [int(ref) for ref in _REFERENCE.findall(body if stream < 0 else body[:stream])]


def _cut_pages(rendered: bytes, extra_pages: int) -> bytes | None:
    """reportlab's file without its last `extra_pages` pages and what only they use, or None
    when it is not laid out as reportlab writes it (see `_layout`).

    The objects keep their numbers and bytes (those of the dropped pages become free entries),
    except the page tree, which lists the kept pages. What is kept is what the catalogue reaches
    through references; the document information is kept but not searched (its strings are the
    case's words, which could look like a reference).
    """
    layout = _layout(rendered)
    if layout is None or not 0 < extra_pages < len(layout.pages):
        return None
    bodies, pages, size, trailer = dict(layout.bodies), layout.pages, layout.size, layout.trailer
    offsets = [layout.first_offset]
    tree_number, tree_body = layout.tree, layout.bodies[layout.tree]
    kept_pages = pages[: len(pages) - extra_pages]
    new_kids = b"/Kids [" + b"".join(b" %d 0 R" % number for number in kept_pages) + b" ]"
    new_count = b"/Count %d" % len(kept_pages)
    bodies[tree_number] = _COUNT.sub(new_count, _KIDS.sub(lambda _m: new_kids, tree_body, 1), 1)
    root = layout.root
    info_number = layout.info

    dropped = set(pages[len(kept_pages) :])
    kept = {info_number} if info_number in bodies else set()
    todo = [root]
    while todo:
        number = todo.pop()
        if number in kept or number not in bodies or number in dropped:
            continue
        kept.add(number)
        todo.extend(_references(bodies[number]))

    out = [rendered[: offsets[0]]]
    position = offsets[0]
    lines = []
    free = [number for number in range(1, size) if number not in kept]
    next_free = dict(zip(free, [*free[1:], 0], strict=True))  # free entries name the next one
    for number in range(1, size):
        if number in kept:
            lines.append(b"%010d 00000 n \n" % position)
            out.append(bodies[number])
            position += len(bodies[number])
        else:
            lines.append(b"%010d 00001 f \n" % next_free[number])
    first_free = free[0] if free else 0
    out.append(b"xref\n0 %d\n%010d 65535 f \n" % (size, first_free))
    out.extend(lines)
    out.append(trailer + b"startxref\n%d\n%%%%EOF\n" % position)
    return b"".join(out)


def _copied_without(rendered: bytes, extra_pages: int) -> bytes:
    """receipt_alone through pyHanko's objects: the receipt's pages and what they use copied."""
    source = FastReader(io.BytesIO(rendered))
    tree_ref = source.root.raw_get("/Pages")
    tree = tree_ref.get_object()
    kept = page_refs(source)[:-extra_pages]
    for ref in kept:
        ref.get_object()[pdf_name("/Parent")] = tree_ref
    tree[pdf_name("/Kids")] = generic.ArrayObject(kept)
    tree[pdf_name("/Count")] = generic.NumberObject(len(kept))
    writer = copy_into_new_writer(source)
    writer._update_meta = lambda: None  # no /ModDate or producer of pyHanko's: deterministic
    if "/ID" in source.trailer_view:
        writer._document_id = source.trailer_view["/ID"]
    return write(writer)


def _canvas_maker(extra_pages: Callable[[canvas.Canvas], None] | None):
    if extra_pages is None:
        return PageCanvas

    class ReceiptCanvas(PageCanvas):
        def save(self) -> None:
            extra_pages(self)
            super().save()

    return ReceiptCanvas


def append_receipt(pdf_bytes: bytes, receipt_pdf: bytes) -> bytes:
    """The document with the receipt pages added at the end (as an incremental update)."""
    writer = open_writer(pdf_bytes)
    append_pages(writer, receipt_pdf)
    return write(writer)


def append_pages(
    writer: IncrementalPdfFileWriter, pdf_bytes: bytes, overlay_pages: int = 0
) -> tuple[list[generic.IndirectObject], Overlay]:
    """Add the pages of another PDF at the end of the writer's document.

    The last `overlay_pages` pages are not added but imported as footer drawings (see
    stamp.Footer). Returns the added pages' references and the footer drawings.

    A file laid out as reportlab writes it (ours: the receipt's document) is brought in as bytes
    (`_import_as_bytes`); others through pyHanko's objects.
    """
    fast = _import_as_bytes(writer, pdf_bytes, overlay_pages)
    if fast is not None:
        imported, overlay = fast
        _add_to_tree(writer, imported)
        return imported, overlay
    source = FastReader(io.BytesIO(pdf_bytes))
    refs = page_refs(source)
    refs = refs[: len(refs) - overlay_pages]
    for ref in refs:
        page = ref.get_object()
        for key in INHERITABLE:
            value = find_inherited_value_in_tree(page, key, "/Parent")
            if value is not None and key not in page:
                page[pdf_name(key)] = value
        del page["/Parent"]  # or importing would drag the source's page tree along
    # One import call, so fonts and images shared by the pages are copied once.
    imported, overlay = import_overlay(writer, source, refs, overlay_pages)
    _add_to_tree(writer, imported)
    return imported, overlay


def _add_to_tree(writer: IncrementalPdfFileWriter, imported: list[generic.IndirectObject]) -> None:
    tree_ref = writer.root.raw_get("/Pages")
    tree = tree_ref.get_object()
    for page_ref in imported:
        page_ref.get_object()[pdf_name("/Parent")] = tree_ref
        tree["/Kids"].append(page_ref)
    tree[pdf_name("/Count")] = generic.NumberObject(tree["/Count"] + len(imported))
    writer.update_container(tree["/Kids"])
    writer.mark_update(tree_ref)


_PARENT = re.compile(rb"/Parent \d+ 0 R")
_END_OBJECT = b"endobj\n"


def _import_as_bytes(
    writer: IncrementalPdfFileWriter, pdf_bytes: bytes, overlay_pages: int
) -> tuple[list[generic.IndirectObject], Overlay] | None:
    """append_pages for a file reportlab wrote, or None for anything else.

    Parsing reportlab's objects with pyHanko (the fonts' width tables are hundreds of numbers),
    copying them and serialising them again took ~2 ms a seal. Here every object the added pages
    and the drawings' resources reach is given a number in the writer and written as its own
    bytes with the references renumbered (stream data as it is); only the added pages'
    dictionaries (which the footer edits), the drawings' resources and their content streams'
    dictionaries become pyHanko objects, read from a few bytes each.
    """
    layout = _layout(pdf_bytes)
    if layout is None or not 0 <= overlay_pages < len(layout.pages):
        return None
    bodies, pages = layout.bodies, layout.pages
    added, drawn = pages[: len(pages) - overlay_pages], pages[len(pages) - overlay_pages :]
    tree = rawpages.parse_dict(_content(bodies[layout.tree], layout.tree) or b"")
    if tree is None or any(key.encode() in tree.entries for key in INHERITABLE):
        return None
    dictionaries: dict[int, rawpages.RawDict] = {}
    todo: list[int] = []
    for number in pages:
        content = _content(bodies[number], number)
        raw = rawpages.parse_dict(_PARENT.sub(b"", content, 1)) if content is not None else None
        if raw is None or raw.kind(b"/Contents") != rawpages.REF or raw.kind(b"/Resources") not in (
                rawpages.FLAT, rawpages.NESTED) or raw.value(b"/MediaBox") is None:
            return None
        dictionaries[number] = raw
        if number in drawn:
            todo.extend(int(ref) for ref in _REFERENCE.findall(raw.value(b"/Resources")))
        else:
            todo.extend(int(ref) for ref in _REFERENCE.findall(_PARENT.sub(b"", content, 1)))
    outside = {layout.root, layout.info, layout.tree, *pages}
    needed: list[int] = []
    seen: set[int] = set()
    while todo:
        number = todo.pop()
        if number in seen:
            continue
        if number in outside or number not in bodies:
            return None  # pages reach the page tree or the catalogue: not reportlab's usual file
        seen.add(number)
        needed.append(number)
        todo.extend(_references(bodies[number]))
    contents = {number: _content(bodies[number], number) for number in needed}
    streams = [_stream(bodies, rawpages.reference(dictionaries[number].value(b"/Contents"))[0]) for number in drawn]
    if any(content is None for content in contents.values()) or any(stream is None for stream in streams):
        return None
    new = {number: writer.add_object(generic.NullObject()).idnum for number in [*needed, *added]}
    try:
        for number in needed:
            writer.objects[(0, new[number])] = rawpages.RawObject(_renumbered(contents[number], new))
        imported = []
        for number in added:
            content = _renumbered(_PARENT.sub(b"", _content(bodies[number], number), 1), new)
            page = generic.read_object(io.BytesIO(content), generic.Reference(new[number], 0, writer))
            writer.objects[(0, new[number])] = page
            imported.append(generic.IndirectObject(new[number], 0, writer))
        overlay = []
        for number, stream in zip(drawn, streams, strict=True):
            resources = _renumbered(dictionaries[number].value(b"/Resources"), new)
            overlay.append((stream, generic.read_object(io.BytesIO(resources), generic.Reference(0, 0, writer))))
    except (KeyError, ValueError, TypeError, PdfReadError):
        # Not seen with reportlab's files: the objects added stay unreferenced, and are not written.
        for number in new.values():
            writer.objects.pop((0, number), None)
        return None
    return imported, overlay


def _content(body: bytes, number: int) -> bytes | None:
    """An object's bytes between "N 0 obj" and "endobj"."""
    header = _OBJECT_HEADER.match(body)
    if header is None or int(header.group(1)) != number or not body.endswith(_END_OBJECT):
        return None
    return body[header.end() : -len(_END_OBJECT)]


def _renumbered(content: bytes, new: dict[int, int]) -> bytes:
    """The object's bytes with its dictionary's references renumbered (stream data as it is)."""
    stream = content.find(b"\nstream\n")
    head, tail = (content, b"") if stream < 0 else (content[:stream], content[stream:])
    return _REFERENCE.sub(lambda found: b"%d 0 R" % new[int(found.group(1))], head) + tail


def _stream(bodies: dict[int, bytes], number: int) -> generic.StreamObject | None:
    """Content stream `number` as pyHanko's object: its filters and its encoded data."""
    content = _content(bodies.get(number, b""), number)
    if content is None:
        return None
    split = content.find(b"\nstream\n")
    raw = rawpages.parse_dict(content[:split]) if split > 0 else None
    length = rawpages.integer(raw.value(b"/Length")) if raw is not None else None
    if length is None or b"/DecodeParms" in raw.entries:
        return None
    data = content[split + len(b"\nstream\n") : split + len(b"\nstream\n") + length]
    if len(data) != length or raw.kind(b"/Filter") not in (None, rawpages.NAME, rawpages.FLAT):
        return None
    stream = generic.StreamObject(encoded_data=data)
    if raw.value(b"/Filter") is not None:
        stream[pdf_name("/Filter")] = generic.read_object(io.BytesIO(raw.value(b"/Filter")), generic.Reference(0, 0))
    return stream


@cache
def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = text_font(), text_font(bold=True)
    body = ParagraphStyle("body", fontName=regular, fontSize=8.5, leading=11)
    return {
        "title": ParagraphStyle("title", fontName=bold, fontSize=16, leading=20, spaceAfter=6),
        # keepWithNext: a heading never ends a page alone, it moves to the next with its content
        "heading": ParagraphStyle(
            "heading", fontName=bold, fontSize=10.5, leading=14, spaceBefore=8, spaceAfter=3, keepWithNext=1
        ),
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=7, leading=9),
        "cell": ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9.5),
        "cellbold": ParagraphStyle("cellbold", parent=body, fontName=bold, fontSize=7.5, keepWithNext=1),
    }


def _story(receipt: ReceiptData, texts: dict, styles: dict) -> list[Flowable]:
    story: list[Flowable] = [_paragraph(texts["title"], styles["title"])]
    story.append(
        _pairs(
            [
                (texts["organisation"], receipt.organisation),
                (texts["case"], receipt.case_title),
                (texts["case_id"], receipt.case_id),
                (texts["fingerprint"], receipt.fingerprint),
            ],
            styles,
        )
    )
    story += _documents(receipt.documents, texts, styles)
    story += _parties(receipt.parties, texts, styles)
    story += _evidence(receipt, texts, styles)
    for section in receipt.extra_sections:
        story.append(_paragraph(section.heading, styles["heading"]))
        story += [_paragraph(line, styles["body"]) for line in section.lines]
    story += _verification(receipt, texts, styles)
    return story


def _documents(documents: Sequence[ReceiptDocument], texts: dict, styles: dict) -> list:
    rows = [[texts["document"], texts["pages"], texts["original_sha256"]]]
    rows += [[doc.name, str(doc.pages), doc.sha256] for doc in documents]
    return [
        _paragraph(texts["documents"], styles["heading"]),
        _table(rows, [60 * mm, 12 * mm, 102 * mm], styles, monospace_column=2),
    ]


def _parties(parties: Sequence[ReceiptParty], texts: dict, styles: dict) -> list:
    flowables: list[Flowable] = [_paragraph(texts["parties"], styles["heading"])]
    for party in parties:
        rows = [
            (texts["role"], texts.get(party.role, party.role)),
            (texts["method"], party.method_title or party.method),
            (texts["identity"], _identity(party)),
            *party.evidence,
            (texts["invited"], _when(party.invited_at, texts)),
            (texts["viewed"], _when(party.viewed_at, texts)),
            (texts["signed"], _when(party.signed_at, texts)),
            *_field_rows(party, texts),
        ]
        flowables.append(_paragraph(party.name, styles["cellbold"]))
        image = _signature_image(party.signature_image, texts, styles, party.signature_strokes)
        if image is None:
            flowables.append(_pairs(rows, styles))
        else:  # the drawn signature beside the party's rows
            beside = Table([[_pairs(rows, styles, widths=(42 * mm, 90 * mm)), image]],
                           colWidths=[134 * mm, 40 * mm], hAlign="LEFT")
            beside.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
            flowables.append(beside)
        flowables.append(Spacer(1, 3 * mm))
    return flowables


SIGNATURE_BOX = (38 * mm, 22 * mm)


class _DrawnSignature(Flowable):
    """Pen strokes drawn as lines, fitted to SIGNATURE_BOX in their proportions."""

    def __init__(self, strokes: Strokes):
        super().__init__()
        self.strokes = strokes
        ink_w, ink_h = ink_size(strokes)
        scale = min(SIGNATURE_BOX[0] / ink_w, SIGNATURE_BOX[1] / ink_h)
        self.width, self.height = ink_w * scale, ink_h * scale
        self.hAlign = "LEFT"

    def draw(self):
        draw_strokes(self.canv, self.strokes, 0, 0, self.width, self.height)


def _signature_image(png: bytes | None, texts: dict, styles: dict,
                     strokes: Strokes | None = None) -> list[Flowable] | None:
    """The drawn signature scaled into a box, over its caption; None without one (or unreadable)."""
    if strokes is not None and strokes.strokes:
        return [_DrawnSignature(strokes), _paragraph(texts["drawn_signature"], styles["small"])]
    if not png:
        return None
    try:
        reader = ImageReader(io.BytesIO(png))
        width, height = reader.getSize()
    except Exception:  # noqa: BLE001  (a damaged image must not stop the seal; the evidence keeps it)
        return None
    scale = min(SIGNATURE_BOX[0] / width, SIGNATURE_BOX[1] / height)
    image = Image(io.BytesIO(png), width=width * scale, height=height * scale, mask="auto", hAlign="LEFT")
    return [image, _paragraph(texts["drawn_signature"], styles["small"])]


MAX_LISTED_FIELDS = 12


def _field_rows(party: ReceiptParty, texts: dict) -> list[tuple[str, str]]:
    """The party's values (a few listed, many counted: the document shows them) and their hash."""
    if party.field_values_sha256 is None:
        return []
    values = party.field_values
    if len(values) > MAX_LISTED_FIELDS:
        listed = texts["many_fields"].format(count=len(values))
    else:
        listed = "; ".join(f"{label}: {text}" for label, text in values) or texts["not_yet"]
    return [(texts["field_values"], listed), (texts["field_values_sha256"], party.field_values_sha256)]


def _evidence(receipt: ReceiptData, texts: dict, styles: dict) -> list:
    seal = receipt.seal
    return [
        _paragraph(texts["evidence"], styles["heading"]),
        _pairs(
            [
                (texts["evidence_head"], receipt.evidence_head),
                (texts["seal_subject"], _subject(seal, texts)),
                (texts["seal_level"], f"PAdES {seal.level}"),
                (texts["timestamp"], seal.timestamp_authority or texts["no_timestamp"]),
                (texts["sealed_at"], _when(seal.sealed_at, texts)),
            ],
            styles,
        ),
    ]


def _verification(receipt: ReceiptData, texts: dict, styles: dict) -> list:
    steps = [
        texts["step_1"].format(url=receipt.verify_url),
        texts["step_2"],
        texts["step_3"].format(fingerprint=receipt.fingerprint),
        texts["step_4"].format(subject=receipt.seal.signer_name),
    ]
    text = [
        _paragraph(f"{number}. {step}", styles["body"])
        for number, step in enumerate(steps, 1)
    ]
    layout = Table([[text, QRCode(receipt.verify_url)]], colWidths=[136 * mm, 38 * mm])
    layout.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [_paragraph(texts["verify"], styles["heading"]), layout]


def _identity(party: ReceiptParty) -> str:
    parts = []
    if party.verified_name or party.personal_number:
        number = mask_personal_number(party.personal_number) if party.personal_number else ""
        parts.append(" ".join(p for p in (party.verified_name or "", number) if p))
    if party.email:
        parts.append(party.email)
    if party.phone:
        parts.append(mask_phone(party.phone))
    return ", ".join(parts) or "—"


def _when(moment: datetime | None, texts: dict) -> str:
    if moment is None:
        return texts["not_yet"]
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the models store naive UTC
    utc = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    zone = _zone(texts.get("zone"))
    local = moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")
    return f"{utc} ({local}, {zone.key})"


@cache
def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "Europe/Stockholm")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/Stockholm")


_PLAIN_TEXT = re.compile(r"[^&<>\s]+(?: [^&<>\s]+)*")


def _paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    """A Paragraph of plain `text`, without reportlab's markup parser when it can be skipped.

    Parsing markup is most of the cost of building a Paragraph, and receipt texts are
    plain: text without markup characters or extra whitespace gets a copy of the parsed
    fragment of a one-word paragraph in the same style, which is what parsing it yields.
    """
    if not _PLAIN_TEXT.fullmatch(text):
        return _Paragraph(escape(text), style)
    frag = _template_fragment(style).clone(text=text, link=[], us_lines=[])
    return _Paragraph(text, style, frags=[frag])


class _Paragraph(Paragraph):
    """A Paragraph that keeps its line breaks for the width it was last laid out in.

    A table lays out every cell when it measures its rows and again when it draws them (and a
    heading kept with the next flowable is measured again), and breaking lines is most of a
    Paragraph's cost. The lines depend on nothing but the width (the text and style are fixed),
    so asking again for the same width gives the same answer without breaking them again.
    """

    _laid_out_for = None

    def wrap(self, availWidth, availHeight):  # noqa: N803  (reportlab's names)
        if self._laid_out_for is not None and self._laid_out_for[0] == availWidth:
            return self._laid_out_for[1]
        size = super().wrap(availWidth, availHeight)
        self._laid_out_for = (availWidth, size)
        return size


@cache
def _template_fragment(style: ParagraphStyle):
    [frag] = Paragraph("x", style).frags
    return frag


def _pairs(rows: Sequence[tuple[str, str]], styles: dict, widths: tuple[float, float] = (50 * mm, 124 * mm)) -> Table:
    return _table([list(row) for row in rows], list(widths), styles, header=False)


def _subject(seal: ReceiptSeal, texts: dict) -> str:
    """The seal certificate's subject with labels in the receipt's language."""
    if not seal.subject_fields:
        return seal.certificate_subject
    names = texts["subject_names"]
    return ", ".join(f"{names.get(key, key.replace('_', ' '))}: {value}" for key, value in seal.subject_fields)


def _table(
    rows: list[list[str]],
    widths: list[float],
    styles: dict,
    header: bool = True,
    monospace_column: int | None = None,
) -> Table:
    cells = [
        [_paragraph(value, styles["small" if col == monospace_column else "cell"])
         for col, value in enumerate(row)]
        for row in rows
    ]
    table = Table(cells, colWidths=widths, hAlign="LEFT")
    commands = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke))
    table.setStyle(TableStyle(commands))
    return table


class QRCode(Flowable):
    """A QR code drawn as vector squares: sharp at any zoom, a few hundred bytes."""

    def __init__(self, data: str, size: float = QR_SIZE):
        super().__init__()
        # A fixed mask: every mask is valid QR, and scoring all eight to pick the "best"
        # was a third of the receipt's rendering time.
        code = qrcode.QRCode(
            error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, mask_pattern=QR_MASK
        )
        code.add_data(data)
        code.make(fit=True)
        self.matrix = code.get_matrix()
        self.width = self.height = size

    def draw(self) -> None:
        # One rectangle per horizontal run of dark modules: a third of the drawing operators.
        # One path filled once, its operators written directly: reportlab's rect() formats each
        # number through its generic float formatting and fills each rectangle on its own.
        cell = self.width / len(self.matrix)
        canvas = self.canv
        canvas.setFillColor(colors.black)
        ops = []
        for row, line in enumerate(self.matrix):
            y = self.height - (row + 1) * cell
            ops.extend(_RECT % (start * cell, y, length * cell, cell) for start, length in _dark_runs(line))
        if ops:
            ops.append("f")
            canvas.addLiteral("\n".join(ops))


_RECT = "%.3f %.3f %.3f %.3f re"


def _dark_runs(line: Sequence[bool]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    start = None
    for index, dark in enumerate([*line, False]):
        if dark and start is None:
            start = index
        elif not dark and start is not None:
            runs.append((start, index - start))
            start = None
    return runs
