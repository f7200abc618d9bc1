import pytest

from tests.signing.helpers import make_case, signer


@pytest.fixture
def lease(people):
    """A parallel lease case sent by Bob to Sara (touch or SMS) and Per (touch only)."""
    return make_case(people.bob, [
        signer(),
        signer("Per Persson", "per@example.com", phone="+46709876543", methods=["touch"]),
    ])
