"""Pairing tablets, and what each tablet shows.

A tablet never holds an officer session: pairing gives it a random device token (a cookie; only
its SHA-256 is stored), and an officer can revoke it. A pairing code is short (typed on a tablet),
so it lives 10 minutes, is used once and is rate limited per address and per organisation.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import request

from core import ratelimit
from core.extensions import db
from core.models.base import utcnow
from core.security import client_ip, hash_token
from plugins.kiosk.models import IDLE, KioskDevice, KioskPairing

COOKIE = "sigill_kiosk"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed on a tablet
CODE_LENGTH = 8
CODE_LIFETIME = timedelta(minutes=10)
PAIR_RATE_LIMIT = "10/600"  # wrong pairing codes per address
TENANT_RATE_LIMIT = "50/600"  # wrong pairing codes per organisation
SEEN_EVERY = timedelta(seconds=30)  # last seen is written at most this often
NAME_MAX = 80


class PairingError(Exception):
    pass


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())[:CODE_LENGTH * 2]


def display_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def create_pairing(tenant_id: int, officer_id: int) -> tuple[KioskPairing, str]:
    code = new_code()
    row = KioskPairing(tenant_id=tenant_id, created_by=officer_id, code_hash=_code_hash(tenant_id, code),
                       expires_at=utcnow() + CODE_LIFETIME)
    db.session.add(row)
    db.session.flush()
    return row, code


def _code_hash(tenant_id: int, code: str) -> str:
    return hash_token(f"kiosk-pair:{tenant_id}:{normalise_code(code)}")


def pair(tenant_id: int, code: str, name: str) -> tuple[KioskDevice, str]:
    """Use a pairing code: a new device and its token (to set in the tablet's cookie)."""
    from core.i18n import _

    name = " ".join((name or "").split())[:NAME_MAX]
    # Wrong codes count (per address, and per organisation against guessing from many addresses).
    if not ratelimit.within("kiosk-pair", client_ip(), PAIR_RATE_LIMIT) or \
            not ratelimit.within("kiosk-pair-tenant", str(tenant_id), TENANT_RATE_LIMIT):
        raise PairingError(_("Too many attempts. Wait a few minutes and try again."))
    if not name:
        raise PairingError(_("Give the tablet a name, e.g. Counter 2."))
    now = utcnow()
    row = db.session.scalars(sa.select(KioskPairing).where(KioskPairing.code_hash == _code_hash(tenant_id, code))
                             .with_for_update()).first()
    if row is None or row.used_at is not None or row.expires_at <= now:
        ratelimit.hit("kiosk-pair", client_ip(), PAIR_RATE_LIMIT)
        ratelimit.hit("kiosk-pair-tenant", str(tenant_id), TENANT_RATE_LIMIT)
        raise PairingError(_("That pairing code is wrong, used or expired. Ask for a new code at the office."))
    token = secrets.token_urlsafe(32)
    device = KioskDevice(tenant_id=tenant_id, name=name, token_hash=hash_token(token), paired_by=row.created_by,
                         last_seen_at=now)
    db.session.add(device)
    db.session.flush()
    row.used_at, row.device_id = now, device.id
    return device, token


def device_by_token(token: str | None, *, all_tenants: bool = False) -> KioskDevice | None:
    if not token or len(token) > 100:
        return None
    stmt = sa.select(KioskDevice).where(KioskDevice.token_hash == hash_token(token),
                                        KioskDevice.revoked_at.is_(None))
    if all_tenants:
        stmt = stmt.execution_options(all_tenants=True)
    return db.session.scalars(stmt).first()


def request_device() -> KioskDevice | None:
    """The tablet this request comes from (its cookie), in the current organisation."""
    return device_by_token(request.cookies.get(COOKIE))


def seen(device: KioskDevice, now: datetime | None = None) -> None:
    now = now or utcnow()
    if device.last_seen_at is None or now - device.last_seen_at >= SEEN_EVERY:
        device.last_seen_at = now
        db.session.commit()


def devices() -> list[KioskDevice]:
    return list(db.session.scalars(sa.select(KioskDevice).where(KioskDevice.revoked_at.is_(None))
                                   .order_by(KioskDevice.name, KioskDevice.id)))


def revoke(device: KioskDevice) -> None:
    device.revoked_at = utcnow()
    device.token_hash = hash_token(secrets.token_urlsafe(32))  # the old token matches nothing
    to_idle(device)


def to_idle(device: KioskDevice) -> None:
    device.state = IDLE
    device.case_id = device.party_id = device.pushed_by = device.pushed_at = None
    device.push_token_hash = None
    device.version += 1


def push_token(device: KioskDevice) -> str | None:
    """The link the tablet opens for its pushed party: derived (keyed) from the push, so only its
    hash is stored; it works only with this tablet's cookie and only while the push lasts."""
    from core.security import keyed_hash

    if device.party_id is None or device.pushed_at is None:
        return None
    return "k" + keyed_hash("kiosk-push", str(device.id), str(device.version), device.pushed_at.isoformat())[:47]


def tablet_url(device: KioskDevice) -> str | None:
    from flask import url_for

    token = push_token(device)
    return url_for("signing.open", token=token) if token else None


def showing(device: KioskDevice) -> str:
    """What the tablet shows, for the office."""
    from core.i18n import _
    from core.models import Party

    if device.party_id is None:
        return _("Idle")
    party = db.session.get(Party, device.party_id)
    name = party.name if party else ""
    labels = {"pushed": _("Sent to %(name)s", name=name), "opened": _("%(name)s is reading", name=name),
              "signing": _("%(name)s is signing", name=name), "signed": _("%(name)s has signed", name=name),
              "declined": _("%(name)s declined", name=name)}
    return labels.get(device.state, _("Idle"))


# --- pushing a party to a tablet ---------------------------------------------------------------------


class PushError(Exception):
    pass


class Busy(PushError):
    """The tablet shows another party's signing: the officer must confirm to replace it."""


def busy(device: KioskDevice) -> bool:
    from plugins.kiosk.models import DECLINED, SIGNED

    return device.party_id is not None and device.state not in (SIGNED, DECLINED)


def push(device: KioskDevice, case, party, officer, confirm: bool = False) -> None:
    """Send `party` of `case` to `device`, with `officer` present. Records `kiosk_pushed`."""
    from core.cases import events
    from core.cases.actors import Actor
    from core.i18n import _
    from plugins.kiosk.models import PUSHED

    if device.revoked_at is not None or device.tenant_id != case.tenant_id or party.case_id != case.id:
        raise PushError(_("That tablet or party is not in this case's organisation."))
    if case.status != "pending" or party.role != "signer" or party.status in ("signed", "declined"):
        raise PushError(_("Only a party who has yet to sign a sent case can sign on a tablet."))
    if busy(device) and not confirm:
        raise Busy(_("%(tablet)s is showing another signing. Send anyway to replace it?", tablet=device.name))
    device.version += 1
    device.state, device.case_id, device.party_id = PUSHED, case.id, party.id
    device.pushed_by, device.pushed_at = officer.id, utcnow()
    device.push_token_hash = hash_token(push_token(device))
    events.record_by(case, "kiosk_pushed", Actor.for_officer(officer),
                     data={"party": party.id, "party_name": party.name, "device": device.id,
                           "device_name": device.name})


def device_for_link(token: str) -> KioskDevice | None:
    """The tablet whose push link this is, when this request carries that tablet's own cookie."""
    import hmac

    from flask import has_request_context

    if not has_request_context() or not token.startswith("k") or len(token) != 48:
        return None
    device = db.session.scalars(sa.select(KioskDevice).where(KioskDevice.push_token_hash == hash_token(token))
                                .execution_options(all_tenants=True)).first()
    cookie = request.cookies.get(COOKIE) or ""
    if device is None or device.revoked_at is not None or device.party_id is None or \
            not hmac.compare_digest(device.token_hash, hash_token(cookie)):
        return None
    from tenants.models import Tenant

    tenant = db.session.get(Tenant, device.tenant_id)
    if tenant is None or not tenant.has_plugin("kiosk"):
        return None
    return device


def touched(device: KioskDevice) -> None:
    """The party touched the tablet's page: "opened" becomes "signing", for the office. One UPDATE
    that checks the state, not the state read earlier: the party's signature may have stored
    "signed" since, which a late "signing" overwrote (the tablet then never went back to idle)."""
    from plugins.kiosk.models import OPENED, SIGNING

    db.session.execute(sa.update(KioskDevice).where(KioskDevice.id == device.id, KioskDevice.state == OPENED)
                       .values(state=SIGNING).execution_options(synchronize_session=False))
    db.session.commit()  # and `device` is read again: what it answers is what is stored


def set_state(case, party, state: str) -> None:
    """A pushed party's progress (opened, signed, declined), on every tablet showing them."""
    rows = db.session.scalars(sa.select(KioskDevice).where(KioskDevice.party_id == party.id,
                                                           KioskDevice.case_id == case.id))
    for device in rows:
        device.state = state


def devices_of_case(case) -> list[KioskDevice]:
    return list(db.session.scalars(sa.select(KioskDevice).where(KioskDevice.case_id == case.id,
                                                                KioskDevice.revoked_at.is_(None))))


def party_on_a_tablet(case, party) -> bool:
    found = db.session.scalars(sa.select(KioskDevice.id).where(KioskDevice.party_id == party.id,
                                                               KioskDevice.case_id == case.id).limit(1)).first()
    return found is not None


def cancel(device: KioskDevice, officer) -> None:
    """The officer sends the tablet back to idle; the case's timeline says so."""
    from core.cases import events
    from core.cases.actors import Actor
    from core.models import Case

    case = db.session.get(Case, device.case_id) if device.case_id else None
    if case is not None:
        events.record_by(case, "kiosk_cancelled", Actor.for_officer(officer),
                         data={"device": device.id, "device_name": device.name, "party": device.party_id})
    to_idle(device)


def steps_fingerprint(device: KioskDevice) -> str:
    """The pushed party's steps before signing (the core's `signing_steps`, e.g. an ID check) and
    whether each is done: when it changes, the tablet opens the signing page again."""
    from core.models import Case, Party
    from core.signing.steps import steps_for

    case = db.session.get(Case, device.case_id) if device.case_id else None
    party = db.session.get(Party, device.party_id) if device.party_id else None
    if case is None or party is None or party.case_id != case.id:
        return ""
    return ",".join(f"{step.name}:{int(bool(step.done))}" for step in steps_for(case, party))


def open_steps(device: KioskDevice) -> list[str]:
    """What the pushed party must do before signing (the core's `signing_steps`), for the office:
    e.g. an ID check the officer does at the counter on the case page."""
    from core.models import Case, Party
    from core.signing.steps import steps_for

    case = db.session.get(Case, device.case_id) if device.case_id else None
    party = db.session.get(Party, device.party_id) if device.party_id else None
    if case is None or party is None or party.case_id != case.id or case.status != "pending":
        return []
    return [str(step.label) for step in steps_for(case, party) if not step.done]


# --- the result for a party who signed in person without an email address -------------------------

RESULT_MAIL_RATE_LIMIT = "20/3600"  # results an officer emails from the counter


class ResultError(Exception):
    pass


def in_person_parties(case) -> list:
    """Signers with no email address (they signed in person): the office prints or emails them the
    result once the case is sealed."""
    return [p for p in case.parties if p.role == "signer" and not p.email and p.status == "signed"]


def result_ready(case) -> bool:
    return case.status == "completed" and bool(case.documents) and all(d.sealed_sha256 for d in case.documents)


def email_result(case, party, address: str, officer) -> str:
    """Send the sealed result to an address typed at the counter: the completion email, with links
    for this party (a new result link of its own; the links of earlier emails keep working, as the
    core keeps a party's earlier signing links). The case's timeline records who sent it to which
    address."""
    from core.cases import events
    from core.cases.actors import Actor
    from core.cases.service import issue_result_link
    from core.i18n import _
    from core.mail import send_mail
    from core.text import valid_email
    from core.urls import external_url
    from tenants.models import Tenant

    address = (address or "").strip()
    if not valid_email(address):
        raise ResultError(_("Give a valid email address, like name@example.com."))
    if party.case_id != case.id or party not in in_person_parties(case) or not result_ready(case):
        raise ResultError(_("The result can be emailed from here once the case is signed and sealed, "
                            "for a party who signed in person without an email address."))
    if not ratelimit.within("kiosk-result-mail", str(officer.id), RESULT_MAIL_RATE_LIMIT):
        raise ResultError(_("Too many attempts. Wait a few minutes and try again."))
    ratelimit.hit("kiosk-result-mail", str(officer.id), RESULT_MAIL_RATE_LIMIT)
    # Emailed before from the counter: that email's link keeps working beside the new one (the
    # link made at completion was never sent anywhere, so it is not kept).
    token = issue_result_link(party, keep_earlier=_emailed_before(case, party))
    links = [(d.filename, external_url("signing.download_sealed", token=token, document_id=d.id),
              external_url("sealing.party_receipt", token=token, document_id=d.id)) for d in case.documents]
    send_mail(address, "case_completed", party.language or case.language, tenant=db.session.get(Tenant, case.tenant_id),
              case=case, party=party, sender=officer, documents=links, extra=[],
              page_url=external_url("signing.open", token=token))
    events.record_by(case, "kiosk_result_emailed", Actor.for_officer(officer),
                     data={"party": party.id, "party_name": party.name, "email": address})
    return address


def _emailed_before(case, party) -> bool:
    from core.models import Event

    sent = db.session.scalars(sa.select(Event.data).where(Event.case_id == case.id,
                                                          Event.kind == "kiosk_result_emailed"))
    return any((data or {}).get("party") == party.id for data in sent)


# --- the idle tablet's cheap check ---------------------------------------------------------------
#
# An idle tablet asks every 0.5 s whether anything was sent to it. Most answers are "no", so that
# question must cost next to nothing: it is answered from Redis (`sigill:kiosk:poll:<token hash>`
# holds the tablet's `version` and its organisation's slug), without the session, the ORM or a
# template; only when the version differs from the one the tablet knows does the full state load.
# Every change of `version` (push, cancel, back to idle) is published there after its commit, and a
# revoke turns the old token's key into a tombstone, so a revoked tablet's next poll goes the full
# way and is refused. The key lives `POLL_TTL` seconds: then one poll goes the full way (it records
# "last seen" and fills the key again), which also bounds how long a write Redis missed (a blip
# during a push) can delay the tablet. Redis down: one plain SQL query instead of the key.

POLL_KEY = "sigill:kiosk:poll:"
POLL_TTL = 10  # seconds; then one poll goes the full way (and may record last seen)
REVOKED = "revoked"
REVOKED_TTL = 300  # longer than any request that might still fill the old key
# Set the key to "<version> <slug>" unless it holds a newer version or the tombstone: so a slow
# request that read an older row cannot overwrite what a push published meanwhile.
_PUBLISH = """
local current = redis.call('GET', KEYS[1])
if current then
  if current == ARGV[4] then return 0 end
  local known = tonumber(string.match(current, '^(%d+) '))
  if known and known > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[2], 'EX', tonumber(ARGV[3]))
return 1
"""


def _redis(func):
    """`func(redis)`, or None when Redis is not configured or unavailable (the fallbacks apply)."""
    from flask import current_app

    from core import redis_link

    if not current_app.config.get("REDIS_URL"):
        return None
    try:
        return redis_link.call(func)
    except redis_link.RedisUnavailable:
        return None


def publish(device: KioskDevice, slug: str) -> None:
    """After the commit that changed `device.version`: what the tablet's next poll compares with."""
    if device.revoked_at is not None:
        return
    _redis(lambda r: r.eval(_PUBLISH, 1, POLL_KEY + device.token_hash, device.version, slug, POLL_TTL, REVOKED))


def forget(token_hash: str) -> None:
    """After a revoke's commit: the old token's next poll is refused without asking the database."""
    _redis(lambda r: r.set(POLL_KEY + token_hash, REVOKED, ex=REVOKED_TTL))


def quick_version(token: str | None) -> tuple[int, str] | None:
    """(version, organisation slug) of the tablet with this token, or None: not known here (not
    cached, revoked, no such tablet, the plugin off), the full state answers. From Redis; with
    Redis unavailable (or not configured), one SQL query without the ORM."""
    if not token or len(token) > 100:
        return None
    token_hash = hash_token(token)
    from flask import current_app

    if current_app.config.get("REDIS_URL"):
        from core import redis_link

        try:
            cached = redis_link.call(lambda r: r.get(POLL_KEY + token_hash))
        except redis_link.RedisUnavailable:
            pass
        else:
            version, _sep, slug = (cached or b"").decode().partition(" ")
            return (int(version), slug) if version.isdigit() else None
    return _version_from_database(token_hash)


def _version_from_database(token_hash: str) -> tuple[int, str] | None:
    from tenants.models import Tenant

    device, tenant = KioskDevice.__table__, Tenant.__table__
    with db.engine.connect() as conn:
        row = conn.execute(sa.select(device.c.version, tenant.c.slug, tenant.c.enabled_plugins)
                           .join(tenant, tenant.c.id == device.c.tenant_id)
                           .where(device.c.token_hash == token_hash, device.c.revoked_at.is_(None))).first()
    if row is None or "kiosk" not in (row.enabled_plugins or []):
        return None
    return row.version, row.slug
