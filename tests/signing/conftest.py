import pytest

from tests.signing.elks_server import ElksServer
from tests.signing.helpers import make_case, signer


@pytest.fixture
def lease(people):
    """A parallel lease case sent by Bob to Sara (touch or SMS) and Per (touch only)."""
    return make_case(people.bob, [
        signer(),
        signer("Per Persson", "per@example.com", phone="+46709876543", methods=["touch"]),
    ])


@pytest.fixture
def elks_server():
    server = ElksServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def elks(app, elks_server):
    """The app sends text messages with the real 46elks client to the local 46elks server."""
    app.config.update(SMS_GATEWAY="46elks", ELKS_URL=elks_server.url, ELKS_USERNAME=elks_server.username,
                      ELKS_PASSWORD=elks_server.password, SMS_SENDER="Acme")
    return elks_server
