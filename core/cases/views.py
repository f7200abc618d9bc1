"""The office's case pages (thin: parse, call the service, render).

Every officer of a tenant sees and acts on every case of the tenant; the tenant scoping makes
another tenant's case simply not found (404).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from core.case_templates import service as templates
from core.case_templates.models import CaseTemplate
from core.cases import event_texts, followup, listing, previews, service
from core.cases.actors import describe as describe_actor
from core.cases.forms import CaseForm, KeptFile, accept_uploads
from core.cases.lookup import case_or_404, document_or_404, party_or_404
from core.cases.messages import error_text, send_or_say_why
from core.cases.service import CaseError
from core.downloads import attachment
from core.extensions import db
from core.fields.service import case_data
from core.i18n import _, current_language
from core.models import Case, Officer
from core.models.case import CASE_STATUSES
from core.phones import normalise_phone
from core.signing import methods as signing_methods
from core.storage import blobs
from core.text import valid_email

bp = Blueprint("cases", __name__, url_prefix="/cases")

PREVIEW_PAGES = 12
PREVIEW_THUMB = 160


@bp.before_request
@login_required
def _office_only():
    """Every page here is for logged-in officers."""


# --- the list ------------------------------------------------------------------------------------


@bp.get("/")
def index():
    status = request.args.get("status") or None
    status = status if status in CASE_STATUSES else None
    mine = request.args.get("scope") == "mine"
    q = (request.args.get("q") or "").strip()[:200]
    owner_id = current_user.id if mine else None
    template = _template_filter(request.args.get("template", ""))
    template_id = template.id if template is not None else None
    page = listing.list_cases(status=status, owner_id=owner_id, q=q, cursor=request.args.get("after"),
                              template_id=template_id)
    counts = listing.tab_counts(listing.status_counts(owner_id=owner_id, q=q, template_id=template_id))
    return render_template("cases/index.html", page=page, counts=counts, status=status, statuses=CASE_STATUSES,
                           mine=mine, q=q, status_labels=status_labels(), first_page=not request.args.get("after"),
                           template=template, templates=templates.templates(limit=500))


@bp.get("/export.<any(csv, xlsx):fmt>")
def export(fmt: str):
    """The cases the list's filters select, as CSV or Excel (with plugin and field columns)."""
    from flask import stream_with_context

    from core.cases import export as exporting
    from tenants.scoping import current_tenant_id, tenant_context

    status = request.args.get("status") or None
    owner_id = current_user.id if request.args.get("scope") == "mine" else None
    q = (request.args.get("q") or "").strip()[:200]
    raw_template = request.args.get("template", "")
    template = _template_filter(raw_template)
    if raw_template and template is None:
        abort(404)
    made = exporting.case_export(status=status if status in CASE_STATUSES else None, owner_id=owner_id, q=q,
                                 template=template)
    name = f"cases-{date.today().isoformat()}"
    if fmt == "csv":
        tenant_id = current_tenant_id()

        def chunks():  # read while the response streams: the request's tenant, set again
            with tenant_context(tenant_id):
                yield from exporting.csv_chunks(made)

        response = Response(stream_with_context(chunks()), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    spooled = exporting.xlsx_file(made)
    response = Response(iter(lambda: spooled.read(1 << 16), b""),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.call_on_close(spooled.close)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


def _template_filter(raw: str):
    """The template the list is filtered by (?template=<id>), if it is one of the organisation's."""
    if not raw.isdigit() or len(raw) > 9:
        return None
    return db.session.scalar(sa.select(CaseTemplate).where(CaseTemplate.id == int(raw)))


def status_labels() -> dict[str, str]:
    return {"draft": _("Drafts"), "pending": _("Waiting for signatures"), "completed": _("Signed"),
            "declined": _("Declined"), "revoked": _("Revoked"), "expired": _("Expired")}


# --- creating and editing drafts -----------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
def new():
    if request.method == "GET":
        return _render_form(CaseForm.defaults(current_user.tenant), case=None)
    return _handle_form(case=None)


@bp.route("/<int:case_id>/edit", methods=["GET", "POST"])
def edit(case_id: int):
    case = case_or_404(case_id)
    if case.status != "draft":
        flash(_("Only a draft can be edited; this case has already been sent."), "error")
        return redirect(url_for(".detail", case_id=case.id))
    if request.method == "GET":
        return _render_form(CaseForm.from_case(case), case=case)
    return _handle_form(case=case)


def _render_form(form: CaseForm, case: Case | None, status: int = 200):
    tenant = current_user.tenant
    return render_template(
        "cases/form.html", form=form, case=case, methods=signing_methods.offered(),
        method_labels=signing_methods.all_titles(),
        kept=[(k, k.reference(tenant.id)) for k in form.kept], limit_mb=service.upload_limit_mb(tenant),
    ), status


def _handle_form(case: Case | None):
    form = CaseForm.from_request(request.form, current_user.tenant_id)
    accept_uploads(request.files.getlist("documents"), current_user.tenant, form.kept, form.file_errors)
    action = request.form.get("action", "save")
    if form.apply_row_action(action) or action == "upload":
        return _render_form(form, case)
    if not form.validate() or form.file_errors:
        if not form.file_errors:
            flash(_("Some fields need your attention; nothing you entered has been lost."), "error")
        return _render_form(form, case, status=422)
    case = _save_draft(form, case)
    if action == "send":
        sent, text = send_or_say_why(case, current_user)
        db.session.commit()
        flash(text, "success" if sent else "error")
        return redirect(url_for(".detail" if sent else ".edit", case_id=case.id))
    db.session.commit()
    flash(_("The draft has been saved."), "success")
    return redirect(url_for(".detail", case_id=case.id))


def _save_draft(form: CaseForm, case: Case | None) -> Case:
    if case is None:
        case = service.create_case(current_user, **form.case_values())
    else:
        service.update_case(case, current_user, **form.case_values())
    for document in [d for d in case.documents if d.id in form.remove_documents]:
        service.remove_document(case, document, current_user)
    for kept in form.kept:
        if not any(d.sha256 == kept.sha256 for d in case.documents):
            service.add_document(case, kept.filename, blobs().get(kept.sha256), actor=current_user,
                                 checked_pages=kept.pages)
    service.replace_parties(case, current_user, form.party_values())
    return case


@bp.post("/<int:case_id>/delete")
def delete(case_id: int):
    case = case_or_404(case_id)
    try:
        service.delete_draft(case, current_user)
    except CaseError as error:
        flash(error_text(error), "error")
        return redirect(url_for(".detail", case_id=case.id))
    db.session.commit()
    flash(_("The draft has been deleted."), "success")
    return redirect(url_for(".index"))


@bp.post("/<int:case_id>/send")
def send(case_id: int):
    case = case_or_404(case_id)
    return _act(case, lambda: service.send_case(case, current_user), _("The case has been sent for signing."))


# --- the case page and its actions ---------------------------------------------------------------


@bp.get("/<int:case_id>")
def detail(case_id: int):
    case = case_or_404(case_id)
    colleagues = db.session.scalars(
        sa.select(Officer).where(Officer.active.is_(True)).order_by(Officer.name)
    ).all()
    return render_template(
        "cases/detail.html", case=case, colleagues=colleagues, status_labels=status_labels(),
        template=db.session.scalar(sa.select(CaseTemplate).where(CaseTemplate.id == case.template_id))
        if case.template_id else None, field_data=case_data(case, current_language()),
        party_names={p.id: p.name for p in case.parties},
        signed_parties={p.id for p in case.parties if p.status == "signed"},
        event_text=event_text, actor_text=describe_actor, method_labels=signing_methods.all_titles(),
        preview_pages=PREVIEW_PAGES,
        sealed_links=_sealed_links(case),
        signed_notices=_signed_notices(case),
        ready_problems=[error_text(CaseError(code)) for code in service.ready_problems(case)],
    )


def _signed_notices(case: Case) -> dict:
    """For documents that were already signed when uploaded: what the officer should know
    (from the upload's event, so no file is read again)."""
    notices = {}
    for event in case.events:
        if event.kind == "document_added" and (event.data or {}).get("signed_by"):
            notices[event.data.get("document_id")] = service.signed_notice(event.data["signed_by"])
    return notices


def _optional_url(endpoint: str, **values) -> str | None:
    """Links to routes other packages add (sealed files, receipt); absent until they exist."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _sealed_links(case: Case) -> dict[int, dict]:
    """Per sealed document: its sealed PDF and its receipt (routes of the sealing package)."""
    return {d.id: {"sealed": _optional_url("sealing.sealed_document", case_id=case.id, document_id=d.id),
                   "receipt": _optional_url("sealing.receipt", case_id=case.id, document_id=d.id)}
            for d in case.documents if d.sealed_sha256}


def _act(case: Case, action, success: str, anchor: str = ""):
    try:
        action()
    except CaseError as error:
        db.session.rollback()
        flash(error_text(error), "error")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(url_for(".detail", case_id=case.id) + anchor)


@bp.post("/<int:case_id>/parties/<int:party_id>/remind")
def remind(case_id: int, party_id: int):
    case = case_or_404(case_id)
    party = party_or_404(case, party_id)
    return _act(case, lambda: followup.remind_party(case, party, actor=current_user),
                _("A reminder has been sent to %(name)s.", name=party.name))


@bp.post("/<int:case_id>/parties/<int:party_id>/resend")
def resend(case_id: int, party_id: int):
    case = case_or_404(case_id)
    party = party_or_404(case, party_id)
    return _act(case, lambda: followup.resend_link(case, party, current_user),
                _("The link has been sent again to %(name)s; links sent earlier still work.", name=party.name))


@bp.post("/<int:case_id>/parties/<int:party_id>/replace-link")
def replace_link(case_id: int, party_id: int):
    case = case_or_404(case_id)
    party = party_or_404(case, party_id)
    return _act(case, lambda: followup.resend_link(case, party, current_user, replace=True),
                _("A new link has been sent to %(name)s; links sent earlier no longer work.", name=party.name))


@bp.post("/<int:case_id>/parties/<int:party_id>/correct")
def correct(case_id: int, party_id: int):
    case = case_or_404(case_id)
    party = party_or_404(case, party_id)
    email = request.form.get("email", "").strip().lower()
    phone = request.form.get("phone", "").strip()
    if not valid_email(email):
        flash(_("Give a valid email address, like name@example.com."), "error")
        return redirect(url_for(".detail", case_id=case.id))
    if phone:
        try:
            phone = normalise_phone(phone)
        except ValueError:
            flash(_("This is not a valid phone number. Give it like 070-123 45 67 or +46 70 123 45 67."), "error")
            return redirect(url_for(".detail", case_id=case.id))
    elif needed := signing_methods.missing_for(party.effective_methods, party.role, {"phone": None}).get("phone"):
        flash(needed, "error")
        return redirect(url_for(".detail", case_id=case.id))
    return _act(case, lambda: followup.correct_party(case, party, current_user, email=email, phone=phone or None),
                _("The details of %(name)s have been corrected.", name=party.name))


@bp.post("/<int:case_id>/revoke")
def revoke(case_id: int):
    case = case_or_404(case_id)
    reason = request.form.get("reason", "").strip()
    if not reason:
        flash(_("Give a reason for revoking; the parties will read it."), "error")
        return redirect(url_for(".detail", case_id=case.id))
    return _act(case, lambda: service.revoke_case(case, current_user, reason),
                _("The case has been revoked. The parties have been told, and their links no longer work."))


@bp.post("/<int:case_id>/reassign")
def reassign(case_id: int):
    case = case_or_404(case_id)
    raw = request.form.get("officer_id", "")
    colleague = db.session.scalar(sa.select(Officer).where(Officer.id == int(raw))) if raw.isdigit() else None
    if colleague is None:
        flash(_("Choose a colleague in your organisation."), "error")
        return redirect(url_for(".detail", case_id=case.id))
    return _act(case, lambda: followup.reassign_case(case, current_user, colleague),
                _("The case is now handled by %(name)s.", name=colleague.name))


@bp.post("/<int:case_id>/notes")
def note(case_id: int):
    case = case_or_404(case_id)
    return _act(case, lambda: followup.add_note(case, current_user, request.form.get("text", "")),
                _("The note has been added."), anchor="#timeline")


# --- files ---------------------------------------------------------------------------------------


@bp.get("/<int:case_id>/documents/<int:document_id>")
def original(case_id: int, document_id: int):
    document = document_or_404(case_or_404(case_id), document_id)
    return attachment(blobs().get(document.sha256), document.filename)


@bp.get("/<int:case_id>/documents/<int:document_id>/pages/<int:page>.png")
def preview(case_id: int, document_id: int, page: int):
    document = document_or_404(case_or_404(case_id), document_id)
    try:
        png = previews.page_preview(document, page)
    except CaseError:
        abort(404)
    db.session.commit()
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=86400"})


@bp.get("/uploads/pages/<int:page>.png")
def upload_preview(page: int):
    """A page of a file accepted on the form but not yet saved; the signed reference names it."""
    kept = KeptFile.from_reference(request.args.get("ref", ""), current_user.tenant_id)
    if kept is None or not 1 <= page <= kept.pages:
        abort(404)
    try:
        png = previews.upload_preview(kept.sha256, page, width=PREVIEW_THUMB)
    except CaseError:
        abort(404)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=3600"})


# --- the timeline --------------------------------------------------------------------------------


event_text = event_texts.text
