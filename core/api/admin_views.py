"""/admin/api: a tenant admin's API keys and webhook endpoints, with each endpoint's delivery log."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField, widgets
from wtforms.validators import InputRequired, Length

from core.api import service
from core.api.models import WEBHOOK_EVENTS, ApiKey, WebhookDelivery, WebhookEndpoint
from core.extensions import db
from core.i18n import _, _l
from tenants.views import admin_required

bp = Blueprint("api_admin", __name__, url_prefix="/admin/api")

DELIVERY_LOG = 50


def event_labels() -> dict[str, str]:
    """The core's events, then those of the plugins the organisation has on (`webhook_events`)."""
    core = {"case.sent": _("Case sent"), "party.viewed": _("Party opened the documents"),
            "party.signed": _("Party signed"), "case.completed": _("Case completed and sealed"),
            "case.declined": _("Case declined"), "case.revoked": _("Case revoked"),
            "case.expired": _("Case expired")}
    return {**core, **{name: str(label) for name, label in service.plugin_webhook_events().items()}}


class ApiKeyForm(FlaskForm):
    name = StringField(_l("Name of the key"), validators=[InputRequired(), Length(max=100)],
                       description=_l("What uses it, e.g. “HR system”."))


class WebhookForm(FlaskForm):
    url = StringField(_l("Endpoint URL"), validators=[InputRequired(), Length(max=2000)])
    events = SelectMultipleField(_l("Events"), choices=[(e, e) for e in WEBHOOK_EVENTS],
                                 widget=widgets.ListWidget(prefix_label=False),
                                 option_widget=widgets.CheckboxInput())


class ActionForm(FlaskForm):
    """Only the CSRF token: the object and the action are in the URL."""


class EndpointStateForm(FlaskForm):
    active = BooleanField()


def url_error_text(code: str) -> str:
    return {
        "invalid_url": _("Give a complete http:// or https:// address."),
        "credentials_in_url": _("Leave the user name and password out of the address."),
        "unknown_host": _("The host name of this address cannot be found."),
        "forbidden_address": _("Webhooks can only be sent to public internet addresses, not to this one "
                               "(loopback, private network, link-local or cloud metadata)."),
        "no_events": _("Choose at least one event."),
    }.get(code, code)


def _page(key_form: ApiKeyForm | None = None, webhook_form: WebhookForm | None = None, new_key: str | None = None,
          status: int = 200):
    webhook_form = webhook_form or WebhookForm()
    webhook_form.events.choices = list(event_labels().items())
    return render_template("api/admin.html", keys=service.api_keys(), endpoints=service.endpoints(),
                           key_form=key_form or ApiKeyForm(), webhook_form=webhook_form, new_key=new_key,
                           action_form=ActionForm(), event_labels=event_labels()), status


@bp.get("/")
@admin_required
def index():
    return _page()


@bp.post("/keys")
@admin_required
def create_key():
    form = ApiKeyForm()
    if not form.validate_on_submit():
        return _page(key_form=form, status=400)
    key, secret = service.create_api_key(g.tenant, form.name.data, current_user)
    db.session.commit()
    flash(_("API key “%(name)s” created. Copy it now: it is shown only this once.", name=key.name), "success")
    return _page(new_key=secret)


def _one_or_404(model, row_id: int, *criteria):
    """A row of this tenant (the scoping adds that) by id, or 404; ids past 32 bits are never rows."""
    row = row_id <= service.MAX_ID and db.session.scalar(sa.select(model).where(model.id == row_id, *criteria))
    if not row:
        abort(404)
    return row


def _key_or_404(key_id: int) -> ApiKey:
    return _one_or_404(ApiKey, key_id)


@bp.post("/keys/<int:key_id>/revoke")
@admin_required
def revoke_key(key_id: int):
    key = _key_or_404(key_id)
    if ActionForm().validate_on_submit():
        service.revoke_api_key(key)
        db.session.commit()
        flash(_("API key “%(name)s” revoked: requests with it are refused from now on.", name=key.name), "success")
    return redirect(url_for(".index"))


@bp.post("/webhooks")
@admin_required
def create_webhook():
    form = WebhookForm()
    form.events.choices = list(event_labels().items())
    if not form.validate_on_submit():
        return _page(webhook_form=form, status=400)
    try:
        endpoint = service.add_endpoint(form.url.data, form.events.data)
    except service.WebhookUrlError as error:
        target = form.events if error.code == "no_events" else form.url
        target.errors = [url_error_text(error.code)]
        return _page(webhook_form=form, status=400)
    db.session.commit()
    flash(_("Webhook endpoint added."), "success")
    return redirect(url_for(".webhook", endpoint_id=endpoint.id))


def _endpoint_or_404(endpoint_id: int) -> WebhookEndpoint:
    return _one_or_404(WebhookEndpoint, endpoint_id)


@bp.get("/webhooks/<int:endpoint_id>")
@admin_required
def webhook(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    deliveries = db.session.scalars(sa.select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
                                    .order_by(WebhookDelivery.id.desc()).limit(DELIVERY_LOG)).all()
    return render_template("api/webhook.html", endpoint=endpoint, deliveries=deliveries, action_form=ActionForm(),
                           event_labels=event_labels())


@bp.post("/webhooks/<int:endpoint_id>/<any(on, off):state>")
@admin_required
def toggle_webhook(endpoint_id: int, state: str):
    endpoint = _endpoint_or_404(endpoint_id)
    if ActionForm().validate_on_submit():
        endpoint.active = state == "on"
        db.session.commit()
        flash(_("Webhook endpoint switched on.") if endpoint.active else _("Webhook endpoint paused."), "success")
    return redirect(url_for(".webhook", endpoint_id=endpoint.id))


@bp.post("/webhooks/<int:endpoint_id>/delete")
@admin_required
def delete_webhook(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    if ActionForm().validate_on_submit():
        db.session.delete(endpoint)
        db.session.commit()
        flash(_("Webhook endpoint removed."), "success")
    return redirect(url_for(".index"))


@bp.post("/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/resend")
@admin_required
def resend_delivery(endpoint_id: int, delivery_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    delivery = _one_or_404(WebhookDelivery, delivery_id, WebhookDelivery.endpoint_id == endpoint.id)
    if ActionForm().validate_on_submit():
        service.resend(delivery)
        db.session.commit()
        flash(_("The delivery will be sent again in a moment."), "success")
    return redirect(url_for(".webhook", endpoint_id=endpoint.id))
