"""The signer's fields in Chromium, in Swedish: bad input gets its message next to the field and
nothing typed is lost, whether the value is of the wrong type, a required field is empty at signing,
or two tabs fill in the same field."""

from __future__ import annotations

import contextlib
import json

import pytest
from playwright.sync_api import expect

from tests.fields.helpers import lease_with_fields, stored
from tests.signing.test_signer_browser import draw_with_mouse

pytestmark = pytest.mark.browser


@pytest.fixture
def tenant_url(live_server, people):
    with live_server.app.app_context():
        made = lease_with_fields(people.bob)
    url = live_server.url + made.links["tenant"]
    return made, url


def values(live_server, made) -> dict:
    with live_server.app.app_context():
        return {name: value.value for name, value in stored(made).items()}


def item(page, name: str):
    return page.locator(f".fill[data-name={name}]")


def test_two_tabs_filling_the_same_field_show_the_other_value_and_keep_both(live_server, tenant_url, page):
    made, url = tenant_url
    first = page
    first.goto(url + "/lang/sv")
    second = page.context.new_page()  # another tab of the same browser
    second.goto(url)

    first.get_by_label("Full name").fill("Sara Svensson")
    first.locator(".fill-status", has_text="Sparat.").wait_for()
    second.get_by_label("Full name").fill("Sara S.")
    conflict = item(second, "full_name").locator(".conflict")
    conflict.wait_for(state="visible")
    assert conflict.locator("p").inner_text() == (
        "Fältet ändrades i ett annat fönster eller på en annan enhet till: Sara Svensson")
    assert second.get_by_label("Full name").input_value() == "Sara S."  # what this tab typed stays
    assert values(live_server, made) == {"full_name": "Sara Svensson"}  # and did not overwrite the other

    # Leaving the field saves it once more on its old revision (refused again, as a conflict);
    # the choice is the save that names the revision the other tab stored.
    with second.expect_response(lambda r: is_save(r.request) and names_revision(r.request, "full_name")):
        conflict.get_by_role("button", name="Behåll mitt").click()
    assert values(live_server, made) == {"full_name": "Sara S."}
    second.locator(".fill-status", has_text="Sparat.").wait_for()
    assert conflict.is_hidden()

    # The first tab learns of the change with its next save and does not sign what it does not show.
    # Leaving "Full name" saves it too, on its old revision: as its own save or in one with the
    # rent (then the status stays empty: a conflict is not "Saved."), so the test waits for the rent.
    with first.expect_response(lambda r: is_save(r.request) and carries(r.request, "rent")):
        first.get_by_label("Rent").fill("9500")
    assert values(live_server, made)["rent"] == "9500"
    told = item(first, "full_name").locator(".conflict")
    told.wait_for(state="visible")
    assert "till: Sara S." in told.inner_text()
    assert first.get_by_label("Full name").input_value() == "Sara Svensson"
    first.get_by_label("Jag har läst handlingarna och vill skriva under dem").check()
    draw_with_mouse(first, "#touch-pad")
    sign = first.get_by_role("button", name="Skriv under med min ritade underskrift")
    sign.click()
    first.locator("#fields-attention", has_text="Några fält behöver din uppmärksamhet").wait_for()
    assert first.evaluate("document.activeElement.id") == first.get_by_label("Full name").get_attribute("id")
    told.get_by_role("button", name="Använd det andra värdet").click()
    assert first.get_by_label("Full name").input_value() == "Sara S."
    first.locator("#fields-attention").wait_for(state="hidden")  # once the choice is saved
    assert told.is_hidden()
    sign.click()
    first.get_by_role("heading", name="Tack för din underskrift").wait_for()
    signed = values(live_server, made)
    assert (signed["full_name"], signed["rent"]) == ("Sara S.", "9500")


