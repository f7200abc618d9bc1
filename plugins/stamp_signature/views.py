"""The stamp page, reached from a party's own signing link: /stamp/s/<token> (under /s/, so log lines
mask the token like the signer page's)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, g, jsonify, render_template, request
from flask_login import login_required

from core.cases.lookup import case_or_404
from core.downloads import attachment
from core.extensions import db
from core.i18n import _, _l
from core.models import Document
from core.plugins import plugin_guard, public
from core.security import client_ip, user_agent
from core.signing import service as signing
from core.signing.views import with_link
from core.storage import blobs
from plugins.stamp_signature import retry, service

bp = Blueprint(service.NAME, __name__, url_prefix="/stamp", template_folder="templates", static_folder="static",
               static_url_path="/static")
_guard = plugin_guard(service.NAME)


@bp.before_request
def guard():
    if request.endpoint == f"{service.NAME}.static":  # the page's script: the same for everyone
        return None
    return _guard()


def _page(token: str, link: signing.Link, outcome: service.Outcome | None = None, error: str | None = None,
          status: int = 200, notice: str | None = None, progress: dict | None = None):
    text = (request.args.get("q") or "").strip().casefold()
    sender = request.args.get("sender", type=int)
    since = _date(request.args.get("since"))
    show_all = request.args.get("all") == "1"

    def keep(o: signing.Link) -> bool:
        return ((not text or text in o.case.title.casefold()) and (not sender or o.case.owner_id == sender)
                and (since is None or bool(o.case.sent_at and o.case.sent_at.date() >= since)))

    # Being signed by jobs after this POST: not offered again.
    queued = frozenset(case.id for case in outcome.queued) if outcome is not None else frozenset()
    waiting = service.waiting_page(link.party, None if show_all else service.PAGE_SIZE, keep, queued)
    shown, more = waiting.links, waiting.more
    facts = service.page_rows(link.party, shown, client_ip(), user_agent(), g.locale)
    rows, opened = facts.rows, facts.opened
    must_open = service.require_opened(link.tenant)
    for row in rows:
        row["unopened"] = must_open and not all(d.id in opened for d in row["case"].documents)
    allowed = service.allowed_methods(shown)  # each case's methods, read once
    methods = service.offered_methods(shown, allowed)
    for row in rows:
        row["methods"] = service.row_methods(row["party"], allowed[row["party"].id])
    bankid_state, resumed = (service.bankid_resume(link.party, client_ip(), user_agent(), g.locale)
                             if "bankid" in methods and outcome is None else (None, []))
    resumed = list(resumed) + [int(raw) for raw in (request.args.get("retry") or "").split(",") if raw.isdigit()]
    failed = [f for f in retry.failures(link.party) if outcome is None or f.kind == "seal"]
    filters = {"q": request.args.get("q", ""), "sender": sender, "since": request.args.get("since", ""),
               "senders": facts.senders, "total": len(shown) + more, "more": more,
               "active": bool(text or sender or since)}
    return render_template("stamp_signature/page.html", token=token, link=link, rows=rows, opened=opened,
                           filters=filters, progress=progress or {}, bankid_state=bankid_state,
                           resumed=resumed, failed=failed,
                           methods=methods, outcome=outcome, error=error, notice=notice, form=request.form), status


@bp.get("/s/<token>")
@public(link="token")
@with_link("open", "waiting", "signed")
def page(token: str, link: signing.Link):
    return _page(token, link)


@bp.get("/s/<token>/documents/<int:document_id>")
@public(link="token")
@with_link("open", "waiting", "signed")
def document(token: str, link: signing.Link, document_id: int):
    """A document of one of the person's waiting cases; the first open is recorded."""
    found = db.session.get(Document, document_id)
    mine = {p.case_id: p for p in service.candidates(link.party, found.case_id)} if found is not None else {}
    if found is None or found.case_id not in mine:
        abort(404)
    service.record_opened(mine[found.case_id], found.id)
    return attachment(blobs().get(found.sha256), found.filename)


def _date(raw: str | None):
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _selected() -> dict[int, str]:
    """The ticked cases, each with the documents digest the page showed."""
    selected: dict[int, str] = {}
    for raw in request.form.getlist("case"):
        if raw.isdigit():
            selected[int(raw)] = request.form.get(f"digest:{raw}", "")
    return selected


@bp.post("/s/<token>/sms")
@public(link="token")
@with_link("open", "waiting", "signed")
def send_code(token: str, link: signing.Link):
    """Send one code for the ticked cases (bound to their manifest)."""
    selected = _selected()
    if not selected:
        return _page(token, link, error=_("Tick at least one document to sign."), status=422)
    outcome, message, ok = service.send_code(link.party, selected, client_ip(), user_agent(), g.locale,
                                             link.tenant.name, must_open=service.require_opened(link.tenant))
    if not ok and not message:
        return _page(token, link, outcome=outcome, status=422)
    if not ok:
        return _page(token, link, outcome=outcome if outcome.refused else None, error=message, status=422)
    return _page(token, link, outcome=outcome if outcome.refused else None, notice=message)


def _return_url(token: str) -> str:
    from core.urls import external_url

    return external_url(f"{service.NAME}.page", token=token) + "#stamp-bankid"


