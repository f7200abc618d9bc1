"""ID check pages: the signer's step page (public, by their signing link) and the office's actions."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from core.extensions import db
from core.i18n import _
from core.models import Case, Party
from core.plugins import plugin_guard, public
from plugins.id_check import capture, service
from plugins.id_check.models import NAME, IdCheck

bp = Blueprint(NAME, __name__, url_prefix="/id-check", template_folder="templates", static_folder="static",
               static_url_path="/static")
_guard = plugin_guard(NAME)


@bp.before_request
def guard():
    if request.endpoint == f"{NAME}.static":  # the capture scripts: the same for everyone
        return None
    return _guard()


def with_link(*states):
    from core.signing.views import with_link as core_with_link

    return core_with_link(*states)


def _upload() -> service.Upload:
    def read(name: str) -> bytes | None:
        file = request.files.get(name)
        data = file.read(service.MAX_IMAGE_BYTES + 1) if file else b""
        return data or None

    return service.Upload(front=read("front") or b"", back=read("back"))


# --- the signer's step --------------------------------------------------------------------------------


@bp.route("/s/<token>", methods=["GET", "POST"])
@public(link="token")
@with_link("open")
def step(token: str, link):
    row = service.required_check(link.party)
    if row is None:
        return redirect(url_for("signing.open", token=token))
    errors: list[str] = []
    if request.method == "POST":
        try:
            service.check_party(link.case, link.party, _upload(), request.form.get("mrz", ""))
        except service.CheckError as exc:
            errors = exc.reasons
        db.session.commit()  # the verdict, or the attempt
        if not errors:
            return redirect(url_for(f"{NAME}.step", token=token))
    return render_template("id_check/step.html", link=link, token=token, row=row, errors=errors,
                           reasons=service.failure_reasons(row) if row.status == "failed" else [],
                           limits=capture.limits(), messages=service.capture_messages(),
                           camera_texts=service.camera_texts()), 422 if errors else 200


# --- the office ------------------------------------------------------------------------------------------


def _case_or_404(case_id: int) -> Case:
    return db.session.scalars(sa.select(Case).where(Case.id == case_id)).first() or abort(404)


def _party_or_404(case: Case, party_id: int) -> Party:
    return db.session.scalars(sa.select(Party).where(Party.id == party_id, Party.case_id == case.id)).first() \
        or abort(404)


def _check_or_404(case: Case, check_id: int) -> IdCheck:
    return db.session.scalars(sa.select(IdCheck).where(IdCheck.id == check_id, IdCheck.case_id == case.id)).first() \
        or abort(404)


def _back(case: Case):
    return redirect(url_for("cases.detail", case_id=case.id) + "#id-check")


@bp.post("/cases/<int:case_id>/parties/<int:party_id>/require")
@login_required
def require(case_id: int, party_id: int):
    case = _case_or_404(case_id)
    party = _party_or_404(case, party_id)
    try:
        service.set_requirement(case, party, request.form.get("mode", ""), current_user)
    except service.CheckError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back(case)
    db.session.commit()
    flash(_("The ID check for %(party)s is saved.", party=party.name), "success")
    return _back(case)


@bp.post("/cases/<int:case_id>/parties/<int:party_id>/capture")
@login_required
def capture_in_person(case_id: int, party_id: int):
    case = _case_or_404(case_id)
    party = _party_or_404(case, party_id)
    try:
        row = service.check_party(case, party, _upload(), request.form.get("mrz", ""), officer=current_user,
                                  seen=request.form.get("seen") == "yes",
                                  fields=service.document_fields(request.form))
    except service.CheckError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back(case)
    db.session.commit()
    if row.status == "passed":
        flash(_("The ID check of %(party)s passed.", party=party.name), "success")
    else:
        flash(" ".join([_("The ID check of %(party)s failed:", party=party.name), *service.failure_reasons(row)]),
              "error")
    return _back(case)


@bp.post("/cases/<int:case_id>/checks/<int:check_id>/approve")
@login_required
def approve(case_id: int, check_id: int):
    case = _case_or_404(case_id)
    row = _check_or_404(case, check_id)
    try:
        service.approve(case, row, current_user)
    except service.CheckError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back(case)
    db.session.commit()
    flash(_("The ID check is approved: the party can sign."), "success")
    return _back(case)


@bp.get("/cases/<int:case_id>/checks/<int:check_id>/<any(front, back):side>")
@login_required
def image(case_id: int, check_id: int, side: str):
    """A photo, decrypted for an officer of the case's tenant only (other tenants' rows are not found)."""
    case = _case_or_404(case_id)
    row = _check_or_404(case, check_id)
    data = service.read_image(row, side)
    if data is None:
        abort(404)
    response = Response(data, mimetype=row.image_type or "application/octet-stream")
    response.headers["Cache-Control"] = "no-store, private"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.post("/templates/<int:template_id>/roles/<role_key>/require")
@login_required
def require_for_role(template_id: int, role_key: str):
    from core.case_templates.models import CaseTemplate

    template = db.session.scalars(sa.select(CaseTemplate).where(CaseTemplate.id == template_id)).first() or abort(404)
    try:
        service.set_template_requirement(template, role_key, request.form.get("mode", ""))
    except service.CheckError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("The ID check for the role is saved. New cases from this template ask it."), "success")
    return redirect(url_for("case_templates.detail", template_id=template.id) + "#id-check")
