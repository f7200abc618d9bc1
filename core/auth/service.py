"""Officer accounts: passwords (argon2id), sessions, reset and invitation links."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import cache

import sqlalchemy as sa
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context, session
from flask_login import login_user, logout_user

from core.extensions import db
from core.mail import send_mail
from core.models import Officer, OfficerSession, OfficerToken, Tenant
from core.models.base import utcnow
from core.security import hash_token, keyed_hash, new_token
from core.urls import external_url
from tenants.scoping import tenant_context

log = logging.getLogger(__name__)

# argon2id: RFC 9106's low-memory recommendation (the library's default); the cheapest parameters
# only for the test suite (config PASSWORD_HASH_COST, refused without TESTING), where hashing would
# otherwise take most of the run. A hash made with other parameters still verifies, and is
# rehashed with the configured ones at the next login.
_HASHERS = {
    "strong": PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY),
    "cheapest": PasswordHasher.from_parameters(profiles.CHEAPEST),
}

MIN_PASSWORD = 10
TOKEN_LIFETIME = {"reset": timedelta(hours=1), "invite": timedelta(days=7)}
# The key of the server-side session token in the (signed) session cookie.
SESSION_TOKEN_KEY = "officer_session"  # noqa: S105  (a key name, not a secret)
# A session's last use is written at most this often (not on every request).
SEEN_EVERY = timedelta(minutes=5)
# An address the officer logged in from stays known this long (see known_address).
KNOWN_ADDRESS_FOR = timedelta(days=30)


class AccountError(ValueError):
    """A message for the user (already translated by the caller's form)."""


def password_hasher() -> PasswordHasher:
    cost = current_app.config["PASSWORD_HASH_COST"] if has_app_context() else "strong"
    return _HASHERS[cost]


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash to verify against when the email is unknown, so timing does not reveal accounts."""
    return hasher.hash("not a real password")


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


def load_officer(user_id: str) -> Officer | None:
    """Flask-Login's loader: "<id>:<session version>" plus this browser's server-side session.

    The cookie alone is not enough: its session token must name a session row that has not ended
    (logout, password change or reset) and has not been idle longer than the session lifetime.
    """
    try:
        officer_id, version = (int(part) for part in user_id.split(":"))
    except ValueError:
        return None
    token = session.get(SESSION_TOKEN_KEY)
    if not isinstance(token, str) or not token:
        return None
    row = db.session.execute(
        sa.select(Officer, OfficerSession)
        .join(OfficerSession, OfficerSession.officer_id == Officer.id)
        .where(Officer.id == officer_id, OfficerSession.token_hash == hash_token(token),
               OfficerSession.ended_at.is_(None))
        .execution_options(all_tenants=True)
    ).first()
    if row is None:
        return None
    officer, officer_session = row
    if officer.session_version != version or not officer.is_active:
        return None
    now = utcnow()
    if officer_session.last_seen_at <= now - current_app.permanent_session_lifetime:
        return None
    if officer_session.last_seen_at <= now - SEEN_EVERY:
        _touch_session(officer_session.id, now)
    return officer


def _touch_session(session_id: int, now) -> None:
    """Write the session's last use on a connection of its own: reading pages commits nothing."""
    table = OfficerSession.__table__
    with db.engine.begin() as conn:
        conn.execute(table.update().where(table.c.id == session_id).values(last_seen_at=now))


def start_session(officer: Officer, ip: str) -> None:
    """Log the officer in on this browser with a new server-side session (committed by the caller)."""
    token, token_hash = new_token()
    db.session.add(OfficerSession(tenant_id=officer.tenant_id, officer_id=officer.id, token_hash=token_hash,
                                  ip_hash=_address_hash(ip)))
    session.pop(SESSION_TOKEN_KEY, None)
    login_user(officer)
    session[SESSION_TOKEN_KEY] = token


def end_session() -> None:
    """Log out this browser: its server-side session ends, so a copy of the cookie is dead too."""
    token = session.pop(SESSION_TOKEN_KEY, None)
    if isinstance(token, str) and token:
        db.session.execute(
            sa.update(OfficerSession).where(OfficerSession.token_hash == hash_token(token),
                                            OfficerSession.ended_at.is_(None))
            .values(ended_at=utcnow()).execution_options(all_tenants=True, synchronize_session=False)
        )
    logout_user()


def _other_sessions(officer: Officer):
    """The officer's live sessions other than this browser's."""
    token = session.get(SESSION_TOKEN_KEY)
    return sa.and_(OfficerSession.officer_id == officer.id, OfficerSession.ended_at.is_(None),
                   OfficerSession.last_seen_at > utcnow() - current_app.permanent_session_lifetime,
                   OfficerSession.token_hash != hash_token(token if isinstance(token, str) else ""))


def count_other_sessions(officer: Officer) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(OfficerSession)
                             .where(_other_sessions(officer)).execution_options(all_tenants=True)) or 0


def end_other_sessions(officer: Officer) -> int:
    """Log the officer out everywhere but this browser (a lost phone, a shared computer)."""
    return db.session.execute(
        sa.update(OfficerSession).where(_other_sessions(officer)).values(ended_at=utcnow())
        .execution_options(all_tenants=True, synchronize_session=False)
    ).rowcount


