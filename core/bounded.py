"""Run work on an untrusted PDF in a child process with a hard memory, CPU and wall-clock bound.

A hostile or broken PDF can make a PDF library loop, recurse or allocate without end. The parser
runs in a forked child: `RLIMIT_AS` caps its memory (on top of what the parent already had mapped),
`RLIMIT_CPU` its processor time, and the parent kills it after a wall-clock timeout. When the
child goes over a bound only the child dies; the caller gets `BoundExceeded` naming which bound,
and the web process or worker carries on. The child returns its result (or the exception it
raised) pickled through a pipe; it never touches the database, Redis or sockets it inherited, and
leaves with `os._exit`, so nothing of the parent's is flushed or closed twice.

`run_reused` keeps one such child per thread and feeds it call after call, each inside the same
bounds (see the section below): for work whose input already passed a bounded check, where the
fork per call would cost more than the work (the sealing job's documents).

Where `fork` is not available (or `BOUNDED_INLINE` is set, for debugging) the work runs inline,
without bounds.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import os
import pickle
import select
import signal
import struct
import threading
import time
import weakref
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


def _statm(field: int) -> int:
    """Bytes of /proc/self/statm's `field` (0: mapped, 1: resident), 0 where there is none."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[field]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _address_space() -> int:
    """Bytes of virtual memory mapped now (the child's limit is this plus its budget)."""
    return _statm(0)


def _resident() -> int:
    return _statm(1)


def _limit_memory(memory_mb: int) -> None:
    """In a child: what is mapped now plus `memory_mb` (where the limit cannot be set, not Linux,
    the wall clock still bounds the child)."""
    import resource

    try:
        if memory_mb and _address_space():
            limit = _address_space() + memory_mb * _MB
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):
        pass


