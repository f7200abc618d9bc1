"""Run work on an untrusted PDF in a child process with a hard memory, CPU and wall-clock bound.

A hostile or broken PDF can make a PDF library loop, recurse or allocate without end. The parser
runs in a forked child: `RLIMIT_AS` caps its memory (on top of what the parent already had mapped),
`RLIMIT_CPU` its processor time, and the parent kills it after a wall-clock timeout. When the
child goes over a bound only the child dies; the caller gets `BoundExceeded` naming which bound,
and the web process or worker carries on. The child returns its result (or the exception it
raised) pickled through a pipe; it never touches the database, Redis or sockets it inherited, and
leaves with `os._exit`, so nothing of the parent's is flushed or closed twice.

Where `fork` is not available (or `BOUNDED_INLINE` is set, for debugging) the work runs inline,
without bounds.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import pickle
import select
import signal
import time
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

_IN_CHILD = False  # set in a bounded child: work it calls runs inline, inside the child's bounds

_MB = 1024 * 1024


class BoundExceeded(RuntimeError):
    """The child went over a bound: `kind` is "memory", "time" or "crashed"."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(f"PDF work went over its {kind} bound{': ' + detail if detail else ''}")
        self.kind = kind
        self.detail = detail


class _ChildError(RuntimeError):
    """An exception from the child that could not be pickled, as text."""


def _address_space() -> int:
    """Bytes of virtual memory mapped now (the child's limit is this plus its budget)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _child(func, args, kwargs, memory_mb: int, cpu_seconds: int, out: int) -> None:
    import resource
    import sys

    global _IN_CHILD
    _IN_CHILD = True
    faulthandler.disable()  # a child stopped at its bound aborts by design: no stack dump on the shared stderr
    os.setpgid(0, 0)  # if the parent kills us, it kills our whole group
    code = 0
    try:
        try:  # where a limit cannot be set (not Linux), the wall clock still bounds the child
            if memory_mb and _address_space():
                limit = _address_space() + memory_mb * _MB
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            if cpu_seconds:
                resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
        except (ValueError, OSError):
            pass
        sys.setrecursionlimit(1000)  # deep structures fail fast as RecursionError, never a C stack overflow
        try:
            outcome = ("ok", func(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001  (handed to the parent to re-raise)
            outcome = ("memory", None) if memory_mb and _out_of_memory(exc) else ("error", exc)
        try:
            payload = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            payload = pickle.dumps(("memory", None))
        except Exception:  # noqa: BLE001  (an exception that cannot be pickled)
            error = outcome[1]
            payload = pickle.dumps(("error", _ChildError(f"{type(error).__name__}: {error}"[:2000])))
        view = memoryview(payload)
        while view:
            view = view[os.write(out, view):]
    except BaseException:  # noqa: BLE001
        code = 70
    finally:
        os._exit(code)


def _out_of_memory(exc: BaseException | None) -> bool:
    """A MemoryError anywhere in the chain, or the SystemError a C extension gives when an
    allocation failed under the limit ("error return without exception set")."""
    for _ in range(10):
        if exc is None:
            return False
        if isinstance(exc, MemoryError) or (isinstance(exc, SystemError) and "without exception" in str(exc)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _inline_only() -> bool:
    if not hasattr(os, "fork"):
        return True
    try:
        from flask import current_app

        return bool(current_app.config.get("BOUNDED_INLINE"))
    except RuntimeError:  # no app
        return False


def run_bounded(func: Callable[..., T], *args, memory_mb: int = 1024, cpu_seconds: int = 60,
                wall_seconds: float = 90, **kwargs) -> T:
    """`func(*args, **kwargs)` in a child with the given bounds; its result, or its exception re-raised.

    Raises `BoundExceeded` when the child ran out of memory or time or died. `func`, its arguments
    and result stay plain Python (the result and any exception are pickled).
    """
    if _IN_CHILD or _inline_only():
        return func(*args, **kwargs)
    from core.pdfium import LOCK

    read_end, write_end = os.pipe()
    with LOCK:  # nobody is inside pdfium (not thread-safe, global state) at the moment we fork
        pid = os.fork()
    if pid == 0:  # pragma: no cover  (the child; coverage does not follow it)
        os.close(read_end)
        _child(func, args, kwargs, memory_mb, cpu_seconds, write_end)
    os.close(write_end)
    started = time.monotonic()
    chunks: list[bytes] = []
    timed_out = finished = False
    try:
        while True:
            left = wall_seconds - (time.monotonic() - started)
            if left <= 0:
                timed_out = True
                break
            ready, _w, _x = select.select([read_end], [], [], left)
            if not ready:
                continue
            chunk = os.read(read_end, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        finished = not timed_out
    finally:
        # Out of time, or interrupted here (a job timeout, a signal): the child goes too, now.
        os.close(read_end)
        if not finished:
            _kill(pid)
        _pid, status = os.waitpid(pid, 0)
    if timed_out:
        raise BoundExceeded("time", f"no result after {wall_seconds:g} s")
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig in (signal.SIGXCPU, signal.SIGKILL):
            raise BoundExceeded("time", f"over {cpu_seconds} s of processor time")
        raise BoundExceeded("crashed", f"killed by signal {signal.Signals(sig).name}")
    if not chunks:
        raise BoundExceeded("crashed", f"exit status {os.WEXITSTATUS(status)} without a result")
    try:
        # Our own forked child: it runs as this user with a copy of this memory, so what it sends
        # gives it nothing it did not already have.
        status_, value = pickle.loads(b"".join(chunks))  # noqa: S301
    except Exception as exc:  # noqa: BLE001  (an exception class that does not unpickle)
        raise _ChildError(f"the child's answer could not be read: {exc}") from None
    if status_ == "ok":
        return value
    if status_ == "memory":
        raise BoundExceeded("memory", f"over {memory_mb} MB")
    raise value


def config_bounds(prefix: str, defaults: tuple[int, int, int]) -> dict:
    """`memory_mb`, `cpu_seconds`, `wall_seconds` from the app's `<prefix>_MEMORY_MB` ... settings
    (core/config.py), or `defaults` outside an app."""
    try:
        from flask import current_app

        config = current_app.config
        return {"memory_mb": int(config.get(f"{prefix}_MEMORY_MB", defaults[0])),
                "cpu_seconds": int(config.get(f"{prefix}_CPU_SECONDS", defaults[1])),
                "wall_seconds": float(config.get(f"{prefix}_WALL_SECONDS", defaults[2]))}
    except RuntimeError:  # no app
        return {"memory_mb": defaults[0], "cpu_seconds": defaults[1], "wall_seconds": defaults[2]}


def bounded_call(prefix: str, defaults: tuple[int, int, int], on_exceeded: Callable):
    """Decorate a function on untrusted PDF bytes to run in a bounded child (bounds from the
    `<prefix>_MEMORY_MB` ... settings); over a bound it returns `on_exceeded(exceeded, *args)`."""
    import functools

    def decorate(func):
        @functools.wraps(func)
        def bounded(*args, **kwargs):
            try:
                return run_bounded(func, *args, **config_bounds(prefix, defaults), **kwargs)
            except BoundExceeded as exceeded:
                log.warning("%s went over its bound: %s", func.__qualname__, exceeded)
                return on_exceeded(exceeded, *args, **kwargs)

        bounded.unbounded = func
        return bounded

    return decorate


def _kill(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
            return
        except (ProcessLookupError, PermissionError):
            continue
