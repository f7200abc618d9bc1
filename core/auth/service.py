"""Officer accounts: passwords (argon2id), sessions, reset and invitation links."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import cache

import sqlalchemy as sa
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

from core.extensions import db
from core.mail import send_mail
from core.models import Officer, OfficerToken, Tenant
from core.models.base import utcnow
from core.security import hash_token, new_token
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
    """Flask-Login's loader: "<id>:<session version>" so a password change ends old sessions."""
    try:
        officer_id, version = (int(part) for part in user_id.split(":"))
    except ValueError:
        return None
    officer = db.session.execute(
        sa.select(Officer).where(Officer.id == officer_id).execution_options(all_tenants=True)
    ).scalar_one_or_none()
    if officer is None or officer.session_version != version or not officer.is_active:
        return None
    return officer


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
    officer.session_version = (officer.session_version or 0) + 1


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
