"""The signer page (/s/<token>) as data, and a cache of its rendered HTML.

The page is the busiest one of the service: every party opens it, often several times, on
several devices. Rendering it (a few dozen translated messages, a figure per document page)
costs more than everything else the request does, so it is rendered from `SignerPage`, a frozen
record of every value the template shows, and the HTML is kept per worker under that record.

Why the cache cannot serve a stale page: the template gets nothing but the record (plus the
language and two stand-ins), and the record is built anew from the database on every request.
Whatever changes what the page shows (a party signs, a code is sent, the case expires, the
organisation is renamed) changes the record, hence the key. The link's token and the visitor's
CSRF token are rendered as stand-ins and filled in per request, so one entry serves every
request for the same content. Pages with an error, a re-filled form, a pending flash message,
or a method state that is not plain data (a BankID order in progress) are rendered uncached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from flask import current_app, render_template, session
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from core.fields.service import FieldView, signer_views
from core.fields.signer import signer_texts
from core.plugins import current_hooks
from core.signing import pages, service, steps
from core.signing.methods import SigningContext, SigningMethod
from core.timezones import format_time

TOKEN_STANDIN = "sigill-token-standin"  # noqa: S105  (a stand-in, not a secret)
CSRF_STANDIN = "sigill-csrf-standin"
_PLAIN = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class DocumentView:
    id: int
    filename: str
    sha256: str
    page_count: int


@dataclass(frozen=True)
class MethodView:
    name: str
    label: str
    template: str
    # The method's template context as sorted (key, value) pairs; `context` gives it as a dict.
    items: tuple[tuple[str, object], ...]

    @property
    def context(self) -> dict:
        return dict(self.items)


@dataclass(frozen=True)
class StepView:
    name: str
    label: str
    endpoint: str
    done: bool
    hint: str


@dataclass(frozen=True)
class SignerPage:
    """Everything /s/<token> shows, in the reader's language."""

    state: str  # "open" or "waiting"
    organisation: str
    sender: str | None
    title: str
    message: str
    sign_before: str | None  # when the case expires, in the organisation's time zone (signers only)
    role: str
    waiting_for: tuple[str, ...]
    documents: tuple[DocumentView, ...]
    methods: tuple[MethodView, ...]
    documents_digest: str
    consent_text: str
    cacheable: bool  # False when a method's state is not plain data
    fields: tuple[FieldView, ...] = ()  # the party's own, with their values as saved
    other_fields: tuple[FieldView, ...] = ()  # values other parties have signed
    # Plugins' steps before signing (core/signing/steps.py); while one is open, no method is shown.
    steps: tuple[StepView, ...] = ()
    # Plugins' panels for the "signer_page" slot, as HTML (with the token stand-in): part of the key.
    panels: tuple[str, ...] = ()

    @property
    def steps_open(self) -> bool:
        return any(not step.done for step in self.steps)


def build(link: service.Link, ctx: SigningContext, methods: list[SigningMethod]) -> SignerPage:
    case, party = link.case, link.party
    cacheable = True
    step_views = tuple(StepView(s.name, str(s.label), s.endpoint, bool(s.done), str(s.hint or ""))
                       for s in (steps.steps_for(case, party) if link.state == "open" else ()))
    if any(not step.done for step in step_views):
        methods = []  # nothing of a method starts while a step is open
    method_views = []
    for method in methods:
        context = method.template_context(ctx)
        if not all(isinstance(v, _PLAIN) for v in context.values()):
            cacheable = False
        method_views.append(MethodView(method.name, str(method.label), method.template,
                                       tuple(sorted(context.items()))))
    sender = service.sender_of(case)
    own, others = signer_views(case, party, ctx.language, ctx.fields) if link.state == "open" else ((), ())
    return SignerPage(
        state=link.state,
        organisation=link.tenant.name,
        sender=sender.name if sender else None,
        title=case.title,
        message=case.message or "",
        sign_before=format_time(case.expires_at, link.tenant) if case.expires_at and party.role == "signer" else None,
        role=party.role,
        waiting_for=tuple(link.waiting_for),
        documents=tuple(DocumentView(d.id, d.filename, d.sha256, d.page_count) for d in ctx.documents),
        methods=tuple(method_views),
        documents_digest=ctx.documents_digest,
        consent_text=ctx.consent_text,
        cacheable=cacheable,
        fields=own,
        other_fields=others,
        steps=step_views,
        panels=_panels(case, party, ctx.language),
    )


