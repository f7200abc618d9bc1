"""Every hook a Sigill plugin can implement.

Implementations keep the spec's name (pluggy's subset caller cannot filter `specname=`
aliases). Hooks called for a tenant go through `core.plugins.TenantHooks`, so a plugin the tenant
has switched off is never called for it. `tests/test_hookspecs.py` fails when a spec or one of its
arguments is undocumented here.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("sigill")


# --- describing the plugin -------------------------------------------------------------------


@hookspec
def plugin_info():
    """Describe the plugin for the tenant admin page.

    Return a dict with `name` (the id used in `enabled_plugins`), `title` and `description`
    (lazy-translatable strings) and optionally `settings_schema` (a marshmallow Schema class
    validating the tenant's JSON settings for this plugin). Each tenant admin edits those settings
    on the admin page (a field per schema field: Integer, Float, String, Boolean, or one of a
    `validate.OneOf`; `metadata={"label": _l(...), "description": _l(...)}`); the plugin reads them
    with `core.plugins.plugin_settings(tenant, name)`, validated and with defaults.
    """


@hookspec
def config_keys():
    """Return a dict `{KEY: default}` of configuration keys this plugin reads.

    Called once at start-up, for every installed plugin: each key is read from the environment
    (a `create_app(config=...)` override wins, then the environment, then the default) into
    `current_app.config[KEY]`, which is where the plugin reads it. Core keys are never replaced.
    """


@hookspec
def register_blueprints(app):
    """Return a list of Flask blueprints to register at start-up.

    app: the Flask application being built. Every installed plugin's blueprints are registered;
    a guard answers 404 for tenants that have the plugin switched off.
    """


@hookspec
def register_translations():
    """Return a list of folders with this plugin's own message catalogues (`<lang>/LC_MESSAGES/messages.po`).

    Read once at start-up for every installed plugin; `make translations` compiles them next to
    the core's. The plugin's texts then translate through `core.i18n._` like the core's (the
    core's own translation wins where both have a message).
    """


@hookspec
def register_migrations():
    """Return a list of folders with this plugin's Alembic migrations (its own branch).

    Called for every installed plugin whenever Alembic runs (`sigill db upgrade`, which upgrades
    to all heads). The plugin's first revision has `down_revision = None`,
    `branch_labels = ("<plugin name>",)` and `depends_on` the core revision that made the tables
    it references; later ones follow it. Its models are ordinary `db.Model`s (tenant rows mix in
    `TenantScoped`) with `__table_args__ = {"info": {"plugin": "<plugin name>"}}`, imported when
    the plugin is loaded. `sigill db migrate --head <plugin name>@head` writes the next one.
    """


@hookspec
def register_periodic_jobs():
    """Return a list of `core.jobs.PeriodicJob` (retention deletes, expiring submissions ...).

    Called once per app for every installed plugin; the jobs run in the scheduler: `sigill
    scheduler` beside Redis, or the thread `sigill serve` (and so `make run`) starts without it.
    A job with `plugin=` set runs per tenant that has the plugin on, in that tenant's context and
    its own transaction; a failing run is logged and tried again at the next interval.
    """


@hookspec
def register_signing_methods():
    """Return a list of `core.signing.methods.SigningMethod` subclasses this plugin provides.

    The only source of signing methods: the core's own come from `core.signing.builtin` through
    this hook too. Called once at start-up for every installed plugin (a method's `name` must be
    unique and short, else the app does not start) and per tenant for what it may offer (only
    tenants that switched the plugin on). The office form, the API and its OpenAPI document, the
    signer page, the receipt, the verify page and the case timeline all read the result.
    """


@hookspec
def reencrypt_files():
    """Re-encrypt what this plugin keeps encrypted (`core.encryption`) under the current key.

    Called by `sigill files rotate` for every installed plugin, outside any request and with no
    tenant set: walk your rows per tenant (`tenant_context`), replace each ciphertext for which
    `core.encryption.reencrypt(blob, tenant_id, context)` returns a new one, commit as you go,
    and return how many you re-encrypted. Safe to run again: what is current is left alone.
    """


@hookspec
def webhook_events():
    """Return a dict `{event name: label}` of the webhook events this plugin fires.

    Names are dotted and start with the plugin's own word (`web_form.submission.created`), at most
    40 characters; labels are lazy-translatable (`_l`), shown on the admin's API page next to the
    core's events. Asked for the admin's organisation (only plugins it has on offer their events
    there) and, for the OpenAPI document's list, of every installed plugin. Fire an event with
    `core.api.webhooks.fire(event, case, data)` inside the transaction of the change: the core
    queues one delivery per subscribed endpoint (signed, retried, ordered per case by `sequence`),
    and nothing is sent if the change rolls back.
    """


@hookspec
def api_operations():
    """Return the OpenAPI description of this plugin's /api/v1 routes: a dict with `paths`, a list
    of `(path, method, operation)` (path below /api/v1, e.g. `/web-forms/{form_id}`; the operation
    as in OpenAPI 3, with `operationId`, `summary`, `parameters` and `responses`; schemas named by
    string), and `schemas`, a dict `{name: marshmallow Schema class}` for the components.

    Asked of every installed plugin while the document is built (once per app). The routes
    themselves are a blueprint made by `core.api.views.plugin_api_blueprint(plugin name, __name__)`
    and returned from `register_blueprints`: it authenticates with the organisation's API key like
    the core's routes, answers 404 (JSON) for an organisation with the plugin off, and answers
    errors as `{"error": {"code", "message", "fields"}}`. Every route under /api/v1 must be
    described here (a test fails otherwise); the 401 and 429 answers are added for you.
    """


# --- case lifecycle events (called with the tenant's hooks) -----------------------------------


@hookspec
def case_created(case, actor):
    """A case was created. case: the `Case` (draft); actor: the `core.cases.actors.Actor` who created
    it (an officer, the service, a public visitor through a plugin's page, a device, an API key)."""


@hookspec
def case_sent(case, actor):
    """A case was sent for signing. case: the `Case`, now pending; actor: the `Actor` who sent it."""


@hookspec
def party_viewed(case, party):
    """A party opened their link for the first time. case: the `Case`; party: the `Party`."""


@hookspec
def party_signed(case, party, signature):
    """A party signed. case: the `Case`; party: the `Party`; signature: the new `Signature`."""


@hookspec
def case_completed(case):
    """Every signer has signed and the documents are sealed. case: the completed `Case`."""


@hookspec
def job_gave_up(func, args, error):
    """A job of this organisation gave up for good (its last attempt failed, or it raised
    `GiveUp`). func: the job's dotted function name; args: its plain arguments (a list); error:
    the first line of its last error. Inside the transaction that marks the job failed (in a
    savepoint: raising undoes only what the hook wrote); do not commit. A plugin whose own job gave
    up tells who waits on it (timeline events, mails)."""


@hookspec
def case_declined(case, party):
    """A party declined. case: the `Case`, now declined; party: the declining `Party`."""


@hookspec
def case_revoked(case, officer, actor):
    """A case was revoked. case: the `Case`; officer: the `Officer` who revoked it (None when another
    kind of actor did); actor: the `Actor` who revoked it."""


@hookspec
def case_expired(case):
    """A case passed its expiry date unsigned. case: the `Case`, now expired."""


# --- decisions ----------------------------------------------------------------------------------


@hookspec(firstresult=True)
def before_party_signs(case, party, method):
    """Return a reason (str, in the party's language) to block this signature, or None to allow it.

    case: the `Case`; party: the signing `Party`; method: the signing method's name. Asked before
    any method action starts (no BankID order, no SMS code when refused) and at the final submit,
    inside that request's transaction, before anything is written. Stops at first non-None result.
    """


@hookspec(firstresult=True)
def resolve_signing_link(token):
    """Return the id of the party a signing link of this plugin's own stands for, or None.

    token: the token in a signer URL (`/s/<token>`) that is no party's own link. Asked of every
    installed plugin, with no tenant set (query with `execution_options(all_tenants=True)` or by a
    hashed token), before the signer's pages resolve it; the first id wins. The signer's pages
    then serve that party exactly as for their own link (documents, fields, methods, decline), so
    answer only for a tenant that has your plugin on, and only while the link should work (a
    kiosk tablet's link works only with that tablet's cookie and only while the push lasts).
    Stops at first non-None result.
    """


@hookspec
def signing_steps(case, party):
    """Return a list of `core.signing.steps.SigningStep` this party must complete before signing.

    case: the `Case`; party: the signing `Party` (asked for signers only). Asked while the signer
    page is built (its result is part of the page's cache key), before any method action starts
    and at the final submit, inside that request's transaction: an open step (`done=False`) shows
    a link to the step's page instead of the methods, and refuses actions and signatures. The
    plugin's page records completion in its own rows and commits; `done` then reads them.
    """


@hookspec
def signature_evidence(case, party, method):
    """Return a dict to add to a signature's evidence, or None; key it by your plugin's name.

    case: the `Case`; party: the signing `Party`; method: the method's name. Called at the final
    submit after the method verified its proof, inside the signing transaction, just before the
    `Signature` is written. The dicts of every enabled plugin are merged into the signature's
    `evidence["plugins"]` and into the `party_signed` event's data (so the hash chain covers them):
    JSON values only, never secrets or full personal numbers.
    """


# --- user interface -----------------------------------------------------------------------------


@hookspec
def ui_panels(slot, context):
    """Return HTML (Markup) for a named slot of a page, or None.

    slot: the slot's name; context: a dict of what the page shows. Slots:
    "signer_page" (above the signing form; context `case`, `party`, `language` and `token`, a
    stand-in to build links with, e.g. `url_for("my.view", token=context["token"])`: the result is
    part of the signer page's cache key, so it must depend only on what it was given and on rows
    it reads, never on time or chance), "signer_completed" (`case`, `party`), "signer_step" (a
    plugin's own page for a step before signing, see `signing_steps`: that page renders the slot
    with `case`, `party` and `token`, the party's real link token, so other plugins can add to it,
    e.g. the kiosk's watcher that takes a tablet back to idle), "case_sidebar" (the
    office's case page; `case`), "template_detail" (the office's template page, under its
    settings; `template`, `content`: the current version's roles, documents and settings),
    "admin_notices" and "admin_settings" (`tenant`).
    """


@hookspec
def completion_items(case, party):
    """Return a list of `(label, url)` to list in a party's completion email.

    case: the completed `Case`; party: the `Party` the email is for (links may use their token).
    """


@hookspec(firstresult=True)
def event_text(event):
    """Return the timeline text for an event of a kind this plugin records, or None.

    event: the `Event`. Stops at first non-None result. Asked of every installed plugin, also
    one the event's tenant has switched off since (its past events stay readable).
    """


@hookspec
def menu_items(officer):
    """Return a list of `(label, url)` for the office's main menu. officer: the `Officer`."""


@hookspec
def export_columns(cases):
    """Return a list of `(label, {case id: value})`: this plugin's columns in the case export.

    cases: a batch (up to `core.cases.export.BATCH`) of the `Case`s being exported, all of the
    current tenant, possibly empty. Called once per batch, inside the export's read of the office
    request (tenant set; write nothing). The labels of the first batch are the export's header,
    so return the same labels for every batch, even an empty one; a case missing from the dict
    gets an empty cell. Values: str, int, Decimal, date, datetime, bool or None (typed in Excel).
    """


@hookspec
def signature_lines(signature):
    """Return a list of `(label, text)` describing what this plugin added to a signature's evidence.

    signature: a stored `Signature` (its `evidence["plugins"]` holds what `signature_evidence`
    returned). Asked with the hooks of the signature's tenant while the verify page shows the
    sealed document's signers, in the page's language; read only, no secrets (the page is public
    to anyone holding the document).
    """


@hookspec
def receipt_sections(case, language):
    """Return a list of `(heading, [lines])` to add to the receipt.

    case: the `Case` being sealed; language: "sv" or "en".
    """