def _pickled(outcome: tuple, extra: tuple = (), memory_extra: tuple = ()) -> bytes:
    """The child's answer: `outcome` and `extra`; "memory" (with `memory_extra`) if even that ran
    out of memory, and an exception that cannot be pickled as its text."""
    try:
        return pickle.dumps((*outcome, *extra), protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        return pickle.dumps(("memory", None, *memory_extra))
    except Exception:  # noqa: BLE001  (an exception that cannot be pickled)
        error = outcome[1]
        return pickle.dumps(("error", _ChildError(f"{type(error).__name__}: {error}"[:2000]), *extra))


def _child(func, args, kwargs, memory_mb: int, cpu_seconds: int, out: int) -> None:
    import resource
    import sys

    global _IN_CHILD
    _IN_CHILD = True
    faulthandler.disable()  # a child stopped at its bound aborts by design: no stack dump on the shared stderr
    os.setpgid(0, 0)  # if the parent kills us, it kills our whole group
    code = 0
    try:
        _limit_memory(memory_mb)
        try:
            if cpu_seconds:
                resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
        except (ValueError, OSError):
            pass
        sys.setrecursionlimit(1000)  # deep structures fail fast as RecursionError, never a C stack overflow
        try:
            outcome = ("ok", func(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001  (handed to the parent to re-raise)
            outcome = ("memory", None) if memory_mb and _out_of_memory(exc) else ("error", exc)
        view = memoryview(_pickled(outcome))
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
    args, kwargs = _unwrap(args, kwargs)
    if _IN_CHILD or _inline_only():
        return func(*args, **kwargs)
    from core.pdfium import LOCK

    # Under the lock: nobody is inside pdfium (not thread-safe, global state) at the moment we
    # fork, and no other fork (a reused child above all, which lives long) takes a copy of this
    # pipe's write end, which would keep us waiting for an end of file until the wall clock.
    with LOCK:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid:
            os.close(write_end)
    if pid == 0:  # pragma: no cover  (the child; coverage does not follow it)
        os.close(read_end)
        _child(func, args, kwargs, memory_mb, cpu_seconds, write_end)
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


# --- a bounded child reused across calls ----------------------------------------------------------
#
# Forking a child per call costs the fork, its copy-on-write faults and its exit: ~25-30 ms of CPU
# for a warm worker, most of a ~40 ms seal. Work whose input already passed a bounded check (a
# stored document being sealed) can run in a child that stays: it is forked once, then fed calls
# over a pipe. Its bounds are those of `run_bounded`, per call: `RLIMIT_AS` (fixed at the child's
# start: what it had mapped plus `memory_mb`), `cpu_seconds` counted from each call's start (an
# `ITIMER_PROF`, and `RLIMIT_CPU`'s soft limit moved at each call to the CPU the child used so far
# plus `cpu_seconds` and a second, see `_limit_cpu`), and the wall clock, kept by the parent. A
# child that went over a bound, died, or was interrupted is killed and replaced at the next call;
# one that ran out of memory, ran `max_tasks` calls, or grew by more than `max_growth_mb` (or its
# address space by a quarter of its budget, which would leave less for the next call) is ended
# after answering, so that one big document does not keep its memory.

_HEADER = struct.Struct("!Q")
_children: weakref.WeakSet = weakref.WeakSet()  # this process's reused children (to drop in a fork)


class Kept:
    """An argument the reused child keeps between calls: sent to a child once, then named by `key`.

    `key` must change whenever the value does (derive it from the content): the child drops a kept
    value as soon as a call names another key instead. Outside a reused child, the value is passed
    as it is.
    """

    __slots__ = ("key", "value")

    def __init__(self, key: str, value):
        self.key, self.value = key, value


class _KeptRef:
    __slots__ = ("key",)

    def __init__(self, key: str):
        self.key = key

    def __reduce__(self):
        return _KeptRef, (self.key,)


def _unwrap(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    if not any(isinstance(v, Kept) for v in (*args, *kwargs.values())):
        return args, kwargs
    return (tuple(v.value if isinstance(v, Kept) else v for v in args),
            {k: v.value if isinstance(v, Kept) else v for k, v in kwargs.items()})


class _TimedOut(Exception):
    pass


class _Gone(Exception):
    pass


class ReusedChild:
    """One long-lived bounded child of this process. Not thread-safe: one per thread (see
    `run_reused`). A process forked from this one (an RQ work-horse, a gunicorn worker) does not
    use or keep it: it makes its own."""

    def __init__(self, memory_mb: int, max_tasks: int = 200, max_growth_mb: int = 256):
        self.memory_mb, self.max_tasks, self.max_growth_mb = memory_mb, max_tasks, max_growth_mb
        self.owner = os.getpid()
        self.pid = 0
        self.tasks = 0
        self.known: frozenset = frozenset()
        self._to = self._from = -1
        _children.add(self)

    def call(self, func: Callable[..., T], *args, cpu_seconds: int = 60, wall_seconds: float = 90, **kwargs) -> T:
        if self.owner != os.getpid():  # a copy inherited through a fork: the child is not ours
            self._forget()
            self.owner = os.getpid()
        if not self.pid:
            self._start()
        message = self._pack(func, args, kwargs, cpu_seconds)
        deadline = time.monotonic() + wall_seconds
        try:
            self._send(message, deadline)
            status_, value, held, rss_growth, as_growth = self._receive(deadline)
        except BaseException as exc:  # out of time, the child died, or we were interrupted (a job timeout)
            status = self._stop(gone=isinstance(exc, _Gone))
            if isinstance(exc, _TimedOut):
                raise BoundExceeded("time", f"no result after {wall_seconds:g} s") from None
            if isinstance(exc, _Gone):
                raise _death(status, cpu_seconds) from None
            raise
        self.tasks += 1
        self.known = held
        if (status_ == "memory" or self.tasks >= self.max_tasks or rss_growth > self.max_growth_mb
                or (self.memory_mb and as_growth > self.memory_mb / 4)):
            self._stop()  # the next call gets a fresh child
        if status_ == "ok":
            return value
        if status_ == "memory":
            raise BoundExceeded("memory", f"over {self.memory_mb} MB")
        raise value

    def close(self) -> None:
        """End the child (if this process has one)."""
        if self.owner == os.getpid():
            self._stop()
        else:
            self._forget()

    def __del__(self) -> None:  # the thread that used it ended
        with contextlib.suppress(Exception):  # at interpreter exit, anything may be gone
            self.close()

    def _start(self) -> None:
        from core.pdfium import LOCK

        parent = os.getpid()
        with LOCK:  # as in run_bounded: nobody in pdfium, and no other fork copies these pipes
            tasks_read, tasks_write = os.pipe()
            answers_read, answers_write = os.pipe()
            pid = os.fork()
            if pid:
                os.close(tasks_read)
                os.close(answers_write)
        if pid == 0:  # pragma: no cover  (the child)
            os.close(tasks_write)
            os.close(answers_read)
            _serve(tasks_read, answers_write, self.memory_mb, parent)
        os.set_blocking(tasks_write, False)
        self.pid, self._to, self._from, self.tasks, self.known = pid, tasks_write, answers_read, 0, frozenset()

    def _pack(self, func, args, kwargs, cpu_seconds) -> bytes:
        new = {}

        def swap(value):
            if not isinstance(value, Kept):
                return value
            if value.key not in self.known:
                new[value.key] = value.value
            return _KeptRef(value.key)

        args = tuple(swap(v) for v in args)
        kwargs = {k: swap(v) for k, v in kwargs.items()}
        return pickle.dumps((func, args, kwargs, cpu_seconds, new), protocol=pickle.HIGHEST_PROTOCOL)

    def _send(self, message: bytes, deadline: float) -> None:
        view = memoryview(_HEADER.pack(len(message)) + message)
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _TimedOut
            _r, ready, _x = select.select([], [self._to], [], left)
            if not ready:
                continue
            try:
                view = view[os.write(self._to, view):]
            except BlockingIOError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                raise _Gone from None

    def _receive(self, deadline: float):
        header = self._read(_HEADER.size, deadline)
        body = self._read(_HEADER.unpack(header)[0], deadline)
        try:
            return pickle.loads(body)  # noqa: S301  (our own forked child, see run_bounded)
        except Exception as exc:  # noqa: BLE001  (an exception class that does not unpickle)
            return "error", _ChildError(f"the child's answer could not be read: {exc}"), self.known, 0, 0

    def _read(self, size: int, deadline: float) -> bytes:
        chunks, missing = [], size
        while missing:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _TimedOut
            ready, _w, _x = select.select([self._from], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._from, min(missing, 1 << 20))
            if not chunk:
                raise _Gone
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    def _stop(self, gone: bool = False) -> int:
        """Kill the child (it is idle, over a bound, or dead already) and reap it: its wait status."""
        pid, self.pid = self.pid, 0
        self._close_pipes()
        if not pid:
            return 0
        if gone:  # it closed its pipe: it is exiting; let it say how
            for _ in range(100):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    return status
                time.sleep(0.01)
        _kill(pid)
        return os.waitpid(pid, 0)[1]

    def _forget(self) -> None:
        """In a forked process: the pipes are copies, the child is the parent's; let both be."""
        self.pid = 0
        self._close_pipes()

    def _close_pipes(self) -> None:
        for fd in (self._to, self._from):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._to = self._from = -1
        self.known = frozenset()


def _death(status: int, cpu_seconds: int) -> BoundExceeded:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig in (signal.SIGPROF, signal.SIGXCPU):
            return BoundExceeded("time", f"over {cpu_seconds} s of processor time")
        return BoundExceeded("crashed", f"killed by signal {signal.Signals(sig).name}")
    return BoundExceeded("crashed", f"exit status {os.waitstatus_to_exitcode(status)} without a result")


def _drop_inherited_children() -> None:
    """In any forked process: close the pipes to the parent's reused children. Otherwise a child of
    one thread would hold the pipe of another's, which then never sees an end of file when the
    parent dies, and a forked worker would hold children that are not its own."""
    for child in list(_children):
        child._forget()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_inherited_children)


def _serve(tasks: int, answers: int, memory_mb: int, parent: int) -> None:  # pragma: no cover  (the child)
    """The reused child: run calls read from `tasks` until the parent goes, within the bounds."""
    import gc
    import sys

    global _IN_CHILD
    _IN_CHILD = True
    faulthandler.disable()
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a terminal's ^C or a stop goes to the parent; we die at once
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGPROF, signal.SIG_DFL)  # the CPU bound (see _limit_cpu) ends us, whatever a profiler set
    code = 0
    try:
        _die_with_parent(parent)
        _release_inherited_sockets(keep={tasks, answers})
        gc.freeze()  # what we inherited is never collected here (nor its pages copied by the collector)
        _limit_memory(memory_mb)
        sys.setrecursionlimit(1000)
        start_rss, start_as = _resident(), _address_space()
        kept: dict = {}
        while True:
            message = _read_message(tasks)
            if message is None:  # the parent closed the pipe or died
                break
            outcome, kept = _run_task(message, kept, memory_mb)
            del message
            growth = ((_resident() - start_rss) / _MB, (_address_space() - start_as) / _MB)
            payload = _pickled(outcome, (frozenset(kept), *growth), (frozenset(), 0, 0))
            del outcome
            view = memoryview(_HEADER.pack(len(payload)) + payload)
            while view:
                view = view[os.write(answers, view):]
            del payload, view
            gc.collect()  # the call's garbage goes now, not in the next call's time
    except BaseException:  # noqa: BLE001
        code = 70
    finally:
        os._exit(code)


def _run_task(message: bytes, kept: dict, memory_mb: int) -> tuple[tuple, dict]:  # pragma: no cover
    try:
        func, args, kwargs, cpu_seconds, new = pickle.loads(message)  # noqa: S301  (from our parent)
        named = [v.key for v in (*args, *kwargs.values()) if isinstance(v, _KeptRef)]
        kept = {key: new[key] if key in new else kept[key] for key in named}  # another key: the old value goes

        def resolve(value):
            return kept[value.key] if isinstance(value, _KeptRef) else value

        args = tuple(resolve(v) for v in args)
        kwargs = {k: resolve(v) for k, v in kwargs.items()}
        _limit_cpu(cpu_seconds)
        return ("ok", func(*args, **kwargs)), kept
    except BaseException as exc:  # noqa: BLE001  (handed to the parent to re-raise)
        return (("memory", None) if memory_mb and _out_of_memory(exc) else ("error", exc)), kept
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)  # answering and waiting for the next call are not the call's


def _limit_cpu(seconds: int) -> None:  # pragma: no cover  (the child)
    """This call may use `seconds` of processor time more than the child used so far.

    `ITIMER_PROF` counts them on the kernel's own clock, from now (SIGPROF). Behind it,
    `RLIMIT_CPU`'s soft limit is moved to the CPU used so far, as getrusage tells it, plus `seconds`
    and a second (SIGXCPU): the kernel checks that limit against its tick-sampled clock, which a
    busy machine can put a fraction ahead of getrusage's figure, so a limit set from getrusage alone
    stopped a call early (0.8 s of a 1 s budget after 1.6 s used, at load average 10).
    """
    import math
    import resource

    signal.setitimer(signal.ITIMER_PROF, seconds or 0)
    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if not seconds:
            resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
            return
        usage = resource.getrusage(resource.RUSAGE_SELF)
        soft = math.ceil(usage.ru_utime + usage.ru_stime) + seconds + 1
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ValueError, OSError):
        pass


