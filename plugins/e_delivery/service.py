"""E-delivery: attach files to a case; release them to the parties once the case is sealed."""

from __future__ import annotations

import hashlib
import mimetypes

import sqlalchemy as sa
from marshmallow import Schema, fields, validate

from core.cases import events
from core.cases.service import officer_label
from core.extensions import db
from core.i18n import _, _l
from core.models import Case, Officer, Party, Tenant
from core.plugins import plugin_settings
from core.storage import blobs
from core.text import clean_filename
from plugins.e_delivery import crypto
from plugins.e_delivery.models import DeliveryFile

NAME = "e_delivery"
OPEN_STATUSES = ("draft", "pending")


class SettingsSchema(Schema):
    """The tenant's e-delivery settings (JSON in Tenant.plugin_settings["e_delivery"])."""

    max_file_mb = fields.Integer(load_default=50, validate=validate.Range(1, 500),
                                 metadata={"label": _l("Largest file (MB)")})
    max_case_mb = fields.Integer(load_default=200, validate=validate.Range(1, 2000),
                                 metadata={"label": _l("All files of a case together (MB)")})


class DeliveryError(ValueError):
    """A refusal with a message for the officer, in their language."""


def settings(tenant: Tenant) -> dict:
    return plugin_settings(tenant, NAME)


def files_of(case: Case) -> list[DeliveryFile]:
    return list(db.session.scalars(
        sa.select(DeliveryFile).where(DeliveryFile.case_id == case.id).order_by(DeliveryFile.id)
    ))


def file_of(case: Case, file_id: int) -> DeliveryFile | None:
    return db.session.scalars(
        sa.select(DeliveryFile).where(DeliveryFile.case_id == case.id, DeliveryFile.id == file_id)
    ).first()


def released(case: Case) -> bool:
    """Files are released only by a sealed, completed case; never by a revoked, declined or expired one."""
    return case.status == "completed"


def attach(case: Case, officer: Officer, filename: str, data: bytes, description: str = "") -> DeliveryFile:
    if case.status not in OPEN_STATUSES:
        raise DeliveryError(_("Files can only be added while the case is a draft or waiting for signatures."))
    filename = clean_filename(filename, default="")
    if not filename:
        raise DeliveryError(_("Choose a file to attach."))
    if not data:
        raise DeliveryError(_("%(file)s is empty.", file=filename))
    limits = settings(db.session.get(Tenant, case.tenant_id))
    if len(data) > limits["max_file_mb"] * 1024 * 1024:
        raise DeliveryError(_("%(file)s is larger than %(mb)s MB, the largest file your organisation allows.",
                              file=filename, mb=limits["max_file_mb"]))
    total = sum(f.size for f in files_of(case)) + len(data)
    if total > limits["max_case_mb"] * 1024 * 1024:
        raise DeliveryError(_("The files of a case may be at most %(mb)s MB together.", mb=limits["max_case_mb"]))
    ciphertext, wrapped_key = crypto.encrypt(data, case.tenant_id, case.id)
    delivery = DeliveryFile(
        case_id=case.id, filename=filename, description=(description or "").strip()[:500],
        content_type=mimetypes.guess_type(filename)[0] or "application/octet-stream", size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), blob_sha256=blobs().put(ciphertext), wrapped_key=wrapped_key,
        created_by=officer.id,
    )
    db.session.add(delivery)
    db.session.flush()
    events.record(case, "delivery_file_added", "officer", actor_id=officer.id, actor_label=officer_label(officer),
                  data={"file_id": delivery.id, "filename": filename, "sha256": delivery.sha256, "size": len(data)})
    return delivery


def remove(case: Case, delivery: DeliveryFile, officer: Officer) -> None:
    if case.status not in OPEN_STATUSES:
        raise DeliveryError(_("Files cannot be removed once the case is closed."))
    events.record(case, "delivery_file_removed", "officer", actor_id=officer.id, actor_label=officer_label(officer),
                  data={"file_id": delivery.id, "filename": delivery.filename, "sha256": delivery.sha256})
    db.session.delete(delivery)


def read(delivery: DeliveryFile) -> bytes:
    return crypto.decrypt(blobs().get(delivery.blob_sha256), delivery.wrapped_key, delivery.tenant_id,
                          delivery.case_id)


def download_for_party(case: Case, party: Party, delivery: DeliveryFile) -> bytes:
    """The plaintext for a party of a completed case; the download is an event in the chain."""
    if not released(case) or party.case_id != case.id:
        raise DeliveryError(_("The files are not available."))
    data = read(delivery)
    events.record(case, "delivery_file_downloaded", "party", actor_id=party.id,
                  actor_label=f"{party.name} <{party.email}>",
                  data={"file_id": delivery.id, "filename": delivery.filename, "sha256": delivery.sha256})
    return data


def rewrap_all() -> int:
    """Every file key under the current FILE_KEYS key (`sigill files rotate`); tenant by tenant."""
    from tenants.scoping import tenant_context

    done = 0
    for tenant_id in db.session.scalars(sa.select(Tenant.id).order_by(Tenant.id)).all():
        with tenant_context(tenant_id):
            for delivery in db.session.scalars(sa.select(DeliveryFile).order_by(DeliveryFile.id)):
                again = crypto.rewrap(delivery.wrapped_key, delivery.tenant_id, delivery.case_id)
                if again is not None:
                    delivery.wrapped_key = again
                    done += 1
            db.session.commit()
    return done
