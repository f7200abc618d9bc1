"""Web form pages: the office's settings and submissions, and the public form at /f/<link>.

The public form asks only who the visitor is, starts the case and hands the visitor to the core's
signer page for their party (fields, review, signing methods are the core's). Everything public
is `Cache-Control: no-store`.

Embedding: the public pages may be framed only by the origins the office listed on the form
(`Content-Security-Policy: frame-ancestors`, via `core.security.allow_framing`; none listed:
`'none'`). Inside another site's frame the browser sends no SameSite cookie, so the form uses
none: instead of the session-bound CSRF token its post carries a signed page token (form, a
random key, the time; `PAGE_TOKEN_HOURS`) that this page issued, which is also the post's
idempotency key. The signer page itself is never framed: from a frame the visitor continues
there in the top window.
"""

from __future__ import annotations

import logging
import secrets
from collections import OrderedDict
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from markupsafe import escape

from core import ratelimit
from core.case_templates.models import CaseTemplate
from core.extensions import csrf, db
from core.i18n import _, current_language
from core.personal_numbers import InvalidPersonalNumber, normalise_personal_number
from core.phones import InvalidPhoneNumber, normalise_phone
from core.plugins import plugin_guard, public, use_tenant
from core.security import allow_framing, client_ip, mask_personal_number
from core.text import line_problem, valid_email
from core.urls import external_url
from plugins.web_forms import service
from plugins.web_forms.models import ACTIVE, NAME, PAUSED, WebForm

log = logging.getLogger(__name__)

bp = Blueprint(NAME, __name__, template_folder="templates", static_folder="static",
               static_url_path="/web-forms/static")
_guard = plugin_guard(NAME)

HONEYPOT = "website"
PAGE_TOKEN_HOURS = 12  # a form page left open longer asks the visitor to send it again
# The pages other sites may frame (the listed origins): the form itself. Never the confirmation
# page, whose one button starts the case (it is opened from the visitor's email anyway).
FRAMED_ENDPOINTS = (f"{NAME}.fill",)


@bp.before_request
def guard():
    if request.endpoint == f"{NAME}.static":
        return None
    return _guard()


@bp.after_request
def no_store(response):
    response.headers["Cache-Control"] = "no-store"
    if request.endpoint in FRAMED_ENDPOINTS:
        form = g.get("web_form")
        if form is None and g.get("web_form_id") is not None:
            form = db.session.get(WebForm, g.web_form_id)
        allow_framing(response, service.frame_origins(form) if form is not None else [])
    return response


# --- the office ------------------------------------------------------------------------------------


def _form(form_id: int) -> WebForm:
    form = db.session.get(WebForm, form_id)  # scoped: another organisation's is None
    if form is None or form.status == service.OFF:
        abort(404)
    return form


def public_url(form: WebForm) -> str:
    return external_url(f"{NAME}.fill", slug=form.slug)


def embed_snippet(form: WebForm) -> str:
    """What the office pastes into its website: the form's frame and a script that sets the frame's
    height to the form's (the form page posts it; only a message from the form's own frame and
    origin is taken)."""
    from urllib.parse import urlsplit

    url = public_url(form) + "?embed=1"
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    frame_id = f"sigill-form-{form.id}"
    title = escape(form.template.name)
    return (f'<iframe id="{frame_id}" src="{url}" title="{title}" '
            'style="width:100%;height:640px;border:0"></iframe>\n'
            "<script>\n"
            "(function () {\n"
            f'  var frame = document.getElementById("{frame_id}");\n'
            '  window.addEventListener("message", function (event) {\n'
            f'    if (event.origin !== "{origin}" || event.source !== frame.contentWindow) return;\n'
            "    var data = event.data || {};\n"
            '    if (data.type !== "sigill-form-height" || typeof data.height !== "number") return;\n'
            '    frame.style.height = Math.min(Math.max(Math.ceil(data.height), 200), 20000) + "px";\n'
            "  });\n"
            "})();\n"
            "</script>")


@bp.get("/web-forms/")
@login_required
def index():
    return render_template("web_forms/index.html", forms=service.forms(), public_url=public_url)


