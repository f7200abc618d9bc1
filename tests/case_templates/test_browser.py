"""Issue 14 end to end in Chromium: a template with fields built in the editor with the mouse and the
keyboard, a case made from it, two signers filling in and signing (a 360 px phone by touch, a desktop
by SMS code), and a sealed PDF that shows every value and the drawn signature where they were placed,
that pdfsig and qpdf accept and the verification page calls authentic."""

from __future__ import annotations

import io
import time

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from core.case_templates import service as templates
from core.case_templates.models import CaseTemplate
from core.extensions import db
from core.models import Case
from tenants.scoping import tenant_context
from tests import support
from tests.completion.test_sealed_browser import completion_links, verify_upload
from tests.fields.helpers import text_in_box
from tests.sealing.checks import page_texts, pdfsig, qpdf_check, render
from tests.signing.helpers import LEASE_LINES, pdf, sms_codes
from tests.signing.test_signer_browser import draw_with_touch, link_from_email

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(phone_page):
    """A phone of the narrowest common size: 360 px wide."""
    phone_page.set_viewport_size({"width": 360, "height": 740})
    return phone_page


def template_content(live_server, people) -> dict:
    with live_server.app.app_context(), tenant_context(people.acme.id):
        template = db.session.scalars(sa.select(CaseTemplate)).one()
        return {"id": template.id, "version": template.version, **templates.version_of(template).content}


def build_template(page, live_server, tmp_path) -> None:
    (tmp_path / "lease.pdf").write_bytes(pdf(LEASE_LINES, pages=2))
    support.browser_login(page, live_server.url, "alice@acme.example")
    support.click_and_load(page, page.get_by_role("link", name="Templates").first)
    support.click_and_load(page, page.get_by_role("link", name="New template"))
    page.fill("#name", "Lease 2026")
    page.set_input_files("#documents-input", str(tmp_path / "lease.pdf"))
    page.check("input[name=methods][value=sms]")
    page.select_option("#language", "en")
    page.fill("#role-0-label", "Tenant")
    support.click_and_load(page, "button[value=add_role]")
    page.fill("#role-1-label", "Landlord")
    # The editor's script must have run before fields are dragged onto the page: wait for the load.
    support.click_and_load(page, page.get_by_role("button", name="Save and place fields"))
    page.wait_for_selector(".fe-page[data-page='1'] img")


def place_fields(page) -> None:
    first_page = page.locator(".fe-page[data-page='1']")
    first_page.scroll_into_view_if_needed()
    box = first_page.bounding_box()
    # With the mouse: drag a text field from the palette onto the page.
    page.select_option("#fe-new-assignee", "tenant")
    page.drag_and_drop(".fe-palette [data-type=text]", ".fe-page[data-page='1']",
                       target_position={"x": box["width"] * 0.3, "y": box["height"] * 0.3})
    page.fill("#fe-label", "Full name")
    # ... move it a little by dragging it, and make it wider by its handle.
    field = page.locator(".fe-field.selected")
    field_box = field.bounding_box()
    page.mouse.move(field_box["x"] + 10, field_box["y"] + 5)
    page.mouse.down()
    page.mouse.move(field_box["x"] + 10 - box["width"] * 0.1, field_box["y"] + 5, steps=5)
    page.mouse.up()
    handle = field.locator(".fe-handle").bounding_box()
    page.mouse.move(handle["x"] + 3, handle["y"] + 3)
    page.mouse.down()
    page.mouse.move(handle["x"] + 3 + box["width"] * 0.1, handle["y"] + 3, steps=5)
    page.mouse.up()
    # With the keyboard: a number field, moved down and made wider with the arrow keys.
    page.focus(".fe-palette [data-type=number]")
    page.keyboard.press("Enter")
    for _ in range(4):
        page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Alt+ArrowRight")
    page.keyboard.press("Enter")
    page.keyboard.type("Rent")
    page.check("#fe-required")
    # The tenant's signature by mouse, the landlord's checkbox by keyboard and signature by mouse.
    page.drag_and_drop(".fe-palette [data-type=signature]", ".fe-page[data-page='1']",
                       target_position={"x": box["width"] * 0.3, "y": box["height"] * 0.6})
    page.select_option("#fe-new-assignee", "landlord")
    page.focus(".fe-palette [data-type=checkbox]")
    page.keyboard.press("Enter")
    page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Enter")
    page.keyboard.type("Pets allowed")
    page.drag_and_drop(".fe-palette [data-type=signature]", ".fe-page[data-page='1']",
                       target_position={"x": box["width"] * 0.7, "y": box["height"] * 0.75})
    # A field deleted with the keyboard.
    page.focus(".fe-palette [data-type=email]")
    page.keyboard.press("Enter")
    page.keyboard.press("Delete")
    assert page.locator(".fe-field").count() == 5
    page.get_by_role("button", name="Save the fields").click()
    page.locator("#fe-status", has_text="The fields have been saved").wait_for()


def use_template(page, live_server, template_id: int) -> None:
    page.goto(f"{live_server.url}/templates/{template_id}/use")
    page.fill("#person-tenant-name", "Åsa Öberg")
    page.fill("#person-tenant-email", "asa@example.com")
    page.fill("#person-tenant-phone", "070-123 45 67")
    page.select_option("#person-tenant-language", "en")
    page.fill("#person-landlord-name", "Per Persson")
    page.fill("#person-landlord-email", "per@example.com")
    page.fill("#person-landlord-phone", "070-987 65 43")
    page.select_option("#person-landlord-language", "en")
    page.get_by_role("button", name="Send for signing").click()
    page.get_by_text("The case has been sent for signing.").wait_for()


