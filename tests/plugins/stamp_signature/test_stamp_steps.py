"""A stamp signature never skips another plugin's step before signing: the core's `sign_verified`
refuses a case whose step is open, and the others go through."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import Signature
from tenants.scoping import tenant_context
from tests import support
from tests.plugins import example
from tests.plugins.stamp_signature.test_stamp import SARA, lease, stamp_form, stamp_page


@pytest.fixture
def app(app_factory):
    app = app_factory(_plugins=[example])
    with app.app_context():
        yield app


def test_a_case_whose_step_is_open_is_refused_and_the_confirmed_one_is_signed(app, people, client):
    people.acme.enabled_plugins = ["stamp_signature", example.NAME]
    people.acme.plugin_settings = {example.NAME: {"require_confirmation": True, "notice": "Read the fine print."}}
    db.session.commit()
    confirmed, unconfirmed = lease(people.alice, "Lease A"), lease(people.bob, "Lease B")
    step = f"/example/confirm/{confirmed.token(SARA)}"
    support.post(client, step, {}, token_from=step)
    html = stamp_page(client, confirmed).get_data(as_text=True)
    result = client.post(f"/stamp/s/{confirmed.token(SARA)}/sign",
                         data=stamp_form(html, [confirmed.case_id, unconfirmed.case_id])).get_data(as_text=True)
    assert "You signed 1 case in one stamp signature." in result
    assert f'data-refused="{unconfirmed.case_id}"' in result
    assert "Before you sign: Confirm that you read the notice." in result
    with tenant_context(people.acme.id):
        assert set(db.session.scalars(sa.select(Signature.case_id))) == {confirmed.case_id}
