"""The signer's pages under /s/<token> (thin: resolve the link, call the service, render).

The token is the only key: no account, no session needed. Resolving it sets the tenant, so every
query below sees only the party's own case. Unknown tokens are rate limited per IP.
"""

from __future__ import annotations

import logging
from functools import wraps

from flask import (
    Blueprint,
    Response,
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
from sqlalchemy.exc import DBAPIError

from core import ratelimit
from core.bounded import BoundExceeded
from core.downloads import attachment
from core.extensions import db
from core.fields import service as fields
from core.i18n import _
from core.models import Document
from core.sealing.service import within_retention
from core.security import client_ip, user_agent
from core.sessions import end_session
from core.signing import compare as comparing
from core.signing import page, pages, service
from core.signing.methods import methods_for
from core.storage import BlobNotFound, blobs
from tenants import scoping

log = logging.getLogger(__name__)
bp = Blueprint("signing", __name__, url_prefix="/s")

COMPARE_RATE_LIMIT = "20/600"
FIELDS_RATE_LIMIT = "600/600"  # saves per party: a save a second while typing, for ten minutes
PROBLEM_STATUS = {"unknown": 404, "revoked": 410, "expired": 410, "other_declined": 410}


def with_link(*states: str):
    """Resolve `<token>` to a party, set tenant and language; other states get their own page."""

    def decorator(view):
        @wraps(view)
        def wrapper(token: str, **kwargs):
            link = _resolve(token)
            if link.state not in states:
                if request.method == "POST" and _wants_json():
                    # e.g. signed in another tab while a script polls: send it to the page
                    return jsonify(ok=False, state=link.state, message="",
                                   redirect=url_for("signing.open", token=token)), 409
                return _state_page(token, link)
            return view(token, link, **kwargs)

        return wrapper

    return decorator


def _resolve(token: str) -> service.Link:
    party = service.find_party(token)
    if party is None:
        ratelimit.limit_or_429("signer-link", client_ip(), current_app.config["TOKEN_RATE_LIMIT"])
        return service.Link("unknown")
    previous = g.pop("tenant_token", None)  # a logged-in officer's tenant: the link's tenant wins
    if previous is not None:
        scoping.reset_current_tenant(previous)
    g.tenant_token = scoping.set_current_tenant(party.tenant_id)
    link = service.link_state(party)
    g.tenant = link.tenant
    g.party = party
    chosen = session.get("signer_lang")
    g.locale = chosen if chosen in current_app.config["LANGUAGES"] else party.language
    return link


def _state_page(token: str, link: service.Link):
    if link.state == "open" or (link.state == "waiting" and request.method == "GET"):
        return redirect(url_for("signing.open", token=token))
    if link.state in ("signed", "completed"):
        return _finished_page(token, link)
    status = PROBLEM_STATUS.get(link.state, 200)
    return render_template("signing/problem.html", link=link, token=token), status


def _finished_page(token: str, link: service.Link):
    case = link.case
    outcome = service.outcome(link)
    sealed = [d for d in case.documents if d.sealed_sha256] if outcome == "sealed" else []
    return render_template("signing/done.html", link=link, token=token, case=case, party=link.party,
                           signature=link.party.signature, outcome=outcome, sealed=sealed,
                           available=within_retention(case), still_to_sign=service.still_to_sign(case),
                           receipt_endpoint=_receipt_endpoint())


@bp.get("/<token>/status")
@with_link("signed", "completed")
def status(token: str, link: service.Link):
    """What the page after signing polls while the documents are sealed: it reloads its card when
    the outcome changes (e.g. "sealing" -> "sealed", with the download)."""
    response = jsonify(outcome=service.outcome(link))
    response.headers["Cache-Control"] = "no-store"
    return response


def _receipt_endpoint() -> str | None:
    for name in ("signing.receipt", "sealing.party_receipt"):  # the sealing package serves receipts
        if name in current_app.view_functions:
            return name
    return None


def _context(link: service.Link):
    return service.signing_context(link, client_ip(), user_agent(), g.locale)


def _render_open(token: str, link: service.Link, error: str | None = None, status: int = 200, form=None,
                 field_errors=None, error_field: str | None = None):
    ctx = _context(link)
    methods = methods_for(link.party) if link.state == "open" and link.party.role == "signer" else []
    return page.render(page.build(link, ctx, methods), token, g.locale, error=error, form=form,
                       field_errors=field_errors, error_field=error_field), status


@bp.get("/<token>")
@with_link("open", "waiting")
def open(token: str, link: service.Link):  # noqa: A001  (the endpoint's fixed name)
    if link.party.viewed_at is None:
        service.record_first_view(link.party)
    return _render_open(token, link)


@bp.get("/<token>/lang/<code>")
def language(token: str, code: str):
    if code in current_app.config["LANGUAGES"]:
        session["signer_lang"] = code
    return redirect(url_for("signing.open", token=token))


def _document(link: service.Link, document_id: int) -> Document:
    document = db.session.get(Document, document_id)
    if document is None or document.case_id != link.case.id:
        abort(404)
    return document


def _pdf_response(data: bytes, filename: str) -> Response:
    return attachment(data, filename)


@bp.get("/<token>/documents/<int:document_id>")
@with_link("open", "waiting", "signed", "completed")
def download(token: str, link: service.Link, document_id: int):
    document = _document(link, document_id)
    return _pdf_response(blobs().get(document.sha256), document.filename)


@bp.get("/<token>/documents/<int:document_id>/pages")
@with_link("open", "waiting", "signed", "completed")
def document_pages(token: str, link: service.Link, document_id: int):
    """The next piece of a long document's pages: a fragment for the viewer's script, or a page of
    its own without JavaScript."""
    document = _document(link, document_id)
    first = request.args.get("start", 1, type=int) or 1
    if not 1 <= first <= document.page_count:
        abort(404)
    last = min(document.page_count, first + pages.CHUNK - 1)
    context = {"document": document, "token": token, "first": first, "last": last, "widths": pages.WIDTHS,
               "chunk": pages.CHUNK}
    if request.args.get("fragment"):
        return render_template("signing/_page_figures.html", **context)
    return render_template("signing/document_pages.html", link=link, case=link.case, **context)


@bp.get("/<token>/documents/<int:document_id>/pages/<int:page>-<int:width>.webp")
@with_link("open", "waiting", "signed", "completed")
def page_image(token: str, link: service.Link, document_id: int, page: int, width: int):
    document = _document(link, document_id)
    try:
        image = pages.page_image(document, page, width)
    except (LookupError, BlobNotFound):
        abort(404)
    except BoundExceeded as exceeded:  # this page needs more than a page may: it fails alone
        log.warning("page %s of document %s not drawn: %s", page, document.id, exceeded)
        image = pages.unavailable_image(width, _("This page cannot be shown here. Download the PDF to read it."))
        response = Response(image, mimetype=pages.MIME)
        response.headers["Cache-Control"] = "no-store"
        return response
    response = Response(image, mimetype=pages.MIME)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.get("/<token>/signed/<int:document_id>")
@with_link("signed", "completed")
def download_sealed(token: str, link: service.Link, document_id: int):
    if not within_retention(link.case):
        abort(410)
    document = _document(link, document_id)
    if not document.sealed_sha256:
        abort(404)
    name = document.filename.rsplit(".", 1)[0] + "-signed.pdf"
    return _pdf_response(blobs().get(document.sealed_sha256), name)


@bp.post("/<token>/compare/<int:document_id>")
@with_link("open", "waiting", "signed", "completed")
def compare(token: str, link: service.Link, document_id: int):
    document = _document(link, document_id)
    ratelimit.limit_or_429("signer-compare", client_ip(), COMPARE_RATE_LIMIT)
    upload = request.files.get("copy")
    data = upload.read() if upload else b""
    result, problem = None, None
    unreadable = _("The file you chose is not a readable PDF, so it cannot be compared. Choose the PDF copy you "
                   "saved.")
    if not data:
        problem = _("Choose the copy you saved, then try again.")
    else:
        try:
            result = comparing.checked_compare(link.case, blobs().get(document.sha256), data)
        except comparing.UnreadableCopy as unread:
            problem = unread.message(upload.filename or "") or unreadable
    status = 422 if problem else 200
    return render_template("signing/compare.html", link=link, token=token, case=link.case, document=document,
                           result=result, problem=problem), status


@bp.post("/<token>/sign")
@with_link("open")
def sign(token: str, link: service.Link):
    if link.party.role != "signer":
        abort(404)
    party_id = link.party.id
    try:
        signed = service.sign(_context(link), request.form.get("method", ""), request.form)
    except DBAPIError:
        # The connection broke, maybe after the database had committed the signature: ask again
        # on a fresh connection, and tell the signer what is true instead of showing an error.
        end_session()
        if not service.signature_recorded(party_id):
            raise
        log.warning("party %s: signature committed although the database connection broke", party_id)
        return redirect(url_for("signing.open", token=token))
    except service.SignRefused as refused:
        db.session.rollback()
        link = service.link_state(link.party)
        if link.state != "open":
            return redirect(url_for("signing.open", token=token))
        return _render_open(token, link, error=refused.message, status=422, form=request.form,
                            field_errors=refused.field_errors, error_field=refused.field)
    if not signed:
        flash(_("Your signature was already registered."), "info")
    return redirect(url_for("signing.open", token=token))


def _wants_json() -> bool:
    """Scripts (e.g. BankID's polling) ask for JSON; plain forms get a redirect."""
    return request.accept_mimetypes.best == "application/json"


@bp.post("/<token>/method/<name>/<action>")
@with_link("open")
def method_action(token: str, link: service.Link, name: str, action: str):
    try:
        result = service.run_action(_context(link), name, action, request.form)
    except service.SignRefused as refused:
        if _wants_json():
            return jsonify(ok=False, message=refused.message, data={}), 422
        flash(refused.message, "error")
        return redirect(url_for("signing.open", token=token))
    if _wants_json():
        return jsonify(ok=result.ok, message=result.message, data=result.data)
    if result.message:
        flash(result.message, "success" if result.ok else "error")
    return redirect(url_for("signing.open", token=token, _anchor=f"method-{name}"))


@bp.post("/<token>/fields")
@with_link("open")
def save_fields(token: str, link: service.Link):
    """Save the party's field values as they type (JSON from the page's script, or the plain form)."""
    if link.party.role != "signer":
        abort(404)
    ratelimit.limit_or_429("signer-fields", str(link.party.id), FIELDS_RATE_LIMIT)
    raw, revisions = _submitted_values()
    saved = fields.save_values(link.case, link.party, raw, revisions)
    db.session.commit()
    if not _wants_json():
        if saved.errors or saved.conflicts:
            return _render_open(token, link, error=_("Some fields need your attention."), status=422,
                                field_errors={**saved.errors, **{name: [_("This field was changed in another window "
                                                                          "or on another device. Check it.")]
                                                                 for name in saved.conflicts}})
        flash(_("Your entries have been saved."), "success")
        return redirect(url_for("signing.open", token=token, _anchor="fields"))
    ctx = _context(link)
    return jsonify(ok=not saved.errors and not saved.conflicts, values=saved.values, revisions=saved.revisions,
                   errors=saved.errors, conflicts=saved.conflicts, current=saved.current,
                   documents_digest=ctx.documents_digest,
                   consent_text=ctx.consent_text)


def _submitted_values() -> tuple[dict, dict[str, int]]:
    """{name: value} and {name: revision} from the script's JSON or the plain form's fields."""
    if request.is_json:
        body = request.get_json(silent=True)
        body = body if isinstance(body, dict) else {}
        values, revisions = body.get("values"), body.get("revisions")
        values = values if isinstance(values, dict) else {}
        revisions = revisions if isinstance(revisions, dict) else {}
    else:
        values = {key[6:]: request.form.get(key) for key in request.form if key.startswith("value:")}
        revisions = {key[9:]: request.form.get(key) for key in request.form if key.startswith("revision:")}
        # An unticked checkbox is not sent at all: the form's hidden revision says it was shown.
        values.update({name: "" for name in revisions if name not in values})
    return values, {name: _revision(value) for name, value in revisions.items()}


def _revision(value) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


@bp.post("/<token>/decline")
@with_link("open", "waiting")
def decline(token: str, link: service.Link):
    try:
        service.decline(link, request.form.get("reason", ""))
    except service.SignRefused as refused:
        return _render_open(token, link, error=refused.message, status=422, form=request.form)
    return redirect(url_for("signing.open", token=token))
