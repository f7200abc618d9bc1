"""The sealing pipeline for one document: filled-in values, footer, receipt, seal.

Order matters: every page change (values, footer, receipt pages) has to happen before the seal,
because anything but signatures and validation data added after it breaks the seal.

Speed: `seal_document` does not write the prepared document and parse it again for the
seal. It hands pyHanko's signer the writer that holds the footer and receipt changes, so
they are written once, in the seal's revision (one incremental update after the
original: the original's bytes stay a prefix, and the seal covers the whole file; the
sealed file has two revisions, the original's and the seal's). `prepare_document` gives
the same document as bytes, for tests and the benchmark. The footers are drawn as extra
pages of the receipt's document (see `_prepared_writer`), and the page dictionaries
are edited as bytes (see stamp).
"""

import hashlib
from dataclasses import dataclass, field

from pyhanko.sign.signers import Signer
from pyhanko_certvalidator import ValidationContext

from core.fields.drawing import Mark
from core.fields.flatten import flatten
from core.sealing.prior import refuse_certified
from core.sealing.receipt import PAGE_SIZE, Language, ReceiptData, append_pages, receipt_alone, render_receipt
from core.sealing.seal import Level, seal_pdf
from core.sealing.stamp import Footer, StampWriter, footer_geometry, footer_text, open_writer, write


@dataclass(frozen=True)
class SealedResult:
    pdf: bytes
    sha256: str
    receipt: bytes  # the receipt as a file of its own (receipt.receipt_alone), kept beside the sealed file


@dataclass(frozen=True)
class FieldLayer:
    """The parties' values and signatures to draw on the pages (see core.fields.flatten):
    `marks` by page number; `replaced`, the full names of the PDF's own form fields they replace."""

    marks: dict[int, list[Mark]] = field(default_factory=dict)
    replaced: frozenset[str] = frozenset()


def prepare_document(
    original_pdf: bytes,
    fingerprint: str,
    verify_url: str,
    receipt: ReceiptData,
    language: Language,
    fields: FieldLayer | None = None,
) -> bytes:
    """The document as it will be sealed: values drawn, receipt appended, footer on every page.

    Deterministic: the same inputs give the same bytes, so a retried job seals the same
    content. Stamping and appending are one incremental update after the original bytes,
    so the original's SHA-256 printed on the receipt can be checked on the sealed file
    (unless the original was damaged and had to be rewritten, see stamp.open_writer).
    """
    footer = footer_text(fingerprint, verify_url)
    return write(_prepared_writer(original_pdf, footer, receipt, language, fields)[0])


def _prepared_writer(
    original_pdf: bytes, text: str, receipt: ReceiptData, language: Language, fields: FieldLayer | None = None
) -> tuple[StampWriter, bytes, int]:
    """A writer with the values drawn, the receipt appended and the footer on every page, not
    yet written; with the document the receipt was drawn in and how many pages after the
    receipt's it has (for `receipt_alone`).

    The values come first: they are drawn in the pages' own coordinates, before the footer
    grows the pages. The footers are drawn as extra pages of the receipt document, after the
    receipt's own: they share its embedded font, and one parse and import brings in both.
    Without a form of the PDF's own, flatten leaves a page's values to the footer's edit of that
    page (`Footer(values=...)`): one edit per page, as bytes where the page allows it.
    """
    writer = open_writer(original_pdf)
    if b"/ByteRange" in original_pdf:
        refuse_certified(writer.prev)
    drawing = flatten(writer, fields.marks, fields.replaced, later=True) if fields is not None else None
    footer = Footer(writer, text, more_geometries=[footer_geometry(*PAGE_SIZE)], values=drawing)

    def extra_pages(canvas) -> None:  # the footers, then the values' drawings: after the receipt's pages
        footer.draw(canvas)
        if drawing is not None:
            drawing.draw(canvas)

    receipt_pdf = render_receipt(receipt, language, extra_pages=extra_pages)
    footers = len(footer.geometries)
    added, overlay = append_pages(writer, receipt_pdf, overlay_pages=footers + (drawing.count if drawing else 0))
    footer.apply(overlay[:footers], added)
    if drawing is not None:
        drawing.fill(overlay[footers:])
    return writer, receipt_pdf, len(overlay)


def seal_document(
    original_pdf: bytes,
    fingerprint: str,
    verify_url: str,
    receipt: ReceiptData,
    language: Language,
    signer: Signer,
    level: Level = "B-B",
    tsa_url: str | None = None,
    validation_context: ValidationContext | None = None,
    fields: FieldLayer | None = None,
) -> SealedResult:
    """Stamp, append the receipt and seal `original_pdf`; return the sealed file and hash, and
    the receipt as a file of its own (cut out of the drawing the pipeline made: the receipt is
    drawn once per document).

    Always starts from the original, so running it again after a crash gives an
    equivalent sealed file (only the signing time and timestamp differ). The prepared
    document is the one `prepare_document` returns, sealed in the same revision.
    """
    footer = footer_text(fingerprint, verify_url)
    drawn: list[tuple[bytes, int]] = []

    def prepared_writer() -> StampWriter:
        writer, receipt_pdf, extra_pages = _prepared_writer(original_pdf, footer, receipt, language, fields)
        drawn.append((receipt_pdf, extra_pages))
        writer.start_seal_revision()
        return writer

    sealed = seal_pdf(prepared_writer, signer, level, tsa_url, validation_context)
    return SealedResult(pdf=sealed, sha256=hashlib.sha256(sealed).hexdigest(), receipt=receipt_alone(*drawn[-1]))
