"""BankID: the signer signs in the BankID app; BankID's XML signature and OCSP response are the evidence.

The page drives one order at a time (see core/static/bankid.js):

1. `start` (the signer chose "another device" or "this device"): a `sign` order whose visible text
   names the case, the organisation and every document with its SHA-256, in the party's language;
   the non-visible data holds the document hashes. Bound to the party's personal number when the
   officer gave one. The order's QR secret stays in the database.
2. `collect`, every second: the current QR frame (drawn here as SVG) and the order's state, with
   BankID's recommended message. BankID's own collect is called at most every ~2 s per order,
   whichever process serves the request.
3. On `complete` the completion is verified (XML signature, signed texts, OCSP bound by its nonce)
   and kept; the page then submits the signing form and `verify` uses it, once. What does not
   verify is refused, so no Signature is ever written without verified BankID evidence.
4. `cancel` when the signer cancels or leaves the page.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import current_app, request
from werkzeug.datastructures import MultiDict

from core import ratelimit
from core.bankid import (
    BankIDClient,
    BankIDError,
    BankIDEvidenceError,
    autostart_url,
    message_for,
    qr_frame,
    verify_completion,
)
from core.bankid.models import BankIDOrder
from core.extensions import db
from core.i18n import _, _l, force_locale, ngettext
from core.models.base import utcnow
from core.personal_numbers import is_valid as valid_personal_number
from core.security import mask_personal_number
from core.signing.methods import ActionResult, MethodRefused, MethodResult, SigningContext, SigningMethod

log = logging.getLogger(__name__)

# BankID asks for collect every 2 s; the page polls every second (tests set BANKID_COLLECT_INTERVAL).
COLLECT_INTERVAL = 1.8
# A pending order is resumed when the page is opened again (e.g. back from the BankID app).
RESUME_WITHIN = timedelta(minutes=5)
# Collect errors that may pass (network blips); after this many in a row the order fails.
MAX_COLLECT_ERRORS = 3
TRANSIENT_ERRORS = ("requestTimeout", "connectionError", "internalError", "maintenance")
START_LIMIT = "10/600"  # orders per party per 10 minutes
SHOW_QR_HINTS = (None, "outstandingTransaction", "noClient")
VISIBLE_LIMIT = 28_000  # UTF-8 bytes; BankID's limit is 40,000 characters after base64 (30,000 bytes)
EVIDENCE_REJECTED = "evidenceRejected"


class BankIDMethod(SigningMethod):
    name = "bankid"
    label = _l("BankID")
    title = _l("BankID")
    template = "signing/bankid.html"
    order = 10

    def configured(self) -> bool:
        return bool(current_app.config.get("BANKID_URL"))

    def available(self, party) -> bool:
        return self.configured()

    def template_context(self, ctx: SigningContext) -> dict[str, Any]:
        order = _latest_order(ctx.party.id)
        resume = order is not None and (
            (order.status == "pending" and order.started_at > utcnow() - RESUME_WITHIN)
            or (order.status == "complete" and order.used_at is None
                and order.documents_digest == ctx.documents_digest))
        return {
            "order": order if resume else None,
            "state": order_state(order, ctx.language) if resume else None,
            "personal_number_required": bool(_required_personal_number(ctx.party)),
        }

    def action(self, ctx: SigningContext, action: str, form: MultiDict) -> ActionResult:
        if action == "start":
            return self.start(ctx, form)
        if action in ("collect", "cancel"):
            order = _party_order(ctx, form.get("order"))
            if order is None:
                return ActionResult(ok=False, message=_("This BankID order is over. Start again."),
                                    data={"status": "gone"})
            if action == "collect":
                collect(ctx, order)
            else:
                cancel(ctx, order)
            return ActionResult(data=order_state(order, ctx.language))
        return super().action(ctx, action, form)

    def start(self, ctx: SigningContext, form: MultiDict) -> ActionResult:
        from core.cases import events

        if form.get("consent") != "yes":
            return _refusal(_("Confirm that you have read the documents and agree to sign them."))
        if ctx.field_errors:
            return _refusal(_("Fill in the fields marked below before you sign."))
        if form.get("documents_digest") != ctx.documents_digest:
            return _refusal(_("The documents have changed since you opened the page. Read them again before "
                              "signing."))
        if not ratelimit.hit("bankid-start", str(ctx.party.id), START_LIMIT):
            return _refusal(_("You have started BankID many times. Wait a few minutes and try again."))
        for earlier in _pending_orders(ctx.party.id):
            cancel(ctx, earlier)
        same_device = form.get("device") == "same"
        visible, non_visible = visible_text(ctx), non_visible_text(ctx)
        personal_number = _required_personal_number(ctx.party)
        try:
            started = bankid_client().sign(
                ctx.ip, visible, non_visible,
                requirement={"personalNumber": personal_number} if personal_number else None,
                return_url=(ctx.return_url or _return_url()) if same_device else None)
        except BankIDError as error:
            log.warning("bankid sign for party %s refused: %s", ctx.party.id, error.error_code)
            events.record(ctx.case, "bankid_not_started", "party", actor_id=ctx.party.id,
                          actor_label=ctx.party.name, data={"error": error.error_code},
                          ip=ctx.ip, user_agent=ctx.user_agent)
            return ActionResult(ok=False, message=message_for(None, error_code=error.error_code,
                                                              language=ctx.language),
                                data={"status": "error", "error": error.error_code})
        order = BankIDOrder(
            case_id=ctx.case.id, tenant_id=ctx.case.tenant_id, party_id=ctx.party.id,
            order_ref=started.order_ref, auto_start_token=started.auto_start_token,
            qr_start_token=started.qr_start_token, qr_start_secret=started.qr_start_secret,
            started_at=utcnow(), same_device=same_device, personal_number_required=bool(personal_number),
            language=ctx.language, documents_digest=ctx.documents_digest, user_visible_data=visible,
            user_non_visible_data=non_visible, status="pending", hint_code="outstandingTransaction",
        )
        db.session.add(order)
        db.session.flush()
        events.record(ctx.case, "bankid_started", "party", actor_id=ctx.party.id, actor_label=ctx.party.name,
                      data={"order": order.id, "order_ref": order.order_ref, "same_device": same_device,
                            "personal_number_required": bool(personal_number)},
                      ip=ctx.ip, user_agent=ctx.user_agent)
        return ActionResult(data=order_state(order, ctx.language))

    def verify(self, ctx: SigningContext, form: MultiDict) -> MethodResult:
        order = _party_order(ctx, form.get("bankid_order"))
        if order is None or order.status != "complete" or order.used_at is not None:
            raise MethodRefused(_("Sign in the BankID app first: choose one of the BankID buttons."))
        if order.documents_digest != ctx.documents_digest:
            raise MethodRefused(_("The documents have changed since you signed in BankID. Sign again."))
        try:
            checked = verify_completion(order.completion or {}, order.user_visible_data,
                                        order.user_non_visible_data, ca_path=signature_ca())
        except BankIDEvidenceError as error:
            log.warning("bankid order %s: stored completion rejected: %s", order.id, error.reason)
            _reject(order, EVIDENCE_REJECTED)
            raise MethodRefused(_evidence_rejected_message()) from None
        required = _required_personal_number(ctx.party)
        if required and checked["personal_number"] != required:
            log.warning("bankid order %s signed by another person than party %s", order.id, ctx.party.id)
            _reject(order, "wrongPerson")
            raise MethodRefused(_("The BankID used belongs to someone else. Sign with your own BankID."))
        claimed = db.session.execute(
            sa.update(BankIDOrder).where(BankIDOrder.id == order.id, BankIDOrder.used_at.is_(None))
            .values(used_at=utcnow()).execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            raise MethodRefused(_("This BankID signature has already been used. Sign again."))
        return result_of(order, checked)


# --- the order's life ------------------------------------------------------------------------------


def collect(ctx: SigningContext, order: BankIDOrder) -> None:
    """Ask BankID about a pending order, unless another poll did in the last ~2 seconds."""
    if order.status != "pending" or not _claim_collect(order):
        return
    try:
        result = bankid_client().collect(order.order_ref)
    except BankIDError as error:
        log.warning("bankid collect for order %s failed: %s", order.id, error.error_code)
        order.error_code = error.error_code
        order.collect_errors += 1
        if error.error_code not in TRANSIENT_ERRORS or order.collect_errors >= MAX_COLLECT_ERRORS:
            _finish(ctx, order, "failed", error_code=error.error_code)
        return
    order.collect_errors, order.error_code = 0, None
    if result.status == "complete":
        _complete(ctx, order, result.completion_data or {})
    elif result.status == "failed":
        _finish(ctx, order, "failed", hint_code=result.hint_code)
    else:  # pending, or a status BankID may add later: keep asking
        order.hint_code = (result.hint_code or "")[:40] or None


def cancel(ctx: SigningContext, order: BankIDOrder) -> None:
    """The signer cancelled, left the page or started again: cancel at BankID too."""
    if order.status != "pending":
        return
    try:
        bankid_client().cancel(order.order_ref)
    except BankIDError as error:  # BankID may already have ended it; ours ends anyway
        log.info("bankid cancel for order %s: %s", order.id, error.error_code)
    _finish(ctx, order, "cancelled", hint_code="userCancel")


def _complete(ctx: SigningContext, order: BankIDOrder, completion: dict[str, Any]) -> None:
    try:
        verify_completion(completion, order.user_visible_data, order.user_non_visible_data,
                          ca_path=signature_ca())
    except BankIDEvidenceError as error:
        log.warning("bankid order %s: completion rejected: %s", order.id, error.reason)
        _finish(ctx, order, "failed", error_code=EVIDENCE_REJECTED, detail=error.reason)
        return
    order.completion = completion
    _finish(ctx, order, "complete")


def _finish(ctx: SigningContext, order: BankIDOrder, status: str, hint_code: str | None = None,
            error_code: str | None = None, detail: str | None = None) -> None:
    """End a pending order once (a parallel poll or cancel may have ended it first)."""
    from core.cases import events

    values = {"status": status, "finished_at": utcnow(), "error_code": error_code,
              "hint_code": (hint_code or order.hint_code or "")[:40] or None}
    ended = db.session.execute(
        sa.update(BankIDOrder).where(BankIDOrder.id == order.id, BankIDOrder.status == "pending")
        .values(**values).execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(order)
    if not ended:
        return
    data = {"order": order.id, "status": status, "hint": order.hint_code, "error": error_code}
    if detail:
        data["detail"] = detail[:200]
    kind = "bankid_completed" if status == "complete" else "bankid_failed"
    events.record(ctx.case, kind, "party", actor_id=ctx.party.id, actor_label=ctx.party.name,
                  data={k: v for k, v in data.items() if v is not None}, ip=ctx.ip, user_agent=ctx.user_agent)


def _reject(order: BankIDOrder, error_code: str) -> None:
    """A completed order whose evidence cannot be used: never offered again (kept for the record)."""
    order.status, order.error_code = "failed", error_code
    db.session.flush()


def _claim_collect(order: BankIDOrder) -> bool:
    now = utcnow()
    interval = timedelta(seconds=float(current_app.config.get("BANKID_COLLECT_INTERVAL", COLLECT_INTERVAL)))
    claimed = db.session.execute(
        sa.update(BankIDOrder).where(
            BankIDOrder.id == order.id, BankIDOrder.status == "pending",
            sa.or_(BankIDOrder.collected_at.is_(None), BankIDOrder.collected_at <= now - interval),
        ).values(collected_at=now).execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(order)
    return claimed == 1


# --- what the page shows ---------------------------------------------------------------------------


def order_state(order: BankIDOrder | None, language: str) -> dict[str, Any]:
    """The order as the page needs it: status, BankID's message, the QR frame or the app link."""
    if order is None:
        return {"status": "gone"}
    state: dict[str, Any] = {"order": order.id, "status": order.status, "hint": order.hint_code,
                             "error": order.error_code, "same_device": order.same_device,
                             "message": _message(order, language)}
    if order.status == "pending":
        if order.same_device:
            state["autostart"] = app_link(order.auto_start_token)
        elif order.hint_code in SHOW_QR_HINTS:
            elapsed = (utcnow() - order.started_at).total_seconds()
            state["qr"] = qr_frame(order.qr_start_token, order.qr_start_secret, elapsed)
            state["qr_svg"] = qr_svg(state["qr"])
    return state