def _panels(case, party, language: str) -> tuple[str, ...]:
    """What the tenant's plugins put in the signer page's slot; the HTML is part of the cache key,
    so a changed panel is a new page. Plugins get the token stand-in for their links."""
    parts = current_hooks().ui_panels(slot="signer_page", context={
        "case": case, "party": party, "language": language, "token": TOKEN_STANDIN})
    return tuple(str(p if isinstance(p, Markup) else escape(p)) for p in parts if p)


class _LRU:
    """A small thread-safe LRU of strings, bounded by count (the app's SIGNER_PAGE_CACHE; 0 keeps
    nothing) and by total characters (MAX_CHARS), since a page grows by ~0.8 kB per document page."""

    MAX_CHARS = 16 * 2**20

    def __init__(self):
        self._items: OrderedDict[tuple, str] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> str | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple, value: str, size: int) -> None:
        if len(value) > self.MAX_CHARS // 4:  # one huge document must not push out everything else
            return
        with self._lock:
            previous = self._items.pop(key, None)
            self._chars -= len(previous) if previous is not None else 0
            self._items[key] = value
            self._chars += len(value)
            while self._items and (len(self._items) > size or self._chars > self.MAX_CHARS):
                _key, evicted = self._items.popitem(last=False)
                self._chars -= len(evicted)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._chars = 0

    def __len__(self) -> int:
        return len(self._items)


_pages = _LRU()
_documents = _LRU()  # document viewers, shared by the parties of a case


def render(page: SignerPage, token: str, language: str, error: str | None = None,
           form: Mapping | None = None, field_errors: Mapping | None = None, error_field: str | None = None) -> str:
    """The page's HTML for this request. `error_field`: the id of the input `error` is about; the
    message is then shown at that input (which gets focus) instead of at the top."""
    cacheable = (page.cacheable and error is None and not form and not field_errors and not session.get("_flashes")
                 and current_app.config["SIGNER_PAGE_CACHE"] > 0)
    key = (page, language)
    html = _pages.get(key) if cacheable else None
    if html is None:
        html = render_template(
            "signing/open.html", page=page, token=TOKEN_STANDIN, csrf_token=_csrf_standin,
            documents_html=[_document_html(d, language) for d in page.documents],
            error=error, form=form or {}, field_errors=field_errors or {}, error_field=error_field,
            fields_texts=signer_texts() if page.fields else {},
        )
        if cacheable:
            _pages.put(key, html, current_app.config["SIGNER_PAGE_CACHE"])
    return fill(html, token)


def fill(html: str, token: str) -> str:
    """Put the link's token and the visitor's CSRF token in place of the stand-ins."""
    return html.replace(TOKEN_STANDIN, str(escape(token))).replace(CSRF_STANDIN, str(escape(generate_csrf())))


def _csrf_standin() -> str:
    return CSRF_STANDIN


def _document_html(document: DocumentView, language: str) -> Markup:
    """One document's viewer (name, hash, a figure per page, compare form), with stand-ins.

    Documents do not change once a case is sent, so this is shared by every party of the case
    and survives changes elsewhere on the page.
    """
    key = (document, language, pages.WIDTHS)
    html = _documents.get(key)
    if html is None:
        html = render_template("signing/_document.html", document=document, token=TOKEN_STANDIN,
                               widths=pages.WIDTHS, chunk=pages.CHUNK, csrf_token=_csrf_standin)
        _documents.put(key, html, current_app.config["SIGNER_PAGE_CACHE"])
    return Markup(html)  # noqa: S704  (our own template's autoescaped output)


def clear_caches() -> None:
    _pages.clear()
    _documents.clear()
