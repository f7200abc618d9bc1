"""Log in, log out, forgotten password, invitation links."""

from __future__ import annotations

import flask_babel
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from core import ratelimit
from core.auth import service
from core.auth.forms import (
    AccountForm,
    ChangePasswordForm,
    EndOtherSessionsForm,
    ForgotForm,
    LoginForm,
    NewPasswordForm,
)
from core.extensions import db
from core.i18n import _, _l
from core.security import client_ip, safe_next_url
from tenants.scoping import tenant_context
from tenants.service import tenant_by_slug

bp = Blueprint("auth", __name__)


@bp.get("/o/<slug>")
def organisation_login(slug: str):
    """An organisation's own login address (bookmarkable, shows whose office it is)."""
    tenant = tenant_by_slug(slug)
    if tenant is None:
        return render_template("error.html", code=404, title=_("Unknown organisation"), message=_(
            "No organisation uses this address. Check the link, or log in from the start page.")), 404
    return login(organisation=tenant)


@bp.route("/login", methods=["GET", "POST"])
def login(organisation=None):
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        # Two limits, both counting wrong passwords (docs/architecture.md): every address gets a
        # few, and those for one account, from wherever they come, hold that account back only for
        # addresses it has not logged in from; so an attacker elsewhere cannot lock the owner out.
        # Right passwords count nowhere (an office behind one address logs in at nine): the address's
        # attempt is counted first, so parallel guesses cannot all slip under the limit, and a right
        # password gives it back.
        email, ip = form.email.data.strip().lower(), client_ip()
        address_rule = current_app.config["LOGIN_RATE_LIMIT"]
        if not ratelimit.hit("login-ip", ip, address_rule):  # counted now, given back if right
            return render_template("auth/login.html", form=form, error=_(
                "Too many attempts. Wait a few minutes before you try again.")), 429
        account_rule = current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]
        if not ratelimit.within("login-account", email, account_rule) and not service.known_address(email, ip):
            ratelimit.refund("login-ip", ip, address_rule)  # no password was tried
            return render_template("auth/login.html", form=form, error=_(
                "This account has had too many wrong passwords. Log in from a device you have used before, "
                "or choose a new password with “Forgot your password?”.")), 429
        officer = service.authenticate(email, form.password.data)
        if officer is not None:
            ratelimit.refund("login-ip", ip, address_rule)
            service.start_session(officer, ip)
            db.session.commit()
            return redirect(safe_next_url(request.args.get("next"), url_for("main.index")))
        ratelimit.hit("login-account", email, account_rule)
        return render_template("auth/login.html", form=form, error=_("Wrong email or password.")), 401
    return render_template("auth/login.html", form=form, organisation=organisation)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = AccountForm(obj=current_user, prefix="account")
    password_form = ChangePasswordForm(prefix="password")
    if form.validate_on_submit():
        current_user.name = form.name.data.strip()
        current_user.language = form.language.data
        session.pop("lang", None)  # the saved preference now decides
        db.session.commit()
        flash(_("Your details are saved."), "success")
        return redirect(url_for("auth.account"))
    return _account_page(form, password_form)


def _account_page(form, password_form, status: int = 200):
    others = service.count_other_sessions(current_user)
    return render_template("auth/account.html", form=form, password_form=password_form,
                           other_sessions=others, sessions_form=EndOtherSessionsForm(prefix="sessions")), status


@bp.post("/account/sessions")
@login_required
def end_other_sessions():
    if EndOtherSessionsForm(prefix="sessions").validate_on_submit():
        ended = service.end_other_sessions(current_user)
        db.session.commit()
        flash(_("You were logged out on every other device.") if ended
              else _("You were not logged in anywhere else."), "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/password")
@login_required
def change_password():
    form = AccountForm(obj=current_user, prefix="account")
    password_form = ChangePasswordForm(prefix="password")
    if password_form.validate_on_submit():
        if service.authenticate(current_user.email, password_form.current.data) is None:
            password_form.current.errors.append(_("That is not your current password."))
        else:
            officer = current_user._get_current_object()
            service.set_password(officer, password_form.password.data)
            service.start_session(officer, client_ip())  # this browser stays logged in; every other session ends
            db.session.commit()
            flash(_("Your password is changed. You were logged out everywhere else."), "success")
            return redirect(url_for("auth.account"))
    return _account_page(form, password_form, 422)


@bp.post("/logout")
@login_required
def logout():
    service.end_session()
    db.session.commit()
    return redirect(url_for("auth.login"))


@bp.route("/forgot", methods=["GET", "POST"])
def forgot():
    form = ForgotForm()
    if form.validate_on_submit():
        ratelimit.limit_or_429("forgot-ip", client_ip(), current_app.config["LOGIN_RATE_LIMIT"])
        service.send_reset(form.email.data)
        db.session.commit()
        # Same answer whether or not the address has an account.
        flash(_("If the address belongs to an account, a link to choose a new password is on its way."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    return _password_link(token, "reset", _l("Choose a new password"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str):
    return _password_link(token, "invite", _l("Welcome! Choose your password"))


def _password_link(token: str, purpose: str, title):
    ratelimit.limit_or_429("officer-link", client_ip(), current_app.config["TOKEN_RATE_LIMIT"])
    row, state = service.find_link(token, purpose)
    if row is None:
        return render_template("auth/link_problem.html", state=state, purpose=purpose), 404
    with tenant_context(row.tenant_id):
        _speak_the_links_language(row.officer)
        if state != "ok":
            return render_template("auth/link_problem.html", state=state, purpose=purpose), 410
        return _choose_password(row, str(title))


def _speak_the_links_language(officer) -> None:
    """The page of an invitation or reset link is in the language its email was sent in (the
    officer's), unless the visitor chose another one here."""
    if session.get("lang") in current_app.config["LANGUAGES"] or officer is None:
        return
    if officer.language in current_app.config["LANGUAGES"]:
        g.locale = officer.language
        flask_babel.refresh()


def _choose_password(row, title: str):
    form = NewPasswordForm()
    if form.validate_on_submit():
        officer = service.use_link(row, form.password.data)
        service.start_session(officer, client_ip())
        db.session.commit()
        flash(_("Your password is saved."), "success")
        return redirect(url_for("main.index"))
    return render_template("auth/new_password.html", form=form, title=title, officer=row.officer)