@bp.post("/web-forms/templates/<int:template_id>")
@login_required
def turn_on(template_id: int):
    template = db.session.get(CaseTemplate, template_id)
    if template is None:
        abort(404)
    try:
        cap = int(request.form.get("daily_cap") or 200)
    except ValueError:
        cap = -1
    back = url_for("case_templates.detail", template_id=template.id)
    if not 1 <= cap <= 10000:
        flash(_("Submissions a day: give a number from 1 to 10000."), "error")
        return redirect(back)
    try:
        closes_on = date.fromisoformat(request.form["closes_on"]) if request.form.get("closes_on") else None
    except ValueError:
        flash(_("Last day: give a date like 2027-03-31."), "error")
        return redirect(back)
    raw_max = (request.form.get("max_submissions") or "").strip()
    max_submissions = int(raw_max) if raw_max.isdigit() else None
    if raw_max and (max_submissions is None or not 1 <= max_submissions <= 1000000):
        flash(_("Most submissions: give a number from 1 to 1000000, or leave it empty."), "error")
        return redirect(back)
    thank_you = request.form.get("thank_you", "")
    if len(thank_you) > 2000:
        flash(_("The thank-you text is too long (at most 2000 characters)."), "error")
        return redirect(back)
    origins = request.form.get("frame_origins", "")
    if len(origins) > 4000:
        flash(_("Give at most %(n)d web addresses that may embed the form.", n=service.MAX_ORIGINS), "error")
        return redirect(back)
    try:
        service.turn_on(template, current_user, request.form.get("role_key", ""),
                        request.form.get("require_phone") == "1", thank_you, cap, closes_on, max_submissions,
                        origins=origins, require_personal_number=request.form.get("require_personal_number") == "1",
                        require_confirmation=request.form.get("require_confirmation") == "1")
    except service.FormError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(back)
    db.session.commit()
    flash(_("The web form is on. Publish its link."), "success")
    return redirect(back)


@bp.post("/web-forms/<int:form_id>/status")
@login_required
def set_status(form_id: int):
    form = _form(form_id)
    status = request.form.get("status")
    if status not in (ACTIVE, PAUSED, service.OFF):
        abort(400)
    try:
        service.set_status(form, current_user, status)
    except service.FormError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("case_templates.detail", template_id=form.template_id))
    db.session.commit()
    flash({ACTIVE: _("The web form takes submissions again."), PAUSED: _("The web form is paused."),
           service.OFF: _("The web form is off; its link no longer works.")}[status], "success")
    return redirect(url_for("case_templates.detail", template_id=form.template_id))


@bp.post("/web-forms/<int:form_id>/rotate")
@login_required
def rotate(form_id: int):
    form = _form(form_id)
    service.rotate(form, current_user)
    db.session.commit()
    flash(_("The web form has a new link. The old link no longer works."), "success")
    return redirect(url_for("case_templates.detail", template_id=form.template_id))


@bp.get("/web-forms/<int:form_id>")
@login_required
def submissions(form_id: int):
    form = _form(form_id)
    statuses = _statuses()
    status = request.args.get("status") or None
    status = status if status in statuses or status == service.WAITING else None
    q = (request.args.get("q") or "").strip()[:200]
    return render_template("web_forms/submissions.html", form=form, rows=service.submissions(form, status=status, q=q),
                           public_url=public_url(form), statuses=statuses, status=status, q=q,
                           masked=mask_personal_number, waiting=service.WAITING)


def _statuses() -> dict:
    from core.cases.views import status_labels

    return status_labels()


