"""E-delivery routes: officers attach and remove files; parties download them after signing."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from core.cases.lookup import case_or_404
from core.downloads import attachment
from core.extensions import db
from core.i18n import _
from core.models import Case
from core.plugins import plugin_guard, public
from core.signing.views import with_link
from plugins.e_delivery import service

bp = Blueprint("e_delivery", __name__, url_prefix="/e-delivery", template_folder="templates")


# Office routes: 404 unless the officer's organisation has e-delivery on; the party's download is
# public, for the organisation of the signing link in its URL (and 404 where that has it off).
bp.before_request(plugin_guard(service.NAME))


def _back(case: Case):
    return redirect(url_for("cases.detail", case_id=case.id) + "#e-delivery")


def _send(data: bytes, delivery) -> Response:
    return attachment(data, delivery.filename, delivery.content_type)


@bp.post("/cases/<int:case_id>/files")
@login_required
def attach(case_id: int):
    case = case_or_404(case_id)
    upload = request.files.get("file")
    try:
        service.attach(case, current_user, upload.filename if upload else "", upload.read() if upload else b"",
                       request.form.get("description", ""))
    except service.DeliveryError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back(case)
    db.session.commit()
    flash(_("The file is attached. The parties get it when every signature is in."), "success")
    return _back(case)


@bp.post("/cases/<int:case_id>/files/<int:file_id>/remove")
@login_required
def remove(case_id: int, file_id: int):
    case = case_or_404(case_id)
    delivery = service.file_of(case, file_id) or abort(404)
    try:
        service.remove(case, delivery, current_user)
    except service.DeliveryError as exc:
        flash(str(exc), "error")
        return _back(case)
    db.session.commit()
    flash(_("The file is removed."), "success")
    return _back(case)


@bp.get("/cases/<int:case_id>/files/<int:file_id>")
@login_required
def officer_download(case_id: int, file_id: int):
    case = case_or_404(case_id)
    delivery = service.file_of(case, file_id) or abort(404)
    return _send(service.read(delivery), delivery)


@bp.get("/s/<token>/<int:file_id>")
@public(link="token")
@with_link("open", "waiting", "signed", "completed", "declined", "other_declined", "revoked", "expired")
def party_download(token: str, link, file_id: int):
    # Before the case is sealed the files do not exist, as far as any party can tell.
    if not service.released(link.case):
        abort(404)
    delivery = service.file_of(link.case, file_id) or abort(404)
    data = service.download_for_party(link.case, link.party, delivery)
    db.session.commit()
    return _send(data, delivery)
