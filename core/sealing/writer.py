"""The incremental writer stamping and sealing append to, and reading its pages.

The original's bytes stay a prefix of the output; a damaged file is first rewritten by
pypdf (see `open_writer`).
"""

import hashlib
import io
import logging
import os

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pypdf import PdfReader, PdfWriter

from core.sealing import rawpages

log = logging.getLogger(__name__)


class EncryptedPdfError(ValueError):
    """Uploads should have been refused: we cannot add pages or a seal to them."""


class StampWriter(IncrementalPdfFileWriter):
    """Incremental writer that leaves document metadata alone until it seals.

    pyHanko's writer stamps /ModDate (and XMP) with the current time on every write; we
    want the same input to give the same bytes, and PDF/A files keep Info and XMP in
    step as their producer wrote them. The seal's revision updates them.
    """

    sealing = False

    def start_seal_revision(self) -> None:
        """The pending changes go into the seal's revision: date it and give it a new ID."""
        self.sealing = True
        self._document_id = generic.ArrayObject(
            [self._document_id[0], generic.ByteStringObject(os.urandom(16))]
        )

    def _update_meta(self) -> None:
        if self.sealing:
            super()._update_meta()


def open_writer(pdf_bytes: bytes) -> StampWriter:
    """A writer appending to `pdf_bytes`; damaged files are first rewritten by pypdf.

    pyHanko needs a sound cross-reference table to append to. pypdf rebuilds broken
    ones, at the price that the original bytes are no longer a prefix of the result.
    """
    try:
        writer = _stamp_writer(pdf_bytes)
    except PdfReadError as error:
        log.warning("Rewriting a damaged PDF before stamping: %s", error)
        pdf_bytes = _rewritten(pdf_bytes)
        writer = _stamp_writer(pdf_bytes)
    if writer.prev.encrypted:
        raise EncryptedPdfError("An encrypted PDF cannot be stamped or sealed")
    # The second ID half marks this revision; derive it from the input, not randomness.
    first_id = writer._document_id[0]
    revision_id = hashlib.sha256(pdf_bytes).digest()[:16]
    writer._document_id = generic.ArrayObject([first_id, generic.ByteStringObject(revision_id)])
    return writer


def _stamp_writer(pdf_bytes: bytes) -> StampWriter:
    stream = io.BytesIO(pdf_bytes)
    return StampWriter(stream, prev=rawpages.FastReader(stream, strict=False))


def _rewritten(pdf_bytes: bytes) -> bytes:
    out = io.BytesIO()
    PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes), strict=False)).write(out)
    return out.getvalue()


def write(writer: IncrementalPdfFileWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def page_refs(handler) -> list[generic.IndirectObject]:
    """References of all pages in order, walking the page tree once."""
    refs: list[generic.IndirectObject] = []
    stack = [handler.root.raw_get("/Pages")]
    while stack:
        ref = stack.pop()
        node = ref.get_object()
        if node.get("/Type") == "/Pages" or "/Kids" in node:
            stack.extend(reversed(list(node["/Kids"])))
        else:
            refs.append(ref)
    return refs


def register_xobject(writer, resources: generic.DictionaryObject, name: str, xobject) -> None:
    if "/XObject" not in resources:
        resources[pdf_name("/XObject")] = generic.DictionaryObject()
    xobjects = resources["/XObject"]
    xobjects[pdf_name(name)] = xobject
    # Shared or indirect resource dictionaries live in their own objects: rewrite those.
    writer.update_container(xobjects)
    writer.update_container(resources)


def new_stream(data: bytes) -> generic.StreamObject:
    return generic.StreamObject(stream_data=data)