@bp.get("/web-forms/<int:form_id>/export.<any(csv, xlsx):fmt>")
@login_required
def export(form_id: int, fmt: str):
    from core.cases import export as exporting
    from plugins.web_forms.export import submissions_export

    form = _form(form_id)
    made = submissions_export(form)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    name = f"web-form-{form.id}-{stamp}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        from flask import stream_with_context

        from tenants.scoping import current_tenant_id, tenant_context

        delimiter = ";" if request.args.get("sep") == "semicolon" else ","
        tenant_id = current_tenant_id()

        def chunks():  # read while the response streams: the request's tenant, set again
            with tenant_context(tenant_id):
                yield from exporting.csv_chunks(made, delimiter=delimiter)

        return Response(stream_with_context(chunks()), mimetype="text/csv; charset=utf-8", headers=headers)
    spooled = exporting.xlsx_file(made, sheet=_("Submissions"))
    response = Response(iter(lambda: spooled.read(1 << 16), b""), headers=headers,
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.call_on_close(spooled.close)
    return response


# --- the public form -------------------------------------------------------------------------------


def _form_tenant(slug: str, **_args):
    if request.method == "GET":  # one plain row; the same as the kept page's: that page's objects
        row = service.public_row(slug)
        if row is None or row.web_form_status == service.OFF:
            return None
        kept = current_app.extensions.get("web_form_kept", {}).get(slug)
        if kept is not None and kept.row == row and kept.loaded():
            g.web_form, g.web_form_template, g.web_form_id = kept.form, kept.template, kept.form.id
            g.web_form_kept = kept
            return kept.tenant
        g.web_form_row = row
    found = service.by_slug_with_tenant(slug)  # one query: the form, its template and organisation
    if found is None or found[0].status == service.OFF:
        return None
    g.web_form, g.web_form_template = found[0], found[1]
    g.web_form_id = found[0].id
    return found[2]


def _public_form() -> WebForm:
    form = g.get("web_form")
    if form is None and g.get("web_form_id") is not None:  # resolved by another public route
        form = g.web_form = db.session.get(WebForm, g.web_form_id)
    if form is None:
        abort(404)
    return form


def _closed(form: WebForm, message: str, status: int):
    return render_template("web_forms/closed.html", form=form, message=message), status


def _page_tokens() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="sigill web form page")


def page_token(form: WebForm) -> str:
    """A new page's token: signed, names the form and a random key (the post's idempotency key)."""
    return _page_tokens().dumps({"f": form.id, "k": secrets.token_urlsafe(16)})


def page_key(form: WebForm, token: str) -> str | None:
    """The key of a page token this form issued within `PAGE_TOKEN_HOURS`, or None (raises 400 for
    one that is not ours at all)."""
    if not token or len(token) > 200:
        abort(400)
    try:
        data = _page_tokens().loads(token, max_age=PAGE_TOKEN_HOURS * 3600)
    except SignatureExpired:
        return None
    except BadSignature:
        abort(400)
    if not isinstance(data, dict) or data.get("f") != form.id or not isinstance(data.get("k"), str):
        abort(400)
    return data["k"]


def _embedded() -> bool:
    """Shown inside another site's frame (the embed snippet asks with ?embed=1; browsers say so too)."""
    return request.args.get("embed") == "1" or request.headers.get("Sec-Fetch-Dest") == "iframe"


def _to_signer(path: str):
    """To the signer page: a redirect, or from inside a frame a link that opens it in the top window
    (the signer page is never framed)."""
    if _embedded():
        return render_template("web_forms/continue.html", form=_public_form(), path=path)
    return redirect(path)


# The form's post needs no session: inside another site's frame the browser sends no SameSite
# cookie. Its signed page token (form, key, time) stands in for the CSRF token; see the docstring.
@bp.route("/f/<slug>", methods=["GET", "POST"])
@csrf.exempt
@public(_form_tenant)
def fill(slug: str):
    kept = g.get("web_form_kept")
    if kept is not None:  # the page as it was kept: only the closing day and most submissions may have changed
        page = kept.page(current_language()) if service.closed_reason(kept.form) is None else None
        if page is not None:
            return page.replace(KEY_STANDIN, page_token(kept.form))
        g.web_form = g.web_form_kept = None  # the whole way, with this request's own objects
        found = service.by_slug_with_tenant(slug)
        if found is None:
            abort(404)
        g.web_form, g.web_form_template = found[0], found[1]
        use_tenant(found[2])
    form = _public_form()
    template = g.web_form_template
    if form.status == PAUSED or template.status != "active":
        return _closed(form, _("This form is paused and takes no submissions at the moment. Try again later."), 503)
    content = service.content_of(template)
    if service.role_problems(content, form.role_key):  # the template changed since: the office sees why
        log.warning("web form %s: its template %s no longer fits the form", form.id, template.id)
        return _closed(form, _("This form is not available at the moment. Try again later."), 503)
    closed = service.closed_reason(form)
    if closed:
        return _closed(form, closed, 410)
    if request.method == "GET":
        return _blank_page(form, template, content)
    values = {"name": "", "email": "", "phone": "", "personal_number": "", "key": page_token(form)}
    errors: dict[str, str] = {}
    notice = None
    if request.method == "POST":
        values = {k: (request.form.get(k) or "").strip() for k in ("name", "email", "phone", "personal_number", "key")}
        key = page_key(form, values["key"])
        if request.form.get(HONEYPOT):
            log.info("web form %s: honeypot filled, nothing started", form.id)
            return render_template("web_forms/received.html", form=form)
        if key is None:  # open too long: the same details on a new page
            values["key"] = page_token(form)
            notice = _("The page was open for a long time. Check your details and send them again.")
            return render_template("web_forms/fill.html", form=form, content=content, values=values, errors=errors,
                                   honeypot=HONEYPOT, notice=notice), 400
        found = service.find_submission(form, key)
        if found is not None and found.party_id is not None:  # the same page again: its case, not a new one
            path = service.signer_path(found_party(found))
            db.session.commit()
            return _to_signer(path)
        if found is not None and found.waiting:  # the same page again, still waiting: nothing more is sent
            return _check_email(form, found)
        errors = _check(values, form)
        if not errors:
            refused = _refused(form)
            if refused:
                return _closed(form, refused, 429)
            if form.require_confirmation:
                held = service.hold(form, key, values["name"], values["email"].lower(), values["phone"] or None,
                                    current_language(), personal_number=values["personal_number"] or None,
                                    hours=_confirm_hours())
                db.session.commit()
                return _check_email(form, held)
            started = service.submit(form, key, values["name"], values["email"].lower(),
                                     values["phone"] or None, current_language(),
                                     personal_number=values["personal_number"] or None)
            path = service.signer_path(started.party)
            db.session.commit()
            return _to_signer(path)
    return render_template("web_forms/fill.html", form=form, content=content, values=values, errors=errors,
                           honeypot=HONEYPOT, notice=notice), 400 if errors else 200


