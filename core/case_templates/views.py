"""The office's template pages (thin: parse, call the service, render).

Every officer of a tenant sees, changes and uses the tenant's templates; the tenant scoping makes
another tenant's template simply not found (404).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from core.case_templates import service
from core.case_templates.cases import Person, case_from_template
from core.case_templates.forms import TemplateForm, UseForm
from core.case_templates.models import CaseTemplate
from core.cases.documents import render_page_png
from core.cases.forms import accept_uploads
from core.cases.messages import send_or_say_why
from core.cases.service import CaseError, upload_limit_mb
from core.extensions import db
from core.fields import editor
from core.fields.definitions import type_labels
from core.i18n import _, ngettext
from core.models import Case
from core.signing import methods as signing_methods
from core.storage import BlobNotFound, blobs

bp = Blueprint("case_templates", __name__, url_prefix="/templates")

EDITOR_PAGE_WIDTH = 1000


@bp.before_request
@login_required
def _office_only():
    """Every page here is for logged-in officers."""


def _template_or_404(template_id: int) -> CaseTemplate:
    template = db.session.scalar(sa.select(CaseTemplate).where(CaseTemplate.id == template_id))
    if template is None:
        abort(404)
    return template


# --- the list ------------------------------------------------------------------------------------


@bp.get("/")
def index():
    q = (request.args.get("q") or "").strip()[:200]
    archived = request.args.get("archived") == "1"
    found = service.templates(q=q, archived=archived)
    return render_template("case_templates/index.html", templates=found, q=q, archived=archived)


@bp.get("/<int:template_id>")
def detail(template_id: int):
    template = _template_or_404(template_id)
    content = service.version_of(template).content
    return render_template("case_templates/detail.html", template=template, content=content,
                           versions=service.versions(template), problems=service.use_problems(content),
                           method_labels=signing_methods.all_titles())


# --- creating and changing -----------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
def new():
    if request.method == "GET":
        return _render_form(TemplateForm.defaults(current_user.tenant), template=None, content=None)
    return _handle_form(template=None)


@bp.route("/<int:template_id>/edit", methods=["GET", "POST"])
def edit(template_id: int):
    template = _template_or_404(template_id)
    if request.method == "GET":
        content = service.version_of(template).content
        return _render_form(TemplateForm.from_template(template, content), template, content)
    return _handle_form(template)


def _render_form(form: TemplateForm, template: CaseTemplate | None, content: dict | None, status: int = 200):
    tenant = current_user.tenant
    return render_template(
        "case_templates/form.html", form=form, template=template, documents=(content or {}).get("documents", []),
        methods=signing_methods.offered(), method_labels=signing_methods.all_titles(),
        kept=[(k, k.reference(tenant.id)) for k in form.kept], limit_mb=upload_limit_mb(tenant),
    ), status


def _handle_form(template: CaseTemplate | None):
    form = TemplateForm.from_request(request.form, current_user.tenant_id)
    accept_uploads(request.files.getlist("documents"), current_user.tenant, form.kept, form.file_errors)
    previous = service.version_of(template, form.base_version or None).content if template else None
    action = request.form.get("action", "save")
    if form.apply_row_action(action) or action == "upload":
        return _render_form(form, template, previous)
    if not form.validate() or form.file_errors:
        if not form.file_errors:
            flash(_("Some fields need your attention; nothing you entered has been lost."), "error")
        return _render_form(form, template, previous, status=422)
    documents = previous["documents"] if previous else []
    keep = [i for i in range(len(documents)) if i not in form.remove_documents]
    added = [service.document_entry(k.filename, blobs().get(k.sha256)) for k in form.kept]
    content, found = service.revised_content(previous, form.settings(), [r.content() for r in form.roles], keep, added)
    try:
        if template is None:
            template = service.create_template(current_user, form.name, content, form.description)
        else:
            service.save_version(template, current_user, content, form.base_version, form.name, form.description)
    except service.TemplateChanged as changed:
        db.session.rollback()
        flash(changed.message + " " + _("Your changes are kept below; save again to make them the newest version."),
              "error")
        form.base_version = changed.template.version
        return _render_form(form, changed.template, previous, status=409)
    except service.TemplateError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _render_form(form, template, previous, status=422)
    db.session.commit()
    flash(_("The template has been saved."), "success")
    if found:
        flash(ngettext("%(num)d form field found in the documents was added. Check it in the field editor.",
                       "%(num)d form fields found in the documents were added. Check them in the field editor.",
                       found), "info")
    return redirect(url_for(".fields", template_id=template.id))


@bp.post("/from-case/<int:case_id>")
def from_case(case_id: int):
    """"Save as template" on any case: its documents, parties as roles, fields and settings."""
    case = db.session.scalar(sa.select(Case).where(Case.id == case_id))
    if case is None:
        abort(404)
    name = request.form.get("name", "").strip() or case.title
    content = service.content_from_case(case, _role_label)
    template = service.create_template(current_user, name, content)
    db.session.commit()
    flash(_("The case has been saved as a template. Check its roles and fields."), "success")
    return redirect(url_for(".detail", template_id=template.id))


def _role_label(kind: str, number: int) -> str:
    return _("Signer %(n)s", n=number) if kind == "signer" else _("Recipient %(n)s", n=number)


@bp.post("/<int:template_id>/copy")
def copy(template_id: int):
    template = _template_or_404(template_id)
    duplicate = service.copy_template(template, current_user)
    db.session.commit()
    flash(_("The template has been copied. You are looking at the copy."), "success")
    return redirect(url_for(".detail", template_id=duplicate.id))


@bp.post("/<int:template_id>/archive")
def archive(template_id: int):
    template = _template_or_404(template_id)
    archived = request.form.get("archived", "1") == "1"
    service.set_archived(template, current_user, archived)
    db.session.commit()
    flash(_("The template has been archived.") if archived else _("The template is in use again."), "success")
    return redirect(url_for(".detail", template_id=template.id))


# --- using it ------------------------------------------------------------------------------------


@bp.route("/<int:template_id>/use", methods=["GET", "POST"])
def use(template_id: int):
    template = _template_or_404(template_id)
    content = service.version_of(template).content
    if template.status != "active" or service.use_problems(content):
        flash(_("This template cannot be used yet.") if template.status == "active"
              else _("This template is archived. Use it again before making cases from it."), "error")
        return redirect(url_for(".detail", template_id=template.id))
    if request.method == "GET":
        return _render_use(template, content, UseForm.for_template(template, content))
    return _handle_use(template, content)


def _render_use(template: CaseTemplate, content: dict, form: UseForm, status: int = 200):
    return render_template("case_templates/use.html", template=template, content=content, form=form,
                           method_labels=signing_methods.all_titles(), type_labels=type_labels()), status


def _handle_use(template: CaseTemplate, current: dict):
    submitted = UseForm.from_request(request.form, current)
    if submitted.version != template.version:
        # The template changed while the officer was filling in: show the new version, keep their input.
        form = UseForm.for_template(template, current)
        form.keep_people(submitted)
        who = template.updated_by.name if template.updated_by else _("a colleague")
        flash(_("%(name)s changed the template while you were filling in; this is version %(version)s. Check the "
                "form: what you entered is kept.", name=who, version=template.version), "error")
        return _render_use(template, current, form, status=409)
    if not submitted.validate(current["allowed_methods"]):
        flash(_("Some fields need your attention; nothing you entered has been lost."), "error")
        return _render_use(template, current, submitted, status=422)
    people = {key: Person(row.name, row.email.lower(), row.phone or None, row.personal_number or None, row.language)
              for key, row in submitted.people.items()}
    try:
        case = case_from_template(template, current_user, people, submitted.version, submitted.values,
                                  submitted.title, submitted.message, submitted.expires_at)
    except (service.TemplateError, CaseError) as error:
        db.session.rollback()
        flash(error.message, "error")
        submitted.errors.update({f"value-{name}": " ".join(map(str, messages))
                                 for name, messages in getattr(error, "errors", {}).items()})
        return _render_use(template, current, submitted, status=422)
    if request.form.get("action") == "send":
        sent, text = send_or_say_why(case, current_user)
        flash(text, "success" if sent else "error")
    else:
        flash(_("The draft has been saved."), "success")
    db.session.commit()
    return redirect(url_for("cases.detail", case_id=case.id))


# --- fields --------------------------------------------------------------------------------------


@bp.get("/<int:template_id>/fields")
def fields(template_id: int):
    template = _template_or_404(template_id)
    content = service.version_of(template).content
    documents = [editor.EditorDocument(
        index, document["filename"], [
            editor.EditorPage(number, url_for(".page_image", template_id=template.id, sha256=document["sha256"],
                                              page=number), *size)
            for number, size in enumerate(document["pages"], 1)])
        for index, document in enumerate(content["documents"])]
    assignees = [(role["key"], role["label"]) for role in content["roles"] if role["kind"] == "signer"]
    return editor.render(documents, assignees, content["fields"], save_url=url_for(".save_fields",
                         template_id=template.id), back_url=url_for(".detail", template_id=template.id),
                         title=template.name, version=template.version)


@bp.post("/<int:template_id>/fields")
def save_fields(template_id: int):
    template = _template_or_404(template_id)
    body = request.get_json(silent=True) or {}
    base = body.get("version")
    content = service.version_of(template, base if isinstance(base, int) else None).content
    try:
        version = service.save_version(template, current_user, {**content, "fields": body.get("fields")},
                                       base if isinstance(base, int) else -1)
    except service.TemplateChanged as changed:
        db.session.rollback()
        return jsonify(ok=False, code="changed", message=changed.message + " " + _(
            "Your fields are still here: save again to replace that version, or reload the page to see it."),
            version=changed.template.version), 409
    except service.TemplateError as error:
        db.session.rollback()
        return jsonify(ok=False, code=error.code, message=_("Some fields need your attention."),
                       errors=error.errors.get("fields", error.errors)), 422
    db.session.commit()
    return jsonify(ok=True, version=version.number, message=_("The fields have been saved (version %(number)s).",
                                                              number=version.number))


@bp.get("/<int:template_id>/documents/<sha256>/pages/<int:page>.png")
def page_image(template_id: int, sha256: str, page: int):
    template = _template_or_404(template_id)
    known = {d["sha256"]: d["page_count"] for v in service.versions(template) for d in v.content["documents"]}
    if sha256 not in known or not 1 <= page <= known[sha256]:
        abort(404)
    try:
        png = render_page_png(blobs().get(sha256), page, width=EDITOR_PAGE_WIDTH)
    except BlobNotFound:
        abort(404)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=86400, immutable"})