@bp.post("/s/<token>/bankid/<action>")
@public(link="token")
@with_link("open", "waiting", "signed")
def bankid(token: str, link: signing.Link, action: str):
    """The BankID order over the ticked cases, driven by the core's BankID script: `start` (one
    order over their manifest), `collect`, `cancel`. JSON as the signer page's method steps."""
    if action == "start":
        selected = _selected()
        if not selected:
            return jsonify(ok=False, message=_("Tick at least one document to sign."), data={"status": "refused"})
        outcome, result = service.bankid_start(link.party, selected, request.form, client_ip(), user_agent(),
                                               g.locale, link.tenant.name, _return_url(token),
                                               must_open=service.require_opened(link.tenant))
        if result is None:
            reasons = "; ".join(f"{title or case_id}: {reason}" for case_id, title, reason in outcome.refused)
            return jsonify(ok=False, message=_("None of the ticked documents can be signed now. %(reasons)s",
                                               reasons=reasons), data={"status": "refused"})
        data = dict(result.data)
        data["refused"] = [{"case": case_id, "title": title, "reason": reason}
                           for case_id, title, reason in outcome.refused]
        return jsonify(ok=result.ok, message=result.message, data=data)
    if action not in ("collect", "cancel"):
        abort(404)
    result = service.bankid_step(link.party, action, request.form, client_ip(), user_agent(), g.locale)
    return jsonify(ok=result.ok, message=result.message, data=result.data)


@bp.post("/s/<token>/seal/<int:case_id>/retry")
@public(link="token")
@with_link("open", "waiting", "signed")
def retry_seal(token: str, link: signing.Link, case_id: int):
    """Restart the failed sealing of a case the person signed in a stamp signature."""
    from core import ratelimit

    if not ratelimit.hit("stamp-seal-retry", str(link.party.id), retry.RETRY_LIMIT):
        return _page(token, link, error=_("You have restarted the sealing many times. Wait a few minutes."),
                     status=429)
    if not retry.retry_seal(link.party, case_id):
        return _page(token, link, error=_("There is no failed sealing to restart for this case."), status=404)
    return _page(token, link, notice=_("The sealing was restarted. This page shows when it is done."))


@bp.post("/s/<token>/sign")
@public(link="token")
@with_link("open", "waiting", "signed")
def sign(token: str, link: signing.Link):
    selected = _selected()
    if not selected:
        return _page(token, link, error=_("Tick at least one document to sign."), status=422)
    if request.form.get("consent") != "yes":
        return _page(token, link, error=_("Confirm that you have read the documents and agree to sign them."),
                     status=422)
    method = request.form.get("method", "")
    if method not in service.STAMP_METHODS:
        return _page(token, link, error=_("Choose one of the signing methods shown on the page."), status=422)
    try:
        if method == "bankid":
            outcome = service.sign_bankid(link.party, request.form, client_ip(), user_agent(), g.locale,
                                          link.tenant.name, must_open=service.require_opened(link.tenant),
                                          selected=selected)
        else:
            outcome = service.sign_together(link.party, selected, method, request.form, client_ip(), user_agent(),
                                            g.locale, link.tenant.name,
                                            must_open=service.require_opened(link.tenant))
    except signing.SignRefused as refused:
        return _page(token, link, error=refused.message, status=422)
    progress = {case_id: str(PROGRESS_LABELS.get(state, state))
                for case_id, state in service.progress(link.party, [c.id for c in outcome.signed]).items()}
    progress.update({case.id: str(PROGRESS_LABELS["signing"]) for case in outcome.queued})
    return _page(token, signing.link_state(link.party), outcome=outcome, progress=progress)


PROGRESS_LABELS = {
    "signing": _l("Being signed…"),
    "others": _l("Waiting for the other parties"), "sealing": _l("Being sealed…"),
    "sealing_failed": _l("Sealing failed: the organisation can restart it"), "sealed": _l("Sealed"),
    "revoked": _l("Closed without sealing"), "expired": _l("Closed without sealing"),
    "declined": _l("Closed without sealing"),
}


@bp.get("/s/<token>/progress")
@public(link="token")
@with_link("open", "waiting", "signed", "completed")
def progress(token: str, link: signing.Link):
    """What the result polls while the signed cases are signed and sealed: {case id: {outcome, text}}
    for the cases named (`case`), or for every case of the stamp signature (`manifest`: its hash)."""
    ids = [int(raw) for raw in request.args.getlist("case") if raw.isdigit()]
    sha256 = request.args.get("manifest", "")
    found = service.progress(link.party, ids, sha256 if len(sha256) == 64 else None)
    reasons = service.not_signed([i for i, state in found.items() if state == "not_signed"], sha256)
    response = jsonify({str(case_id): {"outcome": state, "text": reasons.get(case_id) or
                                       str(PROGRESS_LABELS.get(state, state))}
                        for case_id, state in found.items()})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/cases/<int:case_id>/parties/<int:party_id>/manifest.json")
@login_required
def manifest(case_id: int, party_id: int):
    """The manifest a party signed this case in (for the office): the exact bytes that were hashed."""
    case = case_or_404(case_id)
    party = next((p for p in case.parties if p.id == party_id), None)
    stamp = service.stamp_of(party) if party is not None else None
    found = service.manifest(stamp["manifest_sha256"]) if stamp else None
    if found is None:
        abort(404)
    return attachment(found.manifest.encode(), f"stamp-manifest-{found.sha256[:12]}.json",
                      mimetype="application/json")
