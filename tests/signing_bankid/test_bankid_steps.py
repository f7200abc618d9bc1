"""A plugin's step before signing comes before BankID: no order is started while it is open."""

from __future__ import annotations

from core.extensions import db
from tests import support
from tests.plugins import example
from tests.signing.helpers import make_case, signer
from tests.signing_bankid.conftest import bankid_settings, orders
from tests.signing_bankid.helpers import action, start


def test_no_bankid_order_starts_while_a_step_is_open(app_factory, sim):
    app = app_factory(_plugins=[example], **bankid_settings(sim))
    with app.app_context():
        people = support.make_people()
        people.acme.enabled_plugins = [example.NAME]
        people.acme.plugin_settings = {"example": {"require_confirmation": True}}
        db.session.commit()
        made = make_case(people.alice, [signer("Sara Svensson", "sara@example.com")], methods=["bankid"])
        client, path = app.test_client(), made.path("Sara Svensson")
        refused = action(client, path, "start", consent="yes", documents_digest="0" * 64, device="other")
        assert refused.status_code == 422
        assert refused.get_json()["message"] == "Before you sign: Confirm that you read the notice."
        assert orders(sim) == []  # BankID never heard of it

        step = f"/example/confirm/{made.token('Sara Svensson')}"
        support.post(client, step, {}, token_from=step)
        assert start(client, path)["ok"] is True
        assert len(orders(sim)) == 1