def test_a_wrong_value_is_named_next_to_its_field_and_signing_waits_for_it(live_server, tenant_url, page):
    made, url = tenant_url
    page.goto(url + "/lang/sv")
    page.get_by_label("Full name").fill("Åsa Öberg")
    rent = page.get_by_label("Rent")
    rent.fill("mycket")
    error = item(page, "rent").locator(".error")
    error.filter(has_text="Ange ett tal, till exempel 1250 eller 12,5.").wait_for()
    assert rent.get_attribute("aria-invalid") == "true"
    assert values(live_server, made) == {"full_name": "Åsa Öberg"}

    # Signing now would lose what was typed in the rent (it is not stored): the page says what to fix.
    page.get_by_label("Jag har läst handlingarna och vill skriva under dem").check()
    draw_with_mouse(page, "#touch-pad")
    page.get_by_role("button", name="Skriv under med min ritade underskrift").click()
    page.locator("#fields-attention", has_text="Några fält behöver din uppmärksamhet").wait_for()
    assert rent.input_value() == "mycket" and page.get_by_label("Full name").input_value() == "Åsa Öberg"
    assert page.evaluate("document.activeElement.id") == rent.get_attribute("id")

    rent.fill("9 500")
    page.locator(".fill-status", has_text="Sparat.").wait_for()
    assert error.inner_text() == ""
    page.get_by_role("button", name="Skriv under med min ritade underskrift").click()
    page.get_by_role("heading", name="Tack för din underskrift").wait_for()
    assert values(live_server, made)["rent"] == "9500"


def test_a_required_field_left_empty_is_named_at_signing_and_the_rest_is_kept(live_server, tenant_url, page):
    made, url = tenant_url
    page.goto(url + "/lang/sv")
    page.get_by_label("Full name").fill("Åsa Öberg")
    page.get_by_label("Moving in").fill("2026-09-01")
    page.locator(".fill-status", has_text="Sparat.").wait_for()
    page.get_by_label("Jag har läst handlingarna och vill skriva under dem").check()
    draw_with_mouse(page, "#touch-pad")
    page.get_by_role("button", name="Skriv under med min ritade underskrift").click()
    page.get_by_text("Fyll i fälten som är markerade nedan innan du signerar.").wait_for()
    item(page, "rent").locator(".error", has_text="Fyll i fältet.").wait_for()
    assert page.get_by_label("Full name").input_value() == "Åsa Öberg"
    assert page.get_by_label("Moving in").input_value() == "2026-09-01"
    assert values(live_server, made) == {"full_name": "Åsa Öberg", "moving_in": "2026-09-01"}


def test_on_a_phone_signing_goes_back_to_the_field_that_needs_attention(live_server, tenant_url, phone_page):
    made, url = tenant_url
    phone = phone_page
    phone.set_viewport_size({"width": 360, "height": 740})
    phone.goto(url + "/lang/sv")
    phone.get_by_label("Full name").fill("Åsa Öberg")
    phone.get_by_role("button", name="Nästa fält").click()
    phone.get_by_label("Rent").fill("mycket")
    item(phone, "rent").locator(".error", has_text="Ange ett tal").wait_for()
    for _ in range(4):  # on to the last field, then to the signing
        phone.get_by_role("button", name="Nästa fält").click()
    phone.get_by_label("Jag har läst handlingarna och vill skriva under dem").check()
    phone.get_by_role("button", name="Skriv under med min ritade underskrift").click()
    phone.locator("#fields-attention", has_text="Några fält behöver din uppmärksamhet").wait_for()
    phone.get_by_text("Fält 2 av 6").wait_for()  # the stepper is back at the rent
    assert phone.get_by_label("Rent").is_visible() and phone.get_by_label("Rent").input_value() == "mycket"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert values(live_server, made) == {"full_name": "Åsa Öberg"}


