"""Tenant isolation, enforced centrally.

Every model that belongs to a tenant mixes in `TenantScoped`. Two session listeners do the rest:

* `do_orm_execute` adds `with_loader_criteria(TenantScoped, tenant_id == current)` to every ORM
  SELECT, UPDATE and DELETE (relationship loads included). With no tenant in context it raises
  `NoTenantError` (fail closed) unless the statement says `execution_options(all_tenants=True)`.
* `before_flush` stamps `tenant_id` on new rows and refuses rows of another tenant.

The current tenant lives in a context variable: set per request by the office (officer's
session), the signer (link token) or public pages (slug); per job by the job runner.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)

_current_tenant: contextvars.ContextVar[int | None] = contextvars.ContextVar("sigill_tenant", default=None)


class NoTenantError(RuntimeError):
    """A tenant-scoped query or write ran with no tenant in context."""


class CrossTenantWriteError(RuntimeError):
    """A row of one tenant was written while another tenant was current."""


def current_tenant_id() -> int | None:
    return _current_tenant.get()


def set_current_tenant(tenant_id: int | None) -> contextvars.Token:
    return _current_tenant.set(tenant_id)


def reset_current_tenant(token: contextvars.Token) -> None:
    _current_tenant.reset(token)


@contextlib.contextmanager
def tenant_context(tenant_id: int | None) -> Iterator[None]:
    token = _current_tenant.set(tenant_id)
    try:
        yield
    finally:
        _current_tenant.reset(token)


class TenantScoped:
    """Mixin for every row that belongs to one tenant."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:  # noqa: N805
        return mapped_column(sa.ForeignKey("tenant.id", ondelete="CASCADE"), index=True, nullable=False)


def _scope_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get("all_tenants"):
        return
    if state.is_column_load and not state.is_relationship_load:
        # Refreshing attributes of an object already loaded under its tenant.
        return
    tenant_id = _current_tenant.get()
    if tenant_id is None:
        if _touches_scoped_entity(state):
            raise NoTenantError("tenant-scoped query with no tenant in context")
        return
    state.statement = state.statement.options(_tenant_criteria(tenant_id))


@functools.lru_cache(maxsize=1024)
def _tenant_criteria(tenant_id: int):
    """The loader criteria for one tenant, built once: building it (and analysing its lambda) for
    every statement cost more than the rest of a small query."""
    return with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True)


def _touches_scoped_entity(state: ORMExecuteState) -> bool:
    return any(issubclass(mapper.class_, TenantScoped) for mapper in state.all_mappers)


def _stamp_new_rows(session: Session, flush_context, instances) -> None:  # noqa: ARG001
    tenant_id = _current_tenant.get()
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantScoped):
            continue
        if obj.tenant_id is None:
            if tenant_id is None:
                raise NoTenantError(f"new {type(obj).__name__} with no tenant in context")
            obj.tenant_id = tenant_id
        elif tenant_id is not None and obj.tenant_id != tenant_id:
            raise CrossTenantWriteError(
                f"{type(obj).__name__} of tenant {obj.tenant_id} written under tenant {tenant_id}"
            )


def install(session_class: type[Session] | object) -> None:
    """Attach the listeners to a session class or sessionmaker (idempotent)."""
    if not event.contains(session_class, "do_orm_execute", _scope_statement):
        event.listen(session_class, "do_orm_execute", _scope_statement)
        event.listen(session_class, "before_flush", _stamp_new_rows)
