"""Kiosk: the customer reviews and signs on a tablet at the counter.

The office pairs tablets (a one-time code; the tablet keeps only a device token), sends a party
to a tablet from the case page, and sees what each tablet shows. The tablet opens the core's own
signing page for that party through a link that works only with its device cookie and only while
the push lasts (`resolve_link`); the signature's evidence and the receipt say it was signed in
kiosk mode, on which tablet, with which officer present.
"""

from __future__ import annotations

from pathlib import Path

from core.i18n import _l
from core.plugins import hookimpl
from plugins.kiosk.models import NAME


@hookimpl
def plugin_info():
    return {
        "name": NAME,
        "title": _l("Kiosk"),
        "description": _l("Customers review and sign on a tablet at the counter, sent there from the case page."),
    }


@hookimpl
def config_keys():
    # Seconds without a touch after which the tablet's signing page goes back to idle.
    return {"KIOSK_IDLE_SECONDS": 120}


@hookimpl
def register_translations():
    return [Path(__file__).parent / "translations"]


@hookimpl
def register_migrations():
    from plugins.kiosk import models  # noqa: F401  (the tables)

    return [Path(__file__).parent / "migrations"]


@hookimpl
def register_blueprints(app):
    from plugins.kiosk import models  # noqa: F401
    from plugins.kiosk.views import bp

    return [bp]


@hookimpl
def menu_items(officer):
    from flask import url_for

    from core.i18n import _

    if officer.tenant.has_plugin(NAME):
        return [(_("Kiosk"), url_for("kiosk.overview"))]
    return []


@hookimpl
def resolve_signing_link(token):
    from flask import g

    from plugins.kiosk import service

    device = service.device_for_link(token)
    if device is None:
        return None
    g.kiosk_device_id = device.id
    return device.party_id


def _request_device(case, party):
    """The tablet this signer request comes from, when it is showing this party."""
    from flask import g, has_request_context

    from core.extensions import db
    from plugins.kiosk.models import KioskDevice

    if not has_request_context() or g.get("kiosk_device_id") is None:
        return None
    device = db.session.get(KioskDevice, g.kiosk_device_id)
    if device is None or device.party_id != party.id or device.case_id != case.id:
        return None
    return device


@hookimpl
def party_viewed(case, party):
    from plugins.kiosk import service
    from plugins.kiosk.models import OPENED

    if _request_device(case, party) is not None:
        service.set_state(case, party, OPENED)


@hookimpl
def party_signed(case, party, signature):
    from plugins.kiosk import service
    from plugins.kiosk.models import SIGNED

    service.set_state(case, party, SIGNED)


@hookimpl
def case_declined(case, party):
    from plugins.kiosk import service
    from plugins.kiosk.models import DECLINED

    service.set_state(case, party, DECLINED)


@hookimpl
def signature_evidence(case, party, method):
    from core.cases.actors import Actor
    from core.extensions import db
    from core.models import Officer

    device = _request_device(case, party)
    if device is None:
        return None
    officer = db.session.get(Officer, device.pushed_by) if device.pushed_by else None
    actor = Actor.device(device.tenant_id, device.id, device.name)
    return {NAME: {"mode": "kiosk", "device_id": device.id, "device": device.name, "actor": actor.kind,
                   "officer_id": officer.id if officer else None, "officer": officer.name if officer else None}}


@hookimpl
def receipt_sections(case, language):
    lines = []
    for party in case.signers:
        signature = party.signature
        kiosk = ((signature.evidence or {}).get("plugins") or {}).get(NAME) if signature else None
        if not kiosk:
            continue
        if language == "sv":
            line = f"{party.name} skrev under på surfplattan \u201d{kiosk.get('device')}\u201d i kioskläge"
            if kiosk.get("officer"):
                line += f", med {kiosk['officer']} närvarande"
        else:
            line = f"{party.name} signed on the tablet \u201c{kiosk.get('device')}\u201d in kiosk mode"
            if kiosk.get("officer"):
                line += f", with {kiosk['officer']} present"
        lines.append(line + ".")
    if not lines:
        return []
    return [("Kioskläge" if language == "sv" else "Kiosk mode", lines)]


@hookimpl
def ui_panels(slot, context):
    from flask import render_template, url_for
    from markupsafe import Markup

    from plugins.kiosk import service

    case = context.get("case")
    if case is None:
        return None
    if slot == "case_sidebar":
        signers = [p for p in case.signers if p.status not in ("signed", "declined")]
        signers = signers if case.status == "pending" else []
        showing = service.devices_of_case(case)
        walk_ins = service.in_person_parties(case)
        if not signers and not showing and not walk_ins:
            return None
        html = render_template("kiosk/case_panel.html", case=case, signers=signers, devices=service.devices(),
                               showing=showing, views=service.showing, open_steps=service.open_steps,
                               walk_ins=walk_ins, result_ready=service.result_ready(case))
        return Markup(html)  # noqa: S704  (autoescaped template)
    if slot in ("signer_page", "signer_completed", "signer_step"):
        # The tablet's own script (what brings it back to idle); it asks the tablet's state with
        # the link it has, which answers only with the tablet's cookie. Depends on rows only.
        party = context.get("party")
        if party is None or not service.party_on_a_tablet(case, party):
            return None
        token = context.get("token")
        if token is None:
            from flask import request

            token = (request.view_args or {}).get("token")
        if not token:
            return None
        html = render_template("kiosk/signer_panel.html", watch_url=url_for("kiosk.watch", token=token),
                               script=url_for("kiosk.static", filename="kiosk.js"))
        return Markup(html)  # noqa: S704
    return None


@hookimpl
def event_text(event):
    from core.i18n import _

    data = event.data or {}
    if event.kind == "kiosk_pushed":
        return _("Sent to the tablet %(tablet)s for %(party)s to sign", tablet=data.get("device_name", ""),
                 party=data.get("party_name", ""))
    if event.kind == "kiosk_result_emailed":
        return _("The signed result for %(party)s was emailed to %(email)s from the counter",
                 party=data.get("party_name", ""), email=data.get("email", ""))
    if event.kind == "kiosk_cancelled":
        return _("The tablet %(tablet)s went back to idle", tablet=data.get("device_name", ""))
    return None
