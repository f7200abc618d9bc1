"""SMS code: a 6-digit one-time code sent to the party's phone (see shared/notes/otp-sms.md).

Codes come from `secrets`, are stored only as an HMAC bound to the challenge, the party and the
SHA-256 of the documents, live 10 minutes, allow 5 attempts before that code is locked, and only
the party's newest code is valid. Sending is throttled per party and per IP. Every send and
every attempt is an event on the case; neither codes nor full phone numbers reach events or logs.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import timedelta

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from core import ratelimit
from core.extensions import db
from core.i18n import _, _l, force_locale, ngettext
from core.models.base import utcnow
from core.phones import InvalidPhoneNumber, normalise_phone
from core.security import keyed_hash, mask_phone
from core.signing.methods import ActionResult, MethodRefused, MethodResult, SigningContext, SigningMethod
from core.signing.models import SmsChallenge
from core.sms import SmsError, send_sms

log = logging.getLogger(__name__)

CODE_LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5
CODE_FIELD = "sms-code"  # the code input's id: refusals about the code are shown there
SEND_LIMIT = 3
SEND_WINDOW = timedelta(minutes=15)
SEND_LIMIT_PER_IP = "10/900"
ATTEMPT_LIMIT_PER_IP = "30/900"  # codes tried from one address, whatever the party


def code_hash(challenge: SmsChallenge, party_id: int, documents_digest: str, code: str) -> str:
    return keyed_hash("sms-code", challenge.nonce, str(party_id), documents_digest, code)


def newest_challenge(party_id: int) -> SmsChallenge | None:
    return db.session.scalars(
        sa.select(SmsChallenge).where(SmsChallenge.party_id == party_id)
        .order_by(SmsChallenge.created_at.desc(), SmsChallenge.id.desc()).limit(1)
    ).first()


_NEWEST_STATE = (
    sa.select(SmsChallenge.used_at, SmsChallenge.locked_at, SmsChallenge.attempts, SmsChallenge.expires_at)
    .where(SmsChallenge.party_id == sa.bindparam("party_id"))
    .order_by(SmsChallenge.created_at.desc(), SmsChallenge.id.desc()).limit(1)
)


class SmsMethod(SigningMethod):
    name = "sms"
    label = _l("Code by text message")
    title = _l("SMS code")
    icon = ('<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false" class="method-icon">'
            '<rect x="6" y="2" width="12" height="20" rx="2" fill="none" stroke="currentColor" stroke-width="2"/>'
            '<path d="M10 18h4" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg>')
    template = "signing/method_sms.html"
    order = 30
    party_needs = {"phone": _l("A mobile number is needed when the party may sign with an SMS code.")}

    def identity(self, party, signature) -> dict[str, str]:
        found = super().identity(party, signature)
        if not found.get("phone") and party.phone:
            found["phone"] = party.phone
        return found

    def available(self, party) -> bool:
        return bool(party.phone)

    def template_context(self, ctx: SigningContext) -> dict:
        # Only the newest code's state matters; its four columns, not the row (a hot path).
        newest = db.session.execute(_NEWEST_STATE, {"party_id": ctx.party.id}).first()
        live = newest is not None and _usable(newest)
        return {"phone_masked": mask_phone(_e164(ctx.party.phone)), "code_sent": live}

    def action(self, ctx: SigningContext, action: str, form: MultiDict) -> ActionResult:
        if action != "send":
            return super().action(ctx, action, form)
        return self.send_code(ctx)

    def send_code(self, ctx: SigningContext) -> ActionResult:
        from core.cases import events

        party = ctx.party
        since = utcnow() - SEND_WINDOW
        recent = db.session.scalars(
            sa.select(SmsChallenge.created_at).where(SmsChallenge.party_id == party.id,
                                                     SmsChallenge.created_at > since)
            .order_by(SmsChallenge.created_at)
        ).all()
        if len(recent) >= SEND_LIMIT or not ratelimit.hit("sms-send-ip", ctx.ip, SEND_LIMIT_PER_IP):
            wait = _minutes_until(recent[0] + SEND_WINDOW) if len(recent) >= SEND_LIMIT else 15
            return ActionResult(ok=False, message=ngettext(
                "You have asked for several codes. Wait %(num)d minute and try again.",
                "You have asked for several codes. Wait %(num)d minutes and try again.", wait))
        try:
            phone = normalise_phone(party.phone)
        except InvalidPhoneNumber:
            return ActionResult(ok=False, message=_(
                "Your phone number cannot receive codes. Ask the sender to correct it, or choose another method."))
        code = f"{secrets.randbelow(10**6):06d}"
        now = utcnow()
        challenge = SmsChallenge(
            case_id=ctx.case.id, party_id=party.id, nonce=secrets.token_hex(16), code_hash="",
            documents_digest=ctx.documents_digest, phone_masked=mask_phone(phone), gateway="",
            created_at=now, expires_at=now + CODE_LIFETIME,
        )
        challenge.code_hash = code_hash(challenge, party.id, ctx.documents_digest, code)
        with force_locale(ctx.language):
            text = _("Code %(code)s to sign '%(title)s' for %(org)s", code=code, title=ctx.subject or ctx.case.title,
                     org=_organisation(ctx.case))
        try:
            sent = send_sms(phone, text)
        except SmsError:
            events.record(ctx.case, "sms_code_not_sent", "party", actor_id=party.id, actor_label=party.name,
                          data={"phone": mask_phone(phone)}, ip=ctx.ip, user_agent=ctx.user_agent)
            return ActionResult(ok=False, message=_(
                "The text message could not be sent. Try again in a moment, or choose another method."))
        challenge.gateway = sent.gateway
        challenge.gateway_message_id = sent.message_id[:64]
        db.session.add(challenge)
        db.session.flush()
        events.record(ctx.case, "sms_code_sent", "party", actor_id=party.id, actor_label=party.name,
                      data={"challenge": challenge.id, "phone": challenge.phone_masked, "gateway": sent.gateway},
                      ip=ctx.ip, user_agent=ctx.user_agent)
        return ActionResult(message=_("We sent a code to %(phone)s. It is valid for 10 minutes.",
                                      phone=challenge.phone_masked))

    def verify(self, ctx: SigningContext, form: MultiDict) -> MethodResult:
        from core.cases import events

        party = ctx.party
        if not ratelimit.hit("sms-attempt-ip", ctx.ip, ATTEMPT_LIMIT_PER_IP):
            raise MethodRefused(_("Too many codes were tried from your network. Wait 15 minutes and try again."),
                                 field=CODE_FIELD)
        challenge = newest_challenge(party.id)
        if challenge is None:
            raise MethodRefused(_("Ask for a code first."), field="sms-send")
        problem = _problem(challenge, ctx.documents_digest, has_fields=ctx.field_values_sha256 is not None)
        if problem:
            raise MethodRefused(problem, field=CODE_FIELD)
        code = "".join(ch for ch in form.get("sms_code", "") if not ch.isspace())
        correct = len(code) == 6 and code.isdigit() and hmac.compare_digest(
            code_hash(challenge, party.id, ctx.documents_digest, code), challenge.code_hash)
        if not correct:
            attempts = _count_wrong_attempt(challenge)
            locked = attempts >= MAX_ATTEMPTS
            events.record(ctx.case, "sms_code_wrong", "party", actor_id=party.id, actor_label=party.name,
                          data={"challenge": challenge.id, "attempt": attempts, "locked": locked},
                          ip=ctx.ip, user_agent=ctx.user_agent)
            if locked:
                raise MethodRefused(_("Wrong code too many times: this code is locked. Ask for a new code."),
                                     field=CODE_FIELD)
            left = MAX_ATTEMPTS - attempts
            raise MethodRefused(ngettext("Wrong code. You have %(num)d attempt left.",
                                         "Wrong code. You have %(num)d attempts left.", left), field=CODE_FIELD)
        now = utcnow()
        used = db.session.execute(
            sa.update(SmsChallenge)
            .where(SmsChallenge.id == challenge.id, SmsChallenge.used_at.is_(None), SmsChallenge.locked_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not used:
            raise MethodRefused(_("This code has already been used. Ask for a new code."), field=CODE_FIELD)
        events.record(ctx.case, "sms_code_verified", "party", actor_id=party.id, actor_label=party.name,
                      data={"challenge": challenge.id, "attempt": challenge.attempts + 1},
                      ip=ctx.ip, user_agent=ctx.user_agent)
        phone = _e164(party.phone)
        evidence = {
            "challenge": challenge.id, "phone_masked": challenge.phone_masked, "gateway": challenge.gateway,
            "gateway_message_id": challenge.gateway_message_id, "sent_at": challenge.created_at.isoformat(),
            "verified_at": now.isoformat(), "wrong_attempts": challenge.attempts,
            "documents_digest": challenge.documents_digest,
        }
        summary = {"phone": challenge.phone_masked, "challenge": challenge.id, "gateway": challenge.gateway}
        return MethodResult(evidence=evidence, identity={"phone": phone}, summary=summary)


def _usable(challenge) -> bool:
    """`challenge`: an SmsChallenge, or a row with its used_at, locked_at, attempts, expires_at."""
    return (challenge.used_at is None and challenge.locked_at is None and challenge.attempts < MAX_ATTEMPTS
            and challenge.expires_at > utcnow())


def _problem(challenge: SmsChallenge, documents_digest: str, has_fields: bool = False) -> str | None:
    if challenge.used_at is not None:
        return _("This code has already been used. Ask for a new code.")
    if challenge.locked_at is not None or challenge.attempts >= MAX_ATTEMPTS:
        return _("Wrong code too many times: this code is locked. Ask for a new code.")
    if challenge.expires_at <= utcnow():
        return _("The code has expired. Ask for a new code.")
    if challenge.documents_digest != documents_digest:
        if has_fields:  # the code binds the party's entries too: most often it is they that changed
            return _("Your entries or the documents have changed since the code was sent. Check them and ask for "
                     "a new code.")
        return _("The documents have changed since the code was sent. Ask for a new code.")
    return None


def _count_wrong_attempt(challenge: SmsChallenge) -> int:
    """Count one wrong attempt in the database (parallel attempts all count); lock at the limit."""
    db.session.execute(
        sa.update(SmsChallenge).where(SmsChallenge.id == challenge.id).values(
            attempts=SmsChallenge.attempts + 1,
            locked_at=sa.case((SmsChallenge.attempts + 1 >= MAX_ATTEMPTS, utcnow()), else_=SmsChallenge.locked_at),
        ).execution_options(synchronize_session=False)
    )
    attempts = db.session.execute(
        sa.select(SmsChallenge.attempts).where(SmsChallenge.id == challenge.id)
    ).scalar_one()
    db.session.expire(challenge)
    return attempts


def _minutes_until(moment) -> int:
    return max(1, int((moment - utcnow()).total_seconds() // 60) + 1)


def _organisation(case) -> str:
    from tenants.models import Tenant

    tenant = db.session.get(Tenant, case.tenant_id)
    return tenant.name if tenant is not None else "Sigill"


def _e164(phone: str | None) -> str:
    try:
        return normalise_phone(phone or "")
    except InvalidPhoneNumber:
        return phone or ""