def _message(order: BankIDOrder, language: str) -> str:
    if order.status == "complete":
        return _("BankID has confirmed your signature. Saving it …")
    if order.error_code == EVIDENCE_REJECTED:
        return _evidence_rejected_message()
    if order.status == "pending":
        if order.error_code:  # a collect error that may pass
            return message_for(None, error_code=order.error_code, language=language)
        return message_for("pending", order.hint_code, same_device=order.same_device, language=language)
    if order.status == "cancelled":
        return message_for("failed", "userCancel", language=language)
    if order.error_code:
        return message_for(None, error_code=order.error_code, language=language)
    return message_for("failed", order.hint_code, same_device=order.same_device, language=language)


def _evidence_rejected_message() -> str:
    return _("BankID's answer could not be verified, so nothing was signed. Try again.")


def qr_svg(text: str) -> str:
    """The QR code as inline SVG (sized by CSS)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2,
                        error_correction=qrcode.constants.ERROR_CORRECT_L)
    svg = image.to_string(encoding="unicode")
    head, rest = svg.split(">", 1)
    head = " ".join(part for part in head.split(" ") if not part.startswith(("width=", "height=")))
    return f'{head} focusable="false" aria-hidden="true">{rest}'


def app_link(auto_start_token: str) -> str:
    """"Open BankID": BankID's universal link, or the configured app (the simulator's page)."""
    base = current_app.config.get("BANKID_APP_URL") or ""
    if not base or base.startswith("https://app.bankid.com"):
        return autostart_url(auto_start_token)
    query = urlencode({"autostarttoken": auto_start_token, "redirect": "null"})
    return f"{base}{'&' if '?' in base else '?'}{query}"


# --- what is signed --------------------------------------------------------------------------------


def _fits(lines: list[str]) -> bool:
    """Within BankID's limit (40,000 characters of base64, so 30,000 bytes of UTF-8; we keep a margin)."""
    return sum(len(line.encode()) + 1 for line in lines) <= VISIBLE_LIMIT


