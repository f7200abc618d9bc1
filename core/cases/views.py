"""The office's case pages (thin: parse, call the service, render)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request
from flask_login import login_required

from core.extensions import db
from core.models import Case
from core.models.case import CASE_STATUSES

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.get("/")
@login_required
def index():
    status = request.args.get("status")
    query = sa.select(Case).order_by(Case.last_activity_at.desc()).limit(50)
    if status in CASE_STATUSES:
        query = query.where(Case.status == status)
    cases = db.session.scalars(query).all()
    return render_template("cases/index.html", cases=cases, status=status, statuses=CASE_STATUSES)
