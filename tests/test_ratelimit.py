"""Rate limits count a sliding window: a burst around a window boundary is still one burst."""

from __future__ import annotations

import secrets
from types import SimpleNamespace

import pytest

from core import ratelimit

WINDOW = 300
RULE = f"5/{WINDOW}"


@pytest.fixture(params=["database", "redis"])
def limiter(request, app, monkeypatch):
    if request.param == "redis":
        app.config["REDIS_URL"] = request.getfixturevalue("redis_url")
    clock = SimpleNamespace(now=1_000 * WINDOW - 2.0)  # two seconds before a window ends
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: clock.now))
    subject = secrets.token_hex(8)  # Redis keeps counts between tests
    return clock, lambda: ratelimit.hit("test", subject, RULE)


def test_a_burst_across_a_window_boundary_is_limited(limiter):
    clock, hit = limiter
    assert all(hit() for _ in range(3))
    clock.now += 4  # two seconds into the next window: the three hits are still recent
    assert hit() and hit()
    assert not hit()  # a fixed window would have allowed three more


def test_old_hits_stop_counting(limiter):
    clock, hit = limiter
    assert all(hit() for _ in range(5))
    assert not hit()
    clock.now += WINDOW / 2 + 2  # half of the previous window still counts: 6 x 0.5 = 3
    assert hit() and hit()
    assert not hit()
    clock.now += 2 * WINDOW
    assert all(hit() for _ in range(5))


def test_looking_counts_nothing(limiter, app):
    clock, hit = limiter
    subject = secrets.token_hex(8)
    assert all(ratelimit.hit("peek", subject, RULE) for _ in range(4))
    assert all(ratelimit.within("peek", subject, RULE) for _ in range(10))  # room for one more, still
    assert ratelimit.hit("peek", subject, RULE)
    assert not ratelimit.within("peek", subject, RULE)


def test_a_refunded_hit_no_longer_counts(limiter, app):
    subject = secrets.token_hex(8)
    assert all(ratelimit.hit("login-test", subject, RULE) for _ in range(5))
    ratelimit.refund("login-test", subject, RULE)
    assert ratelimit.hit("login-test", subject, RULE)
    assert not ratelimit.hit("login-test", subject, RULE)
    other = secrets.token_hex(8)
    ratelimit.refund("login-test", other, RULE)  # nothing counted: nothing to give back, never below zero
    assert all(ratelimit.hit("login-test", other, RULE) for _ in range(5))
    assert not ratelimit.hit("login-test", other, RULE)
