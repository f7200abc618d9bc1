"""The public verification pages (no login)."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from core import ratelimit
from core.sealing import fingerprint as codes
from core.security import client_ip
from core.verify import service

bp = Blueprint("verify", __name__, url_prefix="/verify")

RATE = "60/60"


def _limit() -> None:
    ratelimit.limit_or_429("verify", client_ip(), RATE)


def _read_upload() -> tuple[bytes | None, str | None]:
    """The uploaded file, or None and the problem's kind (nothing chosen, too large)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return None, "no_file"
    limit = current_app.config["VERIFY_MAX_MB"] * 1024 * 1024
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        return None, "too_large"
    return data, None


@bp.get("/")
def index():
    code = request.args.get("code")
    if code:
        return redirect(url_for("verify.fingerprint", code=codes.normalise(code) or "-"))
    return render_template("verify/index.html")


@bp.post("/")
def upload():
    _limit()
    data, problem = _read_upload()
    if problem:
        return render_template("verify/index.html", problem=problem), 400
    verdict = service.verify_upload(data)
    return render_template("verify/result.html", verdict=verdict), _status(verdict)


@bp.get("/<code>")
def fingerprint(code: str):
    _limit()
    status, summary = service.by_fingerprint(code)
    typed = codes.normalise(code)
    http_status = 200 if status == "ok" else 404
    return render_template("verify/code.html", status=status, summary=summary, code=typed), http_status


@bp.post("/<code>")
def compare(code: str):
    _limit()
    status, summary = service.by_fingerprint(code)
    if status != "ok":
        return redirect(url_for("verify.fingerprint", code=code))
    data, problem = _read_upload()
    if problem:
        return render_template("verify/code.html", status=status, summary=summary, code=codes.normalise(code),
                               problem=problem), 400
    verdict = service.verify_upload(data)
    return render_template("verify/code.html", status=status, summary=summary, code=codes.normalise(code),
                           identical=verdict.is_document(summary.fingerprint), verdict=verdict), _status(verdict)


def _status(verdict: service.Verdict) -> int:
    """422 when the upload is no PDF we can open; any verdict on a PDF is an answer (200)."""
    return 422 if verdict.kind in ("not_pdf", "empty", "encrypted") else 200