def visible_text(ctx: SigningContext) -> str:
    """What the BankID app shows (simpleMarkdownV1), in the party's language."""
    if ctx.listing is not None:
        return listing_text(ctx)
    with force_locale(ctx.language):
        heading = _("Sign documents")  # outside the f-string, so the catalogue extractor finds it
        lines = [f"# {_md(heading)}", "", f"*{_md(ctx.case.title)}*",
                 _md(_("From %(org)s", org=_organisation(ctx))), ""]
        for listed, document in enumerate(ctx.documents):
            entry = [f"## {_md(document.filename)}", _md(_("SHA-256: %(sha256)s", sha256=document.sha256)), ""]
            if not _fits(lines + entry):
                lines.append(_md(ngettext("… and %(num)d more document; its hash is in the signature.",
                                          "… and %(num)d more documents; their hashes are in the signature.",
                                          len(ctx.documents) - listed)))
                break
            lines.extend(entry)
        if ctx.field_values_sha256 is not None:
            lines += ["", _md(_("Your entries in the fields: SHA-256 %(sha256)s", sha256=ctx.field_values_sha256))]
    return "\n".join(lines).strip() + "\n"


def listing_text(ctx: SigningContext) -> str:
    """The visible text of an order over several items (a plugin signing many cases at once): its
    subject, the organisation, each item, shortened with "… and N more" to fit BankID's limit, and
    the note (e.g. the manifest's hash), which is always shown."""
    with force_locale(ctx.language):
        heading = _("Sign documents")
        lines = [f"# {_md(heading)}", "", f"*{_md(ctx.subject or ctx.case.title)}*",
                 _md(_("From %(org)s", org=_organisation(ctx))), ""]
        note = ["", _md(ctx.listing_note)] if ctx.listing_note else []
        items = ctx.listing or []
        for listed, (title, line) in enumerate(items):
            entry = [f"## {_md(title)}"] + ([_md(line)] if line else []) + [""]
            rest = len(items) - listed - 1
            more = [_md(_more(rest))] if rest else []
            if not _fits(lines + entry + more + note):
                lines.append(_md(_more(len(items) - listed)))
                break
            lines.extend(entry)
        lines += note
    return "\n".join(lines).strip() + "\n"