def _confirm_hours() -> int:
    return int(current_app.config["WEB_FORM_CONFIRM_HOURS"])


def _check_email(form: WebForm, submission):
    return render_template("web_forms/check_email.html", form=form, email=submission.email, hours=_confirm_hours())


# --- confirming the visitor's email address ------------------------------------------------------------


def _confirm_tenant(token: str, **_args):
    from tenants.models import Tenant

    submission = service.by_confirm_token(token)
    if submission is None:
        return None
    form = db.session.scalar(sa.select(WebForm).where(WebForm.id == submission.form_id)
                             .execution_options(all_tenants=True))
    if form is None or form.status == service.OFF:
        return None
    g.web_form_id, g.web_form_submission_id = form.id, submission.id
    return db.session.get(Tenant, form.tenant_id)


# The link's token (256 bits, only its hash kept) is the secret: a page of another site cannot post
# here without it, so no session (and no cookie) is needed.
@bp.route("/f/confirm/<token>", methods=["GET", "POST"])
@csrf.exempt
@public(_confirm_tenant)
def confirm(token: str):
    form = _public_form()
    submission = db.session.get(service.WebFormSubmission, g.web_form_submission_id)
    if submission is None:
        abort(404)
    if service.link_expired(submission) and submission.party_id is None:
        return render_template("web_forms/confirm.html", form=form, submission=submission, expired=True,
                               form_url=public_url(form) if form.status == ACTIVE else None), 410
    if submission.party_id is None and (form.status == PAUSED or form.template.status != "active"):
        return _closed(form, _("This form is paused and takes no submissions at the moment. Try again later."), 503)
    if submission.party_id is None:  # its place is taken only now: the form's limits as they are now
        closed = service.closed_reason(form)
        if closed:
            return _closed(form, closed, 410)
        if service.cap_reached(form):
            return _closed(form, _cap_message(), 429)
    if request.method == "POST":
        if submission.party_id is None and service.role_problems(service.content_of(form.template), form.role_key):
            log.warning("web form %s: its template %s no longer fits the form", form.id, form.template_id)
            return _closed(form, _("This form is not available at the moment. Try again later."), 503)
        party = service.confirm(submission)
        if party is None:  # a double click: the other click is starting the case
            db.session.rollback()
            return render_template("web_forms/confirm.html", form=form, submission=submission, expired=False,
                                   starting=True)
        path = service.signer_path(party)
        db.session.commit()
        return redirect(path)
    return render_template("web_forms/confirm.html", form=form, submission=submission, expired=False)


# The blank form's HTML, per worker and app, with a stand-in for the page token (signed anew per
# request): rendering it is most of a GET's cost. The key names everything the page shows, so a
# change (template version or name, the organisation's name, the form's settings, link or framing
# origins, the language) is a new entry, never a stale page. The page uses no session.
KEY_STANDIN = "sigill-web-form-key-standin"
PAGE_CACHE_SIZE = 256