def test_a_save_lost_on_the_way_stops_signing_until_it_is_saved(live_server, tenant_url, page):
    made, url = tenant_url
    page.goto(url)
    page.get_by_label("Full name").fill("Åsa Öberg")
    with page.expect_response(lambda r: r.url.endswith("/fields") and r.request.method == "POST"
                              and "9500" in (r.request.post_data or "")):
        page.get_by_label("Rent").fill("9500")
    page.route("**/fields", lambda route: route.abort())  # the connection drops
    page.get_by_label("Rent").fill("9900")
    page.get_by_label("I have read the documents and agree to sign them").check()
    draw_with_mouse(page, "#touch-pad")
    sign = page.get_by_role("button", name="Sign with my drawn signature")
    sign.click()
    page.locator("#fields-attention", has_text="Not saved: check your connection.").wait_for()
    assert page.get_by_label("Rent").input_value() == "9900"
    assert values(live_server, made)["rent"] == "9500"  # and nothing was signed on it
    page.unroute("**/fields")  # back online
    sign.click()
    page.get_by_role("heading", name="Thank you for signing").wait_for()
    assert values(live_server, made)["rent"] == "9900"  # what the page showed is what was signed


def test_a_radio_group_and_a_drop_down_are_chosen_on_the_page_image(live_server, people, page):
    from tests.fields.helpers import field

    extra = [field("payment", "radio", "tenant", 0.46, w=0.3, h=0.03, options=["Monthly", "Quarterly"],
                   label="Payment"),
             field("city", "select", "tenant", 0.51, w=0.3, options=["Stockholm", "Umeå"], label="City")]
    with live_server.app.app_context():
        made = lease_with_fields(people.bob, extra_fields=extra)
    page.goto(live_server.url + made.links["tenant"])
    payment = page.locator(".field-spot.live").filter(has=page.locator("input[type=radio]"))
    payment.get_by_label("Quarterly").check()  # in its place on the page image
    page.locator(".field-spot.live select").select_option("Umeå")
    page.locator(".fill-status", has_text="Saved.").wait_for()
    with page.expect_response(lambda r: r.url.endswith("/fields")):
        page.get_by_label("Full name").fill("Åsa Öberg")
    saved = values(live_server, made)
    assert (saved["payment"], saved["city"]) == ("Quarterly", "Umeå")


# --- saves that overtake each other: a slow network holds the answers ----------------------------------


def is_save(request) -> bool:
    return request.url.endswith("/fields") and request.method == "POST"


def carries(request, name: str) -> bool:
    """The save sends a value for the field."""
    return name in (json.loads(request.post_data or "{}").get("values") or {})


def names_revision(request, name: str) -> bool:
    """The save builds on a stored revision of the field (one another tab or device made)."""
    return (json.loads(request.post_data or "{}").get("revisions") or {}).get(name, 0) > 0


class SlowSaves:
    """From `hold()` on, each save waits on the way until `release()` lets it (and the later ones) go."""

    def __init__(self, page):
        self.page, self.held, self.holding = page, [], False
        page.route("**/fields", self._route)

    def _route(self, route) -> None:
        if self.holding and is_save(route.request):
            self.held.append(route)
        else:
            route.continue_()

    def hold(self) -> SlowSaves:
        self.holding = True
        return self

    def wait_for_held(self, count: int = 1) -> None:
        wait_until(self.page, lambda: len(self.held) >= count, f"{count} save(s) on the way")

    def release(self) -> None:
        self.holding = False
        for route in self.held:
            route.continue_()
        self.held.clear()


def wait_until(page, condition, what: str) -> None:
    for _ in range(300):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"never: {what}")


def test_typing_on_while_a_save_is_on_its_way_is_no_change_from_elsewhere(live_server, tenant_url, page):
    made, url = tenant_url
    saves = SlowSaves(page)
    page.goto(url)
    name = page.get_by_label("Full name")
    saves.hold()
    name.fill("Asa")
    name.blur()  # saved at once
    saves.wait_for_held()
    name.fill("Asa Oberg")  # typed on while the first save is on its way
    name.blur()
    with page.expect_response(lambda r: is_save(r.request) and "Asa Oberg" in (r.request.post_data or "")):
        saves.release()
    assert values(live_server, made) == {"full_name": "Asa Oberg"}  # not refused as a change from elsewhere
    page.locator(".fill-status", has_text="Saved.").wait_for()
    assert item(page, "full_name").locator(".conflict").is_hidden()
    assert name.input_value() == "Asa Oberg"


