"""Kiosk pages: the office's tablets (pair, revoke, overview) and the tablet's own pages.

The tablet's address is /kiosk/o/<organisation slug>/: public (no officer session), and what it
shows depends only on its device cookie. Everything sent to a tablet is `Cache-Control: no-store`.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup

from core.extensions import db
from core.i18n import _
from core.plugins import plugin_guard, public
from core.urls import external_url
from plugins.kiosk import service
from plugins.kiosk.models import NAME, OPENED, PUSHED, KioskDevice

bp = Blueprint(NAME, __name__, url_prefix="/kiosk", template_folder="templates", static_folder="static",
               static_url_path="/static")
_guard = plugin_guard(NAME)


@bp.before_request
def guard():
    if request.endpoint == f"{NAME}.static":
        return None
    if request.endpoint == f"{NAME}.poll":
        unchanged = _unchanged()
        if unchanged is not None:
            return unchanged
    return _guard()


def _unchanged():
    """The idle tablet's poll, when nothing changed: 204 from Redis (or one SQL query), before the
    organisation, the tablet's row, the session or a template are loaded. Otherwise None: the poll
    view answers the full state."""
    known = request.args.get("v", type=int)
    if known is None:
        return None
    found = service.quick_version(request.cookies.get(service.COOKIE))
    slug = ((request.view_args or {}).get("slug") or "").strip().lower()
    if found is None or found != (known, slug):
        return None
    return current_app.response_class(status=204)


@bp.after_request
def no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the office ------------------------------------------------------------------------------------


def _device(device_id: int) -> KioskDevice:
    device = db.session.get(KioskDevice, device_id)  # scoped: another organisation's is None
    if device is None or device.revoked_at is not None:
        abort(404)
    return device


@bp.get("/")
@login_required
def overview():
    return render_template("kiosk/overview.html", devices=service.devices(), views=service.showing,
                           address=external_url("kiosk.tablet", slug=g.tenant.slug))


@bp.post("/pairings")
@login_required
def new_pairing():
    row, code = service.create_pairing(g.tenant.id, current_user.id)
    db.session.commit()
    address = external_url("kiosk.tablet", slug=g.tenant.slug, code=code)
    from core.signing.bankid_method import qr_svg

    return render_template("kiosk/pairing.html", code=service.display_code(code), expires_at=row.expires_at,
                           address=external_url("kiosk.tablet", slug=g.tenant.slug),
                           qr=Markup(qr_svg(address)))  # noqa: S704  (qrcode's own SVG)


@bp.post("/devices/<int:device_id>/revoke")
@login_required
def revoke(device_id: int):
    device = _device(device_id)
    old_token_hash = device.token_hash
    service.revoke(device)
    db.session.commit()
    service.forget(old_token_hash)
    flash(_("%(name)s is no longer paired.", name=device.name), "success")
    return redirect(url_for("kiosk.overview"))


# --- the tablet ------------------------------------------------------------------------------------


@bp.get("/o/<slug>/")
@public(slug="slug")
def tablet(slug: str):
    device = service.request_device()
    if device is None:
        return render_template("kiosk/pair.html", slug=slug, code=request.args.get("code", ""), error=None)
    service.seen(device)
    if device.party_id is not None and (request.args.get("end") or device.state != PUSHED):
        # The tablet left the signing page (finished, timed out, or reloaded): back to idle.
        service.to_idle(device)
        db.session.commit()
        service.publish(device, g.tenant.slug)
        session.clear()  # nothing of the last party stays (their language choice, messages)
    return render_template("kiosk/idle.html", slug=slug, device=device)


@bp.post("/o/<slug>/pair")
@public(slug="slug")
def pair(slug: str):
    try:
        device, token = service.pair(g.tenant.id, request.form.get("code", ""), request.form.get("name", ""))
    except service.PairingError as refused:
        db.session.rollback()
        return render_template("kiosk/pair.html", slug=slug, code=request.form.get("code", ""),
                               name=request.form.get("name", ""), error=str(refused)), 422
    db.session.commit()
    response = redirect(url_for("kiosk.tablet", slug=slug))
    response.set_cookie(service.COOKIE, token, max_age=400 * 24 * 3600, httponly=True, samesite="Lax",
                        secure=request.is_secure or bool(current_app.config["SESSION_COOKIE_SECURE"]), path="/")
    return response


@bp.get("/o/<slug>/state")
@public(slug="slug")
def tablet_state(slug: str):
    device = service.request_device()
    if device is None:
        return jsonify(paired=False, url=url_for("kiosk.tablet", slug=slug)), 401
    service.seen(device)
    return jsonify(paired=True, version=device.version, state=device.state, url=service.tablet_url(device))


@bp.get("/o/<slug>/poll")
@public(slug="slug")
def poll(slug: str):
    """What the idle screen asks every 0.5 s with the version it knows (`?v=`): 204 while that is
    still the tablet's version (mostly answered by `_unchanged` before this view), else the state
    as `tablet_state` gives it, with the version to ask with next; 401 when not (or no longer) paired."""
    device = service.request_device()
    if device is None:
        return jsonify(paired=False, url=url_for("kiosk.tablet", slug=slug)), 401
    service.seen(device)
    service.publish(device, g.tenant.slug)  # the next polls are answered from Redis
    if request.args.get("v", type=int) == device.version:
        return current_app.response_class(status=204)
    return jsonify(paired=True, version=device.version, state=device.state, url=service.tablet_url(device))


@bp.post("/devices/<int:device_id>/cancel")
@login_required
def cancel(device_id: int):
    device = _device(device_id)
    service.cancel(device, current_user)
    db.session.commit()
    service.publish(device, g.tenant.slug)
    flash(_("%(name)s is back to idle.", name=device.name), "success")
    return redirect(request.form.get("next") if request.form.get("next", "").startswith("/cases/")
                    else url_for("kiosk.overview"))


def _watched_tenant(token: str):
    from tenants.models import Tenant

    device = service.device_for_link(token)
    if device is None:
        # The push ended (cancelled, replaced, done): the tablet's own cookie still names its
        # organisation, so the view answers 404 without counting a guessed link against the
        # address (tablets at one branch share it; 30 ended pushes a minute locked them all out).
        device = service.device_by_token(request.cookies.get(service.COOKIE), all_tenants=True)
    return db.session.get(Tenant, device.tenant_id) if device is not None else None


@bp.get("/w/<token>")
@public(_watched_tenant)
def watch(token: str):
    """What the tablet's signing page asks every second: is it still this party's turn?"""
    device = service.device_for_link(token)
    if device is None:
        # The push ended (cancelled, replaced, done). A tablet (its cookie) is told where its idle
        # screen is: its page may never have had an answer (just opened, or a form's answer written
        # in place) and would otherwise stay on the party's documents. Without the cookie: nothing.
        if service.request_device() is None:
            abort(404)
        return jsonify(idle_url=url_for("kiosk.tablet", slug=g.tenant.slug)), 404
    if request.args.get("touched") and device.state == OPENED:
        service.touched(device)  # the party is at it: the office sees "signing"
    service.seen(device)
    slug = g.tenant.slug
    return jsonify(state=device.state, idle_url=url_for("kiosk.tablet", slug=slug),
                   end_url=url_for("kiosk.tablet", slug=slug, end=1),
                   open_url=url_for("signing.open", token=token), steps=service.steps_fingerprint(device),
                   timeout=int(current_app.config["KIOSK_IDLE_SECONDS"]))


@bp.get("/progress")
@login_required
def all_progress():
    """What the tablet overview asks every 2 s: what each tablet shows."""
    return jsonify(devices=[{"id": d.id, "state": d.state, "text": service.showing(d)} for d in service.devices()])


@bp.get("/cases/<int:case_id>/progress")
@login_required
def progress(case_id: int):
    """What the case page's kiosk panel asks every 2 s: what each tablet shows of this case."""
    from core.models import Case

    case = db.session.get(Case, case_id)
    if case is None:
        abort(404)
    return jsonify(devices=[{"id": d.id, "state": d.state, "text": service.showing(d)}
                            for d in service.devices_of_case(case)])


