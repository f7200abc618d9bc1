"""ID check: the signer's ID document photographed, read and checked (issue 18), switched on per tenant.

The library: `mrz` (parse an MRZ, its check digits), `names` (does a name on a document belong to
the party), `checks` (the verdict against a party), `ocr` (read the MRZ from a photo) and
`capture` (is the photo good enough). The plugin: `models` (one `IdCheck` row per party: the
requirement, the last verdict, the encrypted photos), `service` (requiring, checking, approval,
evidence, retention), `views` (the signer's step page, the office's actions and photos) and the
hooks below, which are all it uses of the core:

* `case_sent` gives each signer the tenant's default requirement, unless the officer chose one;
* `signing_steps` holds back every signing method while a required check has not passed;
* `ui_panels` shows the office's panel on the case (requirement, result, photos, in-person check,
  approval);
* `signature_evidence` and `receipt_sections` put the check (never the photo or full number) in
  the signature's evidence, the chain's `party_signed` event and the receipt;
* `register_periodic_jobs` deletes photos once the retention period after the case closed is over.
"""

from __future__ import annotations

from pathlib import Path

from flask import render_template
from markupsafe import Markup

from core.extensions import db
from core.i18n import _, _l, force_locale
from core.jobs import PeriodicJob
from core.plugins import hookimpl
from core.signing.steps import SigningStep
from plugins.id_check.models import AWAITING_APPROVAL, FAILED, IN_PERSON, NAME, PASSED


@hookimpl
def plugin_info():
    from plugins.id_check.service import Settings

    return {"name": NAME, "title": _l("ID check"),
            "description": _l("Check the signer's ID document before they sign: photographed, read and checked, "
                              "with the result in the case's evidence and the photo deleted on time."),
            "settings_schema": Settings}


@hookimpl
def register_blueprints(app):
    from plugins.id_check import models  # noqa: F401  (the table)
    from plugins.id_check.views import bp

    return [bp]


@hookimpl
def register_migrations():
    from plugins.id_check import models  # noqa: F401  (the table, for Alembic)

    return [Path(__file__).parent / "migrations"]


@hookimpl
def register_translations():
    return [Path(__file__).parent / "translations"]


@hookimpl
def register_periodic_jobs():
    from plugins.id_check.service import delete_expired_images

    return [PeriodicJob("id_check_retention", delete_expired_images, seconds=3600, plugin=NAME)]


@hookimpl
def reencrypt_files():
    from plugins.id_check.service import reencrypt_all

    return reencrypt_all()


@hookimpl
def case_sent(case, actor):
    from plugins.id_check.service import apply_default

    apply_default(case)


@hookimpl
def signing_steps(case, party):
    from plugins.id_check.service import failure_reasons, required_check

    row = required_check(party)
    if row is None:
        return []
    if row.mode == IN_PERSON:
        label = _("Show your ID document to the officer in person")
        hint = _("The sender must check your ID document in person before you can sign.")
    else:
        label = _("Check your ID document")
        hint = _("Photograph your passport or ID card; it is read and checked before you can sign.")
    if row.status == AWAITING_APPROVAL:
        hint = _("Your ID document is checked. An officer must approve the check before you can sign.")
    elif row.status == FAILED:
        hint = " ".join([_("The check of your ID document failed:"), *failure_reasons(row)])
    return [SigningStep(name="id_check", label=label, endpoint="id_check.step", done=row.status == PASSED, hint=hint)]


@hookimpl
def signature_evidence(case, party, method):
    from plugins.id_check.service import evidence, required_check

    row = required_check(party)
    if row is None or row.status != PASSED:
        return None
    return {NAME: evidence(row)}


@hookimpl
def receipt_sections(case, language):
    import sqlalchemy as sa

    from core.models import Signature
    from plugins.id_check.service import receipt_line

    signatures = db.session.scalars(sa.select(Signature).where(Signature.case_id == case.id)
                                    .order_by(Signature.id)).all()
    found = [(s.party.name, s.evidence["plugins"][NAME]) for s in signatures
             if NAME in ((s.evidence or {}).get("plugins") or {})]
    if not found:
        return []
    with force_locale(language):
        return [(_("ID check"), [receipt_line(name, item) for name, item in found])]


@hookimpl
def ui_panels(slot, context):
    if slot not in ("case_sidebar", "template_detail"):
        return None
    from plugins.id_check import service

    if slot == "template_detail":
        template = context["template"]
        roles = [r for r in (context.get("content") or {}).get("roles") or [] if r.get("kind") == "signer"]
        chosen = service.template_modes(template.id)
        tenant_default = service.settings(template.tenant_id)["require_mode"]
        html = render_template("id_check/template_panel.html", template=template, roles=roles, service=service,
                               modes={r["key"]: chosen.get(r["key"], tenant_default) for r in roles})
        return Markup(html)  # noqa: S704  (an autoescaped template)
    case = context["case"]
    rows = service.checks_of(case)
    signers = [p for p in case.parties if p.role == "signer"]
    by_role = service.template_modes(case.template_id)
    defaults = {p.id: service.default_mode(case, p, by_role=by_role) if case.status == "draft" else "none"
                for p in signers}
    html = render_template("id_check/case_panel.html", case=case, signers=signers, rows=rows, service=service,
                           open=case.status in service.OPEN_CASE, defaults=defaults)
    return Markup(html)  # noqa: S704  (an autoescaped template)


@hookimpl
def export_columns(cases):
    """One column: each required check of the case as "party: status"."""
    import sqlalchemy as sa

    from core.models import Party
    from plugins.id_check.models import IdCheck
    from plugins.id_check.service import STATUS_LABELS

    found: dict[int, list[str]] = {}
    if cases:
        rows = db.session.execute(
            sa.select(IdCheck.case_id, Party.name, IdCheck.status).join(Party, Party.id == IdCheck.party_id)
            .where(IdCheck.case_id.in_([c.id for c in cases]), IdCheck.mode != "none").order_by(Party.position))
        for case_id, name, status in rows:
            found.setdefault(case_id, []).append(f"{name}: {STATUS_LABELS[status]}")
    return [(_("ID check"), {c.id: "; ".join(found[c.id]) for c in cases if c.id in found})]


@hookimpl
def event_text(event):
    data = event.data or {}
    party = data.get("party_name", "")
    if event.kind == "id_check_required":
        from plugins.id_check.service import MODE_LABELS

        return _("ID check for %(party)s: %(mode)s", party=party, mode=str(MODE_LABELS.get(data.get("mode"), "")))
    if event.kind == "id_check_passed":
        return _("ID check of %(party)s passed (%(kind)s, number ending %(last4)s)", party=party,
                 kind=_kind(data), last4=(data.get("document") or {}).get("number_last4", ""))
    if event.kind == "id_check_failed":
        return _("ID check of %(party)s failed", party=party)
    if event.kind == "id_check_approved":
        return _("ID check of %(party)s approved", party=party)
    if event.kind == "id_check_images_deleted":
        return _("ID photos of %(party)s deleted after the retention period", party=party)
    return None


def _kind(data: dict) -> str:
    from plugins.id_check.service import KIND_LABELS

    return str(KIND_LABELS.get((data.get("document") or {}).get("kind"), ""))