def test_an_answer_sent_before_keep_mine_does_not_bring_the_conflict_back(live_server, tenant_url, page):
    made, url = tenant_url
    saves = SlowSaves(page)
    page.goto(url)
    other = page.context.new_page()  # another tab saves first
    other.goto(url)
    with other.expect_response(lambda r: is_save(r.request)):
        other.get_by_label("Full name").fill("Per")
        other.get_by_label("Full name").blur()
    name = page.get_by_label("Full name")
    name.fill("Sara")
    name.blur()
    conflict = item(page, "full_name").locator(".conflict")
    conflict.wait_for(state="visible")

    saves.hold()
    name.fill("Sara S.")  # typed on while the conflict is shown; this save goes out and is slow
    name.blur()
    saves.wait_for_held()
    conflict.get_by_role("button", name="Keep mine").click()  # meanwhile: keep mine
    conflict.wait_for(state="hidden")
    with page.expect_response(lambda r: is_save(r.request) and '"full_name":1' in (r.request.post_data or "")):
        saves.release()  # the slow save's answer, a conflict, is about what the party has decided on since
    assert values(live_server, made) == {"full_name": "Sara S."}
    page.locator(".fill-status", has_text="Saved.").wait_for()
    assert conflict.is_hidden() and name.input_value() == "Sara S."


def test_signing_waits_for_a_save_on_its_way(live_server, tenant_url, page):
    made, url = tenant_url
    saves = SlowSaves(page)
    page.goto(url)
    page.get_by_label("Full name").fill("Åsa Öberg")
    with page.expect_response(lambda r: is_save(r.request) and "9500" in (r.request.post_data or "")):
        page.get_by_label("Rent").fill("9500")
    page.locator(".fill-status", has_text="Saved.").wait_for()
    page.get_by_label("I have read the documents and agree to sign them").check()
    draw_with_mouse(page, "#touch-pad")
    saves.hold()
    page.get_by_label("Rent").fill("9900")
    page.get_by_label("Rent").blur()
    saves.wait_for_held()
    page.get_by_role("button", name="Sign with my drawn signature").click()  # while the save is on its way
    with contextlib.suppress(Exception):  # before the fix the page had gone on to sign, the save cut off
        saves.release()
    page.get_by_role("heading", name="Thank you for signing").wait_for()
    assert values(live_server, made)["rent"] == "9900"  # what the page showed is what was signed


def test_a_click_on_the_consent_box_that_saves_the_field_left_still_ticks_it(live_server, tenant_url, page):
    """Leaving a field for the consent box saves it at once, and the page says "Saving…". The box
    must not move under the pointer between the press and the release, or the click misses it."""
    made, url = tenant_url
    saves = SlowSaves(page)
    page.goto(url)
    where = "() => { const r = document.getElementById('consent').getBoundingClientRect();" \
            " return {x: r.x + r.width / 2, y: r.y + r.height / 2 + window.scrollY}; }"
    spot = page.evaluate(where)  # in the page, before anything is typed
    saves.hold()
    page.get_by_label("Rent").fill("9500")
    page.evaluate("y => window.scrollTo(0, y - window.innerHeight / 2)", spot["y"])  # the field keeps focus
    page.mouse.move(spot["x"], spot["y"] - page.evaluate("window.scrollY"))
    page.mouse.down()  # the rent field loses focus: its save goes out
    page.locator(".fill-status", has_text="Saving…").wait_for()
    page.mouse.up()
    expect(page.get_by_label("I have read the documents and agree to sign them")).to_be_checked()
    with page.expect_response(lambda r: is_save(r.request) and "9500" in (r.request.post_data or "")):
        saves.release()
    assert values(live_server, made)["rent"] == "9500"
