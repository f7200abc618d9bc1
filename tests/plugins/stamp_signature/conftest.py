"""Fixtures for the stamp signature's tests."""

from __future__ import annotations

import pytest

from core.extensions import db


@pytest.fixture
def on(people):
    """The people, with the stamp signature plugin on for both organisations."""
    people.acme.enabled_plugins = ["stamp_signature"]
    people.globex.enabled_plugins = ["stamp_signature"]
    db.session.commit()
    return people