class _Kept:
    """An open form's objects as one GET loaded them (kept per worker by link, detached once that
    request ends), with the plain row they came from. A later GET whose `service.public_row` is the
    same row, every column of the form, template and organisation, uses them instead of loading
    objects again; any change to any column is a different row, so that GET goes the whole way
    (and keeps the new state). Only what depends on the clock or on other rows is checked per GET:
    the closing day and most submissions (`service.closed_reason`)."""

    def __init__(self, row, form: WebForm, template, tenant):
        self.row, self.form, self.template, self.tenant = row, form, template, tenant

    def loaded(self) -> bool:
        return not any(sa.inspect(o).expired_attributes for o in (self.form, self.template, self.tenant))

    def page(self, language: str) -> str | None:
        cache = current_app.extensions.get("web_form_pages", {})
        return cache.get(_page_key(self.form, self.template, self.tenant, language))


def _page_key(form: WebForm, template, tenant, language: str) -> tuple:
    return (form.id, form.slug, form.require_phone, form.require_personal_number, form.frame_origins, template.id,
            template.version, template.name, tenant.id, tenant.name, language)


def _keep(form: WebForm, template) -> None:
    """Keep this GET's objects for the next ones (see `_Kept`)."""
    row = g.get("web_form_row")
    if row is None or row.web_form_id != form.id:
        return
    kept = current_app.extensions.setdefault("web_form_kept", OrderedDict())
    kept[form.slug] = _Kept(row, form, template, g.tenant)
    while len(kept) > PAGE_CACHE_SIZE:
        kept.popitem(last=False)


def _blank_page(form: WebForm, template, content: dict) -> str:
    key = _page_key(form, template, g.tenant, current_language())
    cache = current_app.extensions.setdefault("web_form_pages", OrderedDict())
    html = cache.get(key)
    if html is None:
        html = render_template("web_forms/fill.html", form=form, content=content, errors={}, honeypot=HONEYPOT,
                               values={"name": "", "email": "", "phone": "", "personal_number": "",
                                       "key": KEY_STANDIN}, notice=None)
        if KEY_STANDIN not in html:
            raise RuntimeError("the form page lost its key")
        cache[key] = html
        while len(cache) > PAGE_CACHE_SIZE:
            cache.popitem(last=False)
    _keep(form, template)
    return html.replace(KEY_STANDIN, page_token(form))


def found_party(submission):
    from core.models import Party

    party = db.session.get(Party, submission.party_id)
    if party is None:
        abort(404)
    return party


def _check(values: dict, form: WebForm) -> dict[str, str]:
    errors = {}
    if not values["name"]:
        errors["name"] = _("Give your name.")
    elif len(values["name"]) > 200 or line_problem(values["name"]):
        errors["name"] = _("Give your name on one line, at most 200 characters.")
    if not valid_email(values["email"]):
        errors["email"] = _("Give an email address like name@example.com.")
    if values["phone"] or form.require_phone:
        try:
            values["phone"] = normalise_phone(values["phone"])
        except InvalidPhoneNumber:
            errors["phone"] = _("Give a mobile number like 070-123 45 67 or +46 70 123 45 67.")
    if form.require_personal_number:
        try:
            values["personal_number"] = normalise_personal_number(values["personal_number"])
        except InvalidPersonalNumber:
            errors["personal_number"] = _("Give a personal identity number with 12 digits, YYYYMMDDNNNN, "
                                          "with a correct check digit.")
    else:
        values["personal_number"] = ""  # not asked for: never kept
    return errors


def _refused(form: WebForm) -> str | None:
    """Why this submission is refused now (rate limits, the daily cap), or None."""
    config = current_app.config
    if not ratelimit.hit("web-form-ip", client_ip(), config["WEB_FORM_IP_RATE_LIMIT"]):
        return _("Too many forms were sent from your network. Wait a while and try again.")
    if not ratelimit.hit("web-form", str(form.id), config["WEB_FORM_RATE_LIMIT"]):
        return _("This form gets very many submissions right now. Wait a few minutes and try again.")
    if service.cap_reached(form):
        return _cap_message()
    return None


def _cap_message() -> str:
    return _("This form has taken all the submissions it takes today. Try again tomorrow.")
