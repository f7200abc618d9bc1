"""Email: rendered in the reader's language, stored, then delivered by a job.

With `SMTP_URL` (smtp://user:pass@host:port, `?starttls=1`, or smtps://) messages go out by SMTP;
without it they are written as .eml files to the outbox folder, where the debug outbox page
lists them.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, make_msgid
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import sqlalchemy as sa
from flask import current_app, render_template

from core import jobs
from core.extensions import db
from core.i18n import force_locale
from core.models import OutgoingMail
from core.models.base import utcnow
from core.text import header_text, valid_email

log = logging.getLogger(__name__)


# While `batched()` is open: the mails queued in it, (id, tenant id, case id to report to), for one job.
_BATCH_KEY = "sigill_mail_batch"


class InvalidRecipient(ValueError):
    """`to` is not one plain email address (forms and the API refuse such addresses at input)."""


def send_mail(to: str, template: str, language: str = "sv", tenant=None, report_failure: bool = True,
              **context) -> OutgoingMail:
    """Render `mail/<template>.{subject,txt,html}` in `language` and queue the message.

    Delivery happens after the caller's commit. `tenant` gives the sender name. A mail about a
    `case` that cannot be delivered is reported on the case (unless `report_failure` is False).
    Headers never break: names and subjects lose line breaks and control characters here, and
    `to` must be exactly one address (`InvalidRecipient` otherwise), so it is one recipient.
    """
    to = (to or "").strip()
    if not valid_email(to):
        raise InvalidRecipient("the recipient is not one plain email address")
    context.setdefault("tenant", tenant)
    context.setdefault("base_url", current_app.config["BASE_URL"])
    with force_locale(language):
        subject = header_text(render_template(f"mail/{template}.subject.txt", **context))
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", **context)
    sender_name = header_text(tenant.mail_sender_name if tenant is not None else "") or "Sigill"
    mime = mime_text(subject, formataddr((sender_name, current_app.config["MAIL_FROM"])), to,
                     make_msgid(domain=current_app.config["MAIL_FROM"].split("@")[-1]), language, text, html)
    mail = OutgoingMail(tenant_id=tenant.id if tenant is not None else None, to_addr=to, subject=subject, mime=mime)
    db.session.add(mail)
    db.session.flush()
    case = context.get("case")
    report_to = case.id if case is not None and report_failure else None
    batch = db.session.info.get(_BATCH_KEY)
    if batch is not None and (not batch or batch[0][1] == mail.tenant_id):
        batch.append((mail.id, mail.tenant_id, report_to))
    else:
        jobs.enqueue(deliver, mail.id, tenant_id=mail.tenant_id, queue="mail", case_id=report_to)
    return mail


@contextlib.contextmanager
def batched():
    """The mails sent inside (`send_mail`, in the caller's transaction) go out in one delivery
    job over one SMTP connection, not one job each: a sealed case mails every party and its owner
    at once. Nested, the outer batch takes them; a mail of another organisation gets its own job."""
    if _BATCH_KEY in db.session.info:
        yield
        return
    batch: list[tuple[int, int | None, int | None]] = []
    db.session.info[_BATCH_KEY] = batch
    try:
        yield
    finally:
        db.session.info.pop(_BATCH_KEY, None)
    if len(batch) == 1:
        mail_id, tenant_id, report_to = batch[0]
        jobs.enqueue(deliver, mail_id, tenant_id=tenant_id, queue="mail", case_id=report_to)
    elif batch:
        report_to = next((case_id for _m, _t, case_id in batch if case_id is not None), None)
        jobs.enqueue(deliver_many, ",".join(str(mail_id) for mail_id, _t, _c in batch), tenant_id=batch[0][1],
                     queue="mail", case_id=report_to)


def mime_text(subject: str, sender: str, to: str, message_id: str, language: str, text: str, html: str) -> str:
    """The message as stored and sent: multipart/alternative, plain text and HTML in UTF-8 (base64),
    non-ASCII header text as encoded words (`sender` is already `formataddr`'s).

    Built with the email package's compat32 classes: `EmailMessage` with the default policy parses
    and refolds every header through its header registry, ~2.5 ms of CPU a mail against ~0.4 ms
    here (a case sends five: two invitations, three on completion).
    """
    message = MIMEMultipart("alternative")
    # Folded here (compat32 leaves a long header on one line): plain text, or encoded words for åäö.
    message["Subject"] = Header(subject, "us-ascii" if subject.isascii() else "utf-8", header_name="Subject").encode()
    message["From"] = sender
    message["To"] = to
    message["Message-ID"] = message_id
    message["Content-Language"] = language
    message.attach(MIMEText(text, "plain", "utf-8"))
    message.attach(MIMEText(html, "html", "utf-8"))
    return message.as_string()


def deliver(mail_id: int) -> None:
    mail = db.session.get(OutgoingMail, mail_id)
    if mail is None or mail.sent_at is not None:
        return
    smtp_url = current_app.config.get("SMTP_URL")
    if smtp_url:
        with _smtp_client(smtp_url) as client:
            _send_smtp(client, mail)
    else:
        _write_outbox(mail)
    mail.sent_at = utcnow()
    log.info("mail %s delivered (%s)", mail.id, "smtp" if smtp_url else "outbox")


def deliver_many(mail_ids: str) -> None:
    """A job: deliver the mails of `batched()` (comma-separated ids) over one SMTP connection.
    Each is marked sent and committed as soon as it went out, so a run again after a crash sends
    only those not sent yet (as `deliver` does for one)."""
    ids = [int(mail_id) for mail_id in mail_ids.split(",")]
    # Plain rows, not loaded objects: the commit after each mail would expire the rest and read them again.
    mails = db.session.execute(sa.select(OutgoingMail.id, OutgoingMail.to_addr, OutgoingMail.mime,
                                         OutgoingMail.created_at)
                               .where(OutgoingMail.id.in_(ids), OutgoingMail.sent_at.is_(None))
                               .order_by(OutgoingMail.id)).all()
    if not mails:
        return
    smtp_url = current_app.config.get("SMTP_URL")
    with _smtp_client(smtp_url) if smtp_url else contextlib.nullcontext() as client:
        for mail in mails:
            if client is not None:
                _send_smtp(client, mail)
            else:
                _write_outbox(mail)
            db.session.execute(sa.update(OutgoingMail).where(OutgoingMail.id == mail.id).values(sent_at=utcnow()))
            db.session.commit()
            log.info("mail %s delivered (%s)", mail.id, "smtp" if smtp_url else "outbox")


@contextlib.contextmanager
def _smtp_client(url: str):
    parts = urlsplit(url)
    options = parse_qs(parts.query)
    host, port = parts.hostname or "localhost", parts.port
    if parts.scheme == "smtps":
        client = smtplib.SMTP_SSL(host, port or 465, timeout=30, context=_tls_context())
    else:
        client = smtplib.SMTP(host, port or 25, timeout=30)
    with client:
        if parts.scheme == "smtp" and options.get("starttls", ["0"])[0] in ("1", "true"):
            client.starttls(context=_tls_context())
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        yield client


def _send_smtp(client: smtplib.SMTP, mail: OutgoingMail) -> None:
    # As str: smtplib turns the stored \n line ends into the CRLF that SMTP requires.
    client.sendmail(current_app.config["MAIL_FROM"], [mail.to_addr], mail.mime)


@cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process, shared by every delivery (contexts are thread-safe).

    Building one reads the system's CA certificates: ~28 ms of CPU, as much as the rest of a
    mail job, when it was done for every message.
    """
    return ssl.create_default_context()


def outbox_dir() -> Path:
    path = Path(current_app.config["OUTBOX_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_outbox(mail: OutgoingMail) -> None:
    name = f"{mail.created_at:%Y%m%dT%H%M%S}-{mail.id:06d}.eml"
    (outbox_dir() / name).write_text(mail.mime)
