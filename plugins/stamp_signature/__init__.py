"""Stamp signature: a party with several cases waiting in one organisation reviews them together
and signs them all with one signature (switched on per organisation).

Hooks: a signer-page panel ("N documents are waiting for you"), the stamp page (a public route
from the party's own signing link, `views.py`), the signature's evidence (the manifest's hash),
a timeline event per case, and the receipt's lines. The work is in `service.py`.
"""

from __future__ import annotations

from pathlib import Path

from flask import render_template
from markupsafe import Markup

from core.cases import events
from core.i18n import _, _l
from core.plugins import hookimpl
from plugins.stamp_signature import service


@hookimpl
def plugin_info():
    return {"name": service.NAME, "title": _l("Stamp signature"),
            "description": _l("A party with several documents waiting reviews them together and signs them all "
                              "with one signature."),
            "settings_schema": service.Settings}


@hookimpl
def register_translations():
    return [Path(__file__).parent / "translations"]


@hookimpl
def register_migrations():
    from plugins.stamp_signature import models  # noqa: F401  (the tables, for Alembic and the app)

    return [Path(__file__).parent / "migrations"]


@hookimpl
def register_blueprints(app):
    from plugins.stamp_signature import models  # noqa: F401
    from plugins.stamp_signature.views import bp

    return [bp]


@hookimpl
def ui_panels(slot, context):
    if slot == "case_sidebar":
        case = context["case"]
        stamped = [(p, service.stamp_of(p)) for p in case.signers]
        stamped = [(p, s) for p, s in stamped if s]
        if not stamped:
            return None
        return Markup(render_template("stamp_signature/case_panel.html", case=case, stamped=stamped))  # noqa: S704
    if slot != "signer_page":
        return None
    party = context.get("party")
    if party is None or party.role != "signer":
        return None
    # At most a page's worth is read: a person with 1,000 waiting cases is told "more than 50".
    waiting = service.waiting_page(party, service.PAGE_SIZE, listed=False)  # counted, not shown
    if len(waiting.links) < 2:
        return None
    # render_template output is autoescaped HTML, so Markup() marks it safe without trusting input.
    return Markup(render_template("stamp_signature/panel.html", count=len(waiting.links),  # noqa: S704
                                  more=waiting.more, token=context["token"]))


@hookimpl
def register_periodic_jobs():
    from core.jobs import PeriodicJob

    return [PeriodicJob("stamp_signature_digest", "plugins.stamp_signature.digest.send_digests", seconds=3600,
                        plugin=service.NAME),
            PeriodicJob("stamp_signature_cleanup", "plugins.stamp_signature.cleanup.cleanup", seconds=3600,
                        plugin=service.NAME)]


@hookimpl
def signature_evidence(case, party, method):
    stamp = service.current_stamp.get()
    return {service.NAME: dict(stamp)} if stamp else None


@hookimpl
def party_signed(case, party, signature):
    stamp = ((signature.evidence or {}).get("plugins") or {}).get(service.NAME)
    if stamp:
        events.record(case, "stamp_signed", "party", actor_id=party.id, actor_label=party.name,
                      data={"manifest_sha256": stamp["manifest_sha256"], "others": stamp["other_documents"]})


@hookimpl
def job_gave_up(func, args, error):
    if func == f"{service.__name__}.sign_chunk":
        service.chunk_gave_up(*args)
        service.release_proof(args[1])  # in the job's transaction: this job is "failed" now


@hookimpl
def reencrypt_files():
    return service.reencrypt_proofs()


@hookimpl
def event_text(event):
    if event.kind == "stamp_signed":
        data = event.data or {}
        return _("%(name)s signed together with %(num)s other documents in one stamp signature (manifest SHA-256 "
                 "%(sha256)s).", name=event.actor_label or "", num=data.get("others", 0),
                 sha256=data.get("manifest_sha256", ""))
    if event.kind == "stamp_not_signed":
        data = event.data or {}
        return _("%(name)s's stamp signature (manifest SHA-256 %(sha256)s) could not sign this case: %(reason)s",
                 name=event.actor_label or "", sha256=data.get("manifest_sha256", ""), reason=data.get("reason", ""))
    return None


@hookimpl
def signature_lines(signature):
    stamp = ((signature.evidence or {}).get("plugins") or {}).get(service.NAME)
    if not stamp:
        return []
    return [(_("Stamp signature"), _("Signed together with %(num)s other documents; manifest SHA-256 %(sha256)s",
                                     num=stamp.get("other_documents", 0), sha256=stamp.get("manifest_sha256", "")))]


@hookimpl
def receipt_sections(case, language):
    lines = []
    for party in case.signers:
        signature = party.signature
        stamp = ((signature.evidence or {}).get("plugins") or {}).get(service.NAME) if signature else None
        if not stamp:
            continue
        others, sha256 = stamp.get("other_documents", 0), stamp.get("manifest_sha256", "")
        if language == "sv":
            lines.append(f"{party.name} undertecknade tillsammans med {others} andra dokument i en stämpelsignatur. "
                         f"Manifestets SHA-256: {sha256}")
        else:
            lines.append(f"{party.name} signed together with {others} other documents in one stamp signature. "
                         f"Manifest SHA-256: {sha256}")
    if not lines:
        return []
    return [("Stämpelsignatur" if language == "sv" else "Stamp signature", lines)]