def tenant_fills_in_and_signs_on_a_phone(phone, live_server) -> None:
    phone.goto(link_from_email(live_server, "asa@example.com"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.get_by_text("Field 1 of 3").wait_for()
    phone.get_by_label("Full name").fill("Åsa Öberg")
    phone.get_by_role("button", name="Next field").click()
    phone.get_by_text("Field 2 of 3").wait_for()
    phone.get_by_label("Rent").fill("9 500")
    phone.get_by_role("button", name="Next field").click()
    phone.get_by_text("Field 3 of 3").wait_for()
    phone.locator(".fill-status", has_text="Saved.").wait_for()
    phone.get_by_label("I have read the documents and agree to sign them").check()
    draw_with_touch(phone, "#touch-pad")
    phone.get_by_role("button", name="Sign with my drawn signature").click()
    phone.get_by_role("heading", name="Thank you for signing").wait_for()


def landlord_fills_in_on_the_page_and_signs_by_code(page, live_server) -> None:
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    page.goto(link_from_email(live_server, "per@example.com"))
    # On a wide screen the checkbox sits in its box on the page image.
    checkbox = page.locator(".field-spot.live input[type=checkbox]")
    checkbox.check()
    page.locator(".fill-status", has_text="Saved.").wait_for()
    page.locator("#other-fields summary").click()
    assert page.locator("#other-fields dd", has_text="Åsa Öberg").is_visible()  # her signed full name
    page.get_by_role("radio", name="Code by text message").check()
    support.click_and_load(page, page.get_by_role("button", name="Send the code"))
    page.get_by_text("We sent a code").wait_for()
    [code] = sms_codes(live_server.app.config["OUTBOX_DIR"] + "/sms")
    page.get_by_label("I have read the documents and agree to sign them").check()
    page.get_by_label("Code from the text message").fill(code)
    page.get_by_role("button", name="Sign with the code").click()
    page.get_by_role("heading", name="Thank you for signing").wait_for()
    assert errors == []


def wait_until_sealed(live_server, people, case_id: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with live_server.app.app_context(), tenant_context(people.acme.id):
            if db.session.get(Case, case_id).status == "completed":
                return
        time.sleep(0.5)
    raise AssertionError("the case was not sealed")


def ink(image, box, page_height: int) -> int:
    x, y, w, h = box
    region = image.crop((int(x * image.width), int(y * page_height), int((x + w) * image.width),
                         int((y + h) * page_height)))
    return sum(region.histogram()[:128])


def test_a_template_built_in_the_editor_becomes_a_sealed_pdf_with_every_value(live_server, people, page, phone,
                                                                             tmp_path):
    build_template(page, live_server, tmp_path)
    place_fields(page)
    content = template_content(live_server, people)
    by_type: dict[str, list[dict]] = {}
    for f in content["fields"]:
        by_type.setdefault(f["type"], []).append(f)
    assert sorted(by_type) == ["checkbox", "number", "signature", "text"]
    assert {f["assignee"] for f in by_type["signature"]} == {"tenant", "landlord"}
    full_name = by_type["text"][0]
    assert full_name["label"] == "Full name" and full_name["x"] < 0.3 and full_name["w"] > 0.35
    rent = by_type["number"][0]
    assert rent["label"] == "Rent" and rent["required"] and rent["y"] > 0.35

    use_template(page, live_server, content["id"])
    with live_server.app.app_context(), tenant_context(people.acme.id):
        case = db.session.scalars(sa.select(Case)).one()
        case_id = case.id
        assert (case.template_id, case.template_version) == (content["id"], content["version"])
    tenant_fills_in_and_signs_on_a_phone(phone, live_server)
    landlord_fills_in_on_the_page_and_signs_by_code(page, live_server)
    wait_until_sealed(live_server, people, case_id)

    sealed_link = next(u for u in completion_links(live_server, "per@example.com") if "/signed/" in u)
    sealed = page.request.get(sealed_link).body()
    qpdf_check(sealed)
    assert "Signature Validation: Signature is Valid." in pdfsig(sealed)
    assert verify_upload(page, live_server.url, sealed) == "authentic"
    first = page_texts(sealed)[0]
    for text in ("Åsa Öberg", "9,500", "Signed electronically", "Per Persson", "SMS code"):
        assert text in first, text
    original = sealed[: sealed.index(b"%%EOF") + 5]
    height = render(original, 0).height
    signed_page = render(sealed, 0)
    tenant_signature = next(f for f in by_type["signature"] if f["assignee"] == "tenant")
    for spot in (tenant_signature, by_type["checkbox"][0]):
        box = (spot["x"], spot["y"], spot["w"], spot["h"])
        assert ink(render(original, 0), box, height) == 0 and ink(signed_page, box, height) > 5, spot["type"]
    # Each typed value and the landlord's printed signature sit in the box they were placed at.
    landlord_signature = next(f for f in by_type["signature"] if f["assignee"] == "landlord")
    for spot, expected in ((full_name, "Åsa Öberg"), (rent, "9,500"), (landlord_signature, "Signed electronically "
                                                                        "Per Persson SMS code ·")):
        found = text_in_box(sealed, original, (spot["x"], spot["y"], spot["w"], spot["h"]))
        assert found.startswith(expected), (spot["label"], found)
    assert len(PdfReader(io.BytesIO(sealed)).pages) == 3  # two pages and the receipt
    receipt = " ".join(page_texts(sealed)[-1].split())
    assert "Filled-in fields" in receipt and "Full name: Åsa Öberg" in receipt and "Pets allowed: Yes" in receipt
