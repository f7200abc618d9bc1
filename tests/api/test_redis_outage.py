"""With Redis down or frozen the web keeps serving: reads and signer links work, limits on
secrets keep counting in the database, nothing waits long, and readiness names Redis."""

from __future__ import annotations

import pytest

from core import redis_link
from tests import support
from tests.faults import RedisServer


@pytest.fixture
def outage(app, request):
    """Point the app at a private Redis server that the test stops or freezes (never the shared one)."""
    from tests.conftest import _require

    try:
        server = RedisServer().start()
    except (OSError, RuntimeError) as exc:
        _require("redis-server", exc)
    app.config.update(REDIS_URL=server.url, REDIS_RETRY_AFTER=1)
    yield server
    server.stop()
    redis_link._open_until.clear()


@pytest.mark.redis
@pytest.mark.parametrize("fault", ["down", "frozen"])
def test_reads_links_and_logins_keep_working(app, api, new_case, people, outage, fault, monkeypatch):
    case = new_case()
    # The breaker stays open for the whole test however slow the machine is, so the count below
    # is the number of requests that waited on Redis (not a wall-clock time, which load changes).
    app.config["REDIS_RETRY_AFTER"] = 600
    waits = []
    real_failed = redis_link.failed
    monkeypatch.setattr(redis_link, "failed", lambda *a, **k: (waits.append(1), real_failed(*a, **k)))
    outage.kill() if fault == "down" else outage.freeze()
    visitor = app.test_client()
    assert api.get(f"/api/v1/cases/{case['id']}").status_code == 200  # the API limit fails open
    assert visitor.get("/s/not-a-real-link-token-at-all-0123456789abcdef").status_code == 404
    assert support.login(visitor, people.alice.email).status_code == 302
    assert visitor.get("/readyz").json["failing"] == ["redis"]
    assert len(waits) == 1  # a frozen Redis costs one short timeout, not one (~10 s) per request
    outage.thaw()


@pytest.mark.redis
def test_login_attempts_are_still_limited_without_redis(app, people, outage):
    outage.kill()
    visitor = app.test_client()
    answers = [support.login(visitor, people.alice.email, "wrong password").status_code for _ in range(6)]
    assert answers[:5] == [401] * 5 and answers[5] == 429  # LOGIN_RATE_LIMIT 5/300, counted in the database