def _more(num: int) -> str:
    return ngettext("… and %(num)d more; it is in the signed list.",
                    "… and %(num)d more; every one is in the signed list.", num)


def non_visible_text(ctx: SigningContext) -> str:
    """The document hashes and the SHA-256 of the party's field values, machine-readable, signed
    along with the visible text (or what a plugin signing several cases gives, `ctx.signed_data`)."""
    if ctx.signed_data is not None:
        return ctx.signed_data
    documents = [{"id": int(key), "filename": value["filename"], "sha256": value["sha256"]}
                 for key, value in ctx.document_hashes.items()]
    data = {"case": ctx.case.id, "documents": documents, "documents_digest": ctx.documents_digest}
    if ctx.field_values_sha256 is not None:
        data["field_values_sha256"] = ctx.field_values_sha256
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _md(text: str) -> str:
    """Plain text for simpleMarkdownV1: its formatting characters escaped, one line."""
    text = " ".join(str(text).split())
    for char in ("\\", "*", "|", "#", "+", "_"):
        text = text.replace(char, "\\" + char)
    return text


def _organisation(ctx: SigningContext) -> str:
    from tenants.models import Tenant

    tenant = db.session.get(Tenant, ctx.case.tenant_id)
    return tenant.name if tenant is not None else "Sigill"


