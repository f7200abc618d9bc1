"""Passwords are hashed with argon2's strong parameters; the suite's cheap ones never reach production."""

import pytest
from argon2 import extract_parameters, profiles

from core.app import create_app
from core.auth.service import hash_password
from core.config import load_config
from core.extensions import db
from tests import support
from tests.conftest import base_config


def test_production_hashes_with_rfc_9106_parameters_whatever_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PASSWORD_HASH_COST", "cheapest")
    config = load_config(str(tmp_path))
    assert config["PASSWORD_HASH_COST"] == "strong"
    app = create_app(base_config(tmp_path, PASSWORD_HASH_COST=config["PASSWORD_HASH_COST"]))
    with app.app_context():
        assert extract_parameters(hash_password(support.PASSWORD)) == profiles.RFC_9106_LOW_MEMORY


def test_cheap_hashes_are_refused_outside_the_test_suite(tmp_path):
    with pytest.raises(ValueError, match="test suite only"):
        create_app(base_config(tmp_path, TESTING=False))


def test_a_test_hash_still_logs_in_under_production_parameters_and_is_rehashed(app_factory, alice):
    assert extract_parameters(alice.password_hash) == profiles.CHEAPEST
    production = app_factory(PASSWORD_HASH_COST="strong")
    client = production.test_client()
    assert support.login(client, alice.email).status_code == 302
    db.session.refresh(alice)
    assert extract_parameters(alice.password_hash) == profiles.RFC_9106_LOW_MEMORY
    assert support.login(production.test_client(), alice.email).status_code == 302
