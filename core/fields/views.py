"""The field editor for a draft case (thin: parse, check, call the service, answer JSON).

Templates have their own editor route (core.case_templates.views); both render fields/editor.html.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, jsonify, redirect, request, url_for
from flask_login import login_required

from core.extensions import db
from core.fields import editor, service
from core.fields.definitions import load_specs
from core.i18n import _
from core.models import Case

bp = Blueprint("fields", __name__, url_prefix="/cases")


@bp.before_request
@login_required
def _office_only():
    """Every page here is for logged-in officers."""


def _draft_or_404(case_id: int) -> Case:
    case = db.session.scalar(sa.select(Case).where(Case.id == case_id))
    if case is None:
        abort(404)
    return case


@bp.get("/<int:case_id>/fields")
def edit(case_id: int):
    case = _draft_or_404(case_id)
    if case.status != "draft":
        flash(_("Fields can only be placed while the case is a draft."), "error")
        return redirect(url_for("cases.detail", case_id=case.id))
    documents = [editor.EditorDocument(d.id, d.filename, [
        editor.EditorPage(number, url_for("cases.preview", case_id=case.id, document_id=d.id, page=number), *size)
        for number, size in enumerate(service.page_sizes(d), 1)]) for d in case.documents]
    assignees = [(str(p.id), p.name) for p in case.parties if p.role == "signer"]
    fields = [f.spec.as_dict() for f in service.fields_of(case)]
    return editor.render(documents, assignees, fields, save_url=url_for(".save", case_id=case.id),
                         back_url=url_for("cases.detail", case_id=case.id), title=case.title)


@bp.post("/<int:case_id>/fields")
def save(case_id: int):
    case = _draft_or_404(case_id)
    if case.status != "draft":
        message = _("Only a draft can be changed; this case has been sent.")
        return jsonify(ok=False, code="not_draft", message=message), 409
    sizes = {d.id: service.page_sizes(d) for d in case.documents}
    signers = {str(p.id) for p in case.parties if p.role == "signer"}
    specs, problems = load_specs((request.get_json(silent=True) or {}).get("fields"),
                                 {d: len(pages) for d, pages in sizes.items()}, signers, sizes)
    if problems:
        return jsonify(ok=False, code="invalid", message=_("Some fields need your attention."),
                       errors=problems.as_dict()), 422
    service.replace_fields(case, specs, sizes)
    db.session.commit()
    return jsonify(ok=True, message=_("The fields have been saved."))