# --- evidence --------------------------------------------------------------------------------------


def result_of(order: BankIDOrder, checked: dict[str, Any]) -> MethodResult:
    """Evidence (everything BankID returned, verified), identity, and a summary without secrets."""
    completion = order.completion or {}
    evidence = {
        "order_ref": order.order_ref,
        "same_device": order.same_device,
        "personal_number_required": order.personal_number_required,
        "started_at": order.started_at.isoformat(),
        "completed_at": order.finished_at.isoformat() if order.finished_at else None,
        "user_visible_data": order.user_visible_data,
        "user_non_visible_data": order.user_non_visible_data,
        "user_visible_data_format": "simpleMarkdownV1",
        "documents_digest": order.documents_digest,
        "completion_data": completion,
        "verified": {key: checked.get(key) for key in ("name", "ip_address", "bank_id_issue_date", "cert_subject",
                                                       "cert_serial", "ocsp_produced_at")},
    }
    identity = {key: checked.get(key) for key in ("name", "given_name", "surname", "personal_number")}
    identity["bank_id_issue_date"] = checked.get("bank_id_issue_date")
    # The event chain binds the stored evidence by its hashes; no full personal number goes there.
    summary = {"name": checked.get("name"), "personal_number": mask_personal_number(checked.get("personal_number")),
               "order_ref": order.order_ref, "cert_serial": checked.get("cert_serial"),
               "ocsp_produced_at": checked.get("ocsp_produced_at"),
               "signature_sha256": _sha256(completion.get("signature")),
               "ocsp_response_sha256": _sha256(completion.get("ocspResponse"))}
    return MethodResult(evidence=evidence, identity=identity, summary=summary)


def _sha256(text: str | None) -> str | None:
    return hashlib.sha256(text.encode()).hexdigest() if text else None


# --- plumbing --------------------------------------------------------------------------------------


def bankid_client() -> BankIDClient:
    """One client per configuration and process (it holds the TLS context and connections)."""
    config = current_app.config
    key = tuple(config.get(name) for name in ("BANKID_URL", "BANKID_CERT_P12", "BANKID_CERT_PASSWORD",
                                               "BANKID_CA", "BANKID_TIMEOUT"))
    clients = current_app.extensions.setdefault("sigill_bankid_clients", {})
    if key not in clients:
        try:
            clients[key] = BankIDClient(config["BANKID_URL"], config["BANKID_CERT_P12"],
                                        config.get("BANKID_CERT_PASSWORD") or "", config["BANKID_CA"],
                                        timeout=float(config.get("BANKID_TIMEOUT") or 10))
        except (OSError, ValueError, TypeError, KeyError) as exc:
            log.error("BankID is configured but its certificates cannot be loaded: %s", type(exc).__name__)
            raise BankIDError("connectionError", "RP certificate or CA not loadable") from exc
    return clients[key]


def signature_ca() -> str:
    config = current_app.config
    return config.get("BANKID_SIGNATURE_CA") or config["BANKID_CA"]


def _return_url() -> str:
    """Back to this signing page after the BankID app (same device)."""
    from core.urls import external_url

    return external_url("signing.open", token=request.view_args["token"]) + "#method-bankid"


def _refusal(message: str) -> ActionResult:
    return ActionResult(ok=False, message=message, data={"status": "refused"})


def _required_personal_number(party) -> str | None:
    digits = "".join(ch for ch in (party.personal_number or "") if ch.isdigit())
    return digits if valid_personal_number(digits) else None


def _latest_order(party_id: int) -> BankIDOrder | None:
    return db.session.scalars(
        sa.select(BankIDOrder).where(BankIDOrder.party_id == party_id)
        .order_by(BankIDOrder.started_at.desc(), BankIDOrder.id.desc()).limit(1)
    ).first()


def _pending_orders(party_id: int) -> list[BankIDOrder]:
    return list(db.session.scalars(
        sa.select(BankIDOrder).where(BankIDOrder.party_id == party_id, BankIDOrder.status == "pending")
    ))


def _party_order(ctx: SigningContext, raw_id: str | None) -> BankIDOrder | None:
    """The party's own order by the id the page sent; anything else is None."""
    try:
        order_id = int(raw_id or "")
    except ValueError:
        return None
    order = db.session.get(BankIDOrder, order_id)
    return order if order is not None and order.party_id == ctx.party.id else None