def _read_message(fd: int) -> bytes | None:  # pragma: no cover  (the child)
    header = _read_exactly(fd, _HEADER.size)
    if header is None:
        return None
    return _read_exactly(fd, _HEADER.unpack(header)[0])


def _read_exactly(fd: int, size: int) -> bytes | None:  # pragma: no cover  (the child)
    chunks, missing = [], size
    while missing:
        chunk = os.read(fd, min(missing, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def _release_inherited_sockets(keep: set[int]) -> None:  # pragma: no cover  (the child)
    """Let go of the sockets inherited from the parent (its clients' connections, the database,
    Redis), but for stdin/stdout/stderr: a long-lived copy here would keep each connection open
    after the parent closed it (no FIN for a web client, a Redis connection the server keeps), and
    nothing here may write to them. Each is replaced by /dev/null rather than closed, so its number
    stays taken: an inherited object that closes "its" descriptor later closes that, never a socket
    opened here (a timestamp or OCSP request)."""
    import stat

    null = os.open(os.devnull, os.O_RDWR)
    try:
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd <= 2 or fd == null or fd in keep:
                continue
            try:
                if stat.S_ISSOCK(os.fstat(fd).st_mode):
                    os.dup2(null, fd, inheritable=False)
            except OSError:  # the listing's own descriptor, gone by now
                continue
    except OSError:  # no /proc: the sockets stay, as in a child per call
        pass
    finally:
        os.close(null)


def _die_with_parent(parent: int) -> None:  # pragma: no cover  (the child)
    """SIGKILL when the thread that forked us ends (Linux), and leave now if the parent is gone."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(0)


_local = threading.local()


def run_reused(func: Callable[..., T], *args, memory_mb: int = 1024, cpu_seconds: int = 60,
               wall_seconds: float = 90, max_tasks: int = 200, max_growth_mb: int = 256, **kwargs) -> T:
    """`func(*args, **kwargs)` in this thread's reused bounded child (made on first use, after
    whatever the caller warmed), with the bounds of `run_bounded`; `Kept` arguments are sent to a
    child once. For input that already passed a bounded check: the child outlives the call."""
    if _IN_CHILD or _inline_only():
        args, kwargs = _unwrap(args, kwargs)
        return func(*args, **kwargs)
    child = getattr(_local, "child", None)
    if child is None or child.memory_mb != memory_mb:
        if child is not None:
            child.close()
        child = _local.child = ReusedChild(memory_mb)
    child.max_tasks, child.max_growth_mb = max_tasks, max_growth_mb
    return child.call(func, *args, cpu_seconds=cpu_seconds, wall_seconds=wall_seconds, **kwargs)


def close_reused() -> None:
    """End this thread's reused child, if any (tests, benchmarks: its CPU then counts as a child's)."""
    child = getattr(_local, "child", None)
    if child is not None:
        child.close()