def end_all_sessions(officer: Officer) -> None:
    """Every browser of the officer is logged out (password change or reset, deactivation)."""
    officer.session_version = (officer.session_version or 0) + 1
    db.session.execute(
        sa.update(OfficerSession).where(OfficerSession.officer_id == officer.id, OfficerSession.ended_at.is_(None))
        .values(ended_at=utcnow()).execution_options(all_tenants=True, synchronize_session=False)
    )


def forget_old_sessions(now=None) -> int:
    """Periodic: drop sessions unused for longer than an address stays known to the account."""
    now = now or utcnow()
    kept = max(KNOWN_ADDRESS_FOR, current_app.permanent_session_lifetime + timedelta(days=1))
    removed = db.session.execute(
        sa.delete(OfficerSession).where(OfficerSession.last_seen_at <= now - kept)
        .execution_options(all_tenants=True)
    ).rowcount
    db.session.commit()
    return removed


def known_address(email: str, ip: str) -> bool:
    """Has the account's officer logged in from this address within KNOWN_ADDRESS_FOR?"""
    officer = officer_by_email(email)
    if officer is None:
        return False
    return db.session.execute(
        sa.select(OfficerSession.id).where(
            OfficerSession.officer_id == officer.id, OfficerSession.ip_hash == _address_hash(ip),
            OfficerSession.last_seen_at > utcnow() - KNOWN_ADDRESS_FOR)
        .limit(1).execution_options(all_tenants=True)
    ).first() is not None


def _address_hash(ip: str) -> str:
    return keyed_hash("officer-address", ip)


def officer_by_email(email: str) -> Officer | None:
    return db.session.execute(
        sa.select(Officer).where(sa.func.lower(Officer.email) == email.strip().lower())
        .execution_options(all_tenants=True)
    ).scalar_one_or_none()


def authenticate(email: str, password: str) -> Officer | None:
    officer = officer_by_email(email)
    if officer is None or not officer.password_hash or not officer.active:
        _verify(_dummy_hash(password_hasher()), password)
        return None
    if not _verify(officer.password_hash, password):
        return None
    if password_hasher().check_needs_rehash(officer.password_hash):
        officer.password_hash = hash_password(password)
    officer.last_login_at = utcnow()
    return officer


def _verify(stored: str, password: str) -> bool:
    try:
        return password_hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def set_password(officer: Officer, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError("too_short")
    officer.password_hash = hash_password(password)
    if officer.id is not None:
        end_all_sessions(officer)


def create_tenant(slug: str, name: str) -> Tenant:
    tenant = Tenant(slug=slug.strip().lower(), name=name.strip(), settings={}, enabled_plugins=[], plugin_settings={})
    db.session.add(tenant)
    db.session.flush()
    return tenant


def create_officer(tenant: Tenant, email: str, name: str, role: str = "officer",
                   password: str | None = None, language: str | None = None) -> Officer:
    if officer_by_email(email) is not None:
        raise AccountError("email_taken")
    with tenant_context(tenant.id):
        officer = Officer(tenant_id=tenant.id, email=email.strip().lower(), name=name.strip(), role=role,
                          language=language)
        if password:
            set_password(officer, password)
        db.session.add(officer)
        db.session.flush()
    return officer


def issue_link(officer: Officer, purpose: str) -> str:
    """A one-time link token for reset or invite; earlier unused tokens of that purpose die."""
    now = utcnow()
    db.session.execute(
        sa.update(OfficerToken)
        .where(OfficerToken.officer_id == officer.id, OfficerToken.purpose == purpose, OfficerToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    token, token_hash = new_token()
    db.session.add(OfficerToken(tenant_id=officer.tenant_id, officer_id=officer.id, purpose=purpose,
                                token_hash=token_hash, expires_at=now + TOKEN_LIFETIME[purpose]))
    return token


def find_link(token: str, purpose: str) -> tuple[OfficerToken | None, str]:
    """Returns (token row, "ok" | "unknown" | "used" | "expired")."""
    row = db.session.execute(
        sa.select(OfficerToken).where(OfficerToken.token_hash == hash_token(token), OfficerToken.purpose == purpose)
        .execution_options(all_tenants=True)
    ).scalar_one_or_none()
    if row is None:
        return None, "unknown"
    if row.used_at is not None:
        return row, "used"
    if row.expires_at <= utcnow():
        return row, "expired"
    return row, "ok"


def send_reset(email: str) -> None:
    """Email a reset link if the address belongs to an active officer; silent otherwise."""
    officer = officer_by_email(email)
    if officer is None or not officer.active:
        return
    with tenant_context(officer.tenant_id):
        token = issue_link(officer, "reset")
        send_mail(officer.email, "password_reset", language=officer.language or "sv", tenant=officer.tenant,
                  officer=officer, link=external_url("auth.reset", token=token))
    log.info("password reset link issued for officer %s", officer.id)


def invite(tenant: Tenant, inviter: Officer, email: str, name: str, role: str, language: str) -> Officer:
    officer = create_officer(tenant, email, name, role=role, language=language)
    with tenant_context(tenant.id):
        token = issue_link(officer, "invite")
        send_mail(officer.email, "invitation", language=language, tenant=tenant, officer=officer, inviter=inviter,
                  link=external_url("auth.accept_invite", token=token))
    log.info("officer %s invited to tenant %s by officer %s", officer.id, tenant.id, inviter.id)
    return officer


def use_link(row: OfficerToken, password: str) -> Officer:
    with tenant_context(row.tenant_id):
        officer = row.officer
        set_password(officer, password)
        row.used_at = utcnow()
    return officer
