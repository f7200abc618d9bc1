"""Issue 5 end to end in Chromium: a signer signs, the sealed PDF comes by email, pdfsig accepts it,
every page carries the fingerprint, the receipt's QR code leads to the verification page, and the
verification page tells an authentic file from a changed one and finds a typed fingerprint."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.annotations import FreeText

from tests import support
from tests.plugins.test_e_delivery_browser import sign_by_drawing
from tests.signing.test_signer_browser import link_from_email, send_live_case, signer

pytestmark = pytest.mark.browser


def completion_links(live_server, email: str) -> list[str]:
    mails = live_server.smtp.wait_for(email, count=2, timeout=60)  # the invitation, then the signed documents
    done = next(m for m in mails if str(m["Subject"]).startswith("Signed:"))
    return support.links_in(done)


def verify_upload(page, url: str, data: bytes) -> str:
    page.goto(url + "/verify/")
    page.set_input_files("#verify-file", files=[{"name": "check.pdf", "mimeType": "application/pdf", "buffer": data}])
    support.click_and_load(page, page.get_by_role("button", name="Check the file"))
    return page.locator("[data-verdict]").get_attribute("data-verdict")


def test_a_case_runs_to_a_sealed_pdf_that_anyone_can_verify(live_server, people, page, tmp_path):
    send_live_case(live_server, people, [signer("Sara Svensson", "sara@example.com", methods=["touch"])],
                   methods=["touch"], title="Lease 12")
    sign_by_drawing(page, link_from_email(live_server, "sara@example.com"))

    links = completion_links(live_server, "sara@example.com")
    page.goto(next(u for u in links if re.search(r"/s/[^/]+$", u)))
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download lease.pdf")).click()
    sealed = Path(download.value.path()).read_bytes()
    pdf = tmp_path / "sealed.pdf"
    pdf.write_bytes(sealed)
    report = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True).stdout
    assert "Signature is Valid" in report and "Total document signed" in report

    pages = [p.extract_text() for p in PdfReader(io.BytesIO(sealed)).pages]
    fingerprint = re.search(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}-[0-9A-Z*~$=]", pages[0]).group(0)
    assert all(fingerprint in text for text in pages)

    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", str(len(pages)), str(pdf), str(tmp_path / "receipt")],
                   check=True)
    [png] = tmp_path.glob("receipt*.png")
    qr = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True).stdout.strip()
    assert qr == f"{live_server.url}/verify/{fingerprint}"
    page.goto(qr)
    assert "Lease 12" in page.content() and "Sara Svensson" in page.content()

    assert verify_upload(page, live_server.url, sealed) == "authentic"
    changed = bytearray(sealed)
    changed[changed.index(b"ReportLab")] = ord("r")
    assert verify_upload(page, live_server.url, bytes(changed)) == "modified_after_sealing"
    writer = PdfWriter(io.BytesIO(sealed), incremental=True)
    writer.add_annotation(0, FreeText(text="Paid", rect=(50, 50, 200, 80)))
    appended = io.BytesIO()
    writer.write(appended)
    assert verify_upload(page, live_server.url, appended.getvalue()) == "updated_after_seal"

    page.goto(live_server.url + "/verify/")
    page.get_by_label("Fingerprint").fill(fingerprint.lower().replace("-", " "))
    support.click_and_load(page, page.get_by_role("button", name="Look it up"))
    assert page.get_by_role("heading", name="A document sealed by Sigill").is_visible()
