"""With the ID check on, the party checks their ID document on the tablet before signing: the
check's page opens with the tablet's link and cookie only, and signing waits for it."""

from __future__ import annotations

import io

from core.extensions import db
from tests import support
from tests.plugins.id_check.images import Shot, photo_of
from tests.plugins.id_check.specimens import ANNA, passport
from tests.plugins.kiosk.helpers import office, pair
from tests.plugins.kiosk.test_push import device_of, push, tablet_url
from tests.signing.helpers import make_case, sign_form, signer


def test_the_id_check_runs_on_the_tablet_before_signing(app, people):
    people.acme.enabled_plugins = ["kiosk", "id_check"]
    people.acme.plugin_settings = {"id_check": {"require_mode": "remote"}}
    db.session.commit()
    alice = office(app)
    tablet = pair(app, alice)
    made = make_case(people.alice, [signer(ANNA["party"], "anna@example.com", personal_number=ANNA["personal_number"])],
                     methods=["touch"])
    push(alice, made, ANNA["party"], device_of(people.acme))
    url = tablet_url(tablet)
    token = url.rsplit("/", 1)[-1]
    page = tablet.get(url).get_data(as_text=True)
    step = f"/id-check/s/{token}"
    assert step in page and 'id="sign-form"' not in page
    assert app.test_client().get(step).status_code == 404  # the tablet's link, without its cookie
    shown = tablet.get(step)
    assert shown.headers["Cache-Control"] == "no-store"
    assert 'id="kiosk-watch"' in shown.get_data(as_text=True)  # the idle timer runs on the step page too

    files = {"front": (io.BytesIO(photo_of(passport(), Shot("flat"))), "front.jpg"), "mrz": ""}
    done = support.post(tablet, step, files, token_from=step, content_type="multipart/form-data")
    assert done.status_code == 302
    assert 'id="sign-form"' in tablet.get(url).get_data(as_text=True)
    assert support.post(tablet, f"{url}/sign", sign_form(tablet, url), token_from=url).status_code == 302
    assert device_of(people.acme).state == "signed"