@bp.post("/cases/<int:case_id>/push")
@login_required
def push(case_id: int):
    from core.models import Case, Party

    case = db.session.get(Case, case_id)
    if case is None:
        abort(404)
    party = db.session.get(Party, request.form.get("party", type=int) or 0)
    device = db.session.get(KioskDevice, request.form.get("device", type=int) or 0)
    if party is None or party.case_id != case.id or device is None or device.revoked_at is not None:
        abort(404)
    try:
        service.push(device, case, party, current_user, confirm=request.form.get("confirm") == "yes")
    except service.Busy as busy:
        db.session.rollback()
        return render_template("kiosk/confirm.html", case=case, party=party, device=device, message=str(busy)), 409
    except service.PushError as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(url_for("cases.detail", case_id=case.id))
    db.session.commit()
    service.publish(device, g.tenant.slug)  # the tablet's next poll sees the new version
    flash(_("Sent to %(tablet)s. %(party)s can now sign there.", tablet=device.name, party=party.name), "success")
    return redirect(url_for("cases.detail", case_id=case.id))


# --- the result for a party who signed in person ---------------------------------------------------


def _case(case_id: int):
    from core.models import Case

    case = db.session.get(Case, case_id)  # scoped: another organisation's case is None
    if case is None:
        abort(404)
    return case


@bp.get("/cases/<int:case_id>/result")
@login_required
def print_result(case_id: int):
    """A print-friendly page of the signed result, with the sealed PDFs to download and print."""
    case = _case(case_id)
    if not service.result_ready(case):
        abort(404)
    from core.signing import methods as signing_methods
    from core.timezones import format_time

    return render_template("kiosk/result.html", case=case, parties=list(case.parties), documents=list(case.documents),
                           method_labels=signing_methods.all_titles(), when=lambda t: format_time(t, g.tenant))


@bp.post("/cases/<int:case_id>/parties/<int:party_id>/email-result")
@login_required
def email_result(case_id: int, party_id: int):
    from core.models import Party

    case = _case(case_id)
    party = db.session.get(Party, party_id)
    if party is None or party.case_id != case.id:
        abort(404)
    try:
        address = service.email_result(case, party, request.form.get("email", ""), current_user)
    except service.ResultError as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(url_for("cases.detail", case_id=case.id) + "#kiosk-result")
    db.session.commit()
    flash(_("The signed result was emailed to %(email)s.", email=address), "success")
    return redirect(url_for("cases.detail", case_id=case.id) + "#kiosk-result")
