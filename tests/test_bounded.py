"""Work in a bounded child: memory, processor time and wall clock (core.bounded, issue 12)."""

from __future__ import annotations

import os
import time

import pytest

from core.bounded import BoundExceeded, run_bounded
from core.pdfcheck import PdfProblem


def _grow():
    hog = []
    while True:
        hog.append(bytearray(16 * 1024 * 1024))


def _spin():
    while True:
        pass


def _sleep():
    time.sleep(60)


def _refuse():
    raise PdfProblem("too_deep", "deep", limit=64)


def _crash():
    os.abort()


def _pid():
    return os.getpid()


def test_the_result_comes_back_from_a_child():
    assert run_bounded(_pid) != os.getpid()
    assert run_bounded(sum, [1, 2, 3]) == 6


def test_an_exception_in_the_child_is_raised_here_with_its_details():
    with pytest.raises(PdfProblem) as problem:
        run_bounded(_refuse)
    assert problem.value.code == "too_deep" and problem.value.params == {"limit": 64}


def test_a_child_that_eats_memory_is_stopped_at_its_bound_and_the_parent_lives():
    started = time.monotonic()
    with pytest.raises(BoundExceeded) as exceeded:
        run_bounded(_grow, memory_mb=200, wall_seconds=30)
    assert exceeded.value.kind == "memory"
    assert time.monotonic() - started < 30


def test_a_child_that_spins_is_stopped_by_its_cpu_bound():
    with pytest.raises(BoundExceeded) as exceeded:
        run_bounded(_spin, cpu_seconds=1, wall_seconds=30)
    assert exceeded.value.kind == "time"


def test_a_child_that_hangs_is_killed_at_the_wall_clock_bound():
    started = time.monotonic()
    with pytest.raises(BoundExceeded) as exceeded:
        run_bounded(_sleep, wall_seconds=0.5)
    assert exceeded.value.kind == "time" and time.monotonic() - started < 5


def test_a_child_that_crashes_is_reported():
    with pytest.raises(BoundExceeded) as exceeded:
        run_bounded(_crash)
    assert exceeded.value.kind == "crashed"


def test_a_parent_interrupted_while_waiting_takes_its_child_along():
    import signal

    def interrupt(_signum, _frame):
        raise TimeoutError("job timeout")  # as RQ's death penalty interrupts a job

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            run_bounded(_sleep, wall_seconds=60)
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 5  # did not wait for the child to finish its minute


def test_work_inside_a_bounded_child_runs_there_not_in_a_grandchild():
    assert run_bounded(_nested_pid) == 0


def _nested_pid():
    return run_bounded(os.getpid) - os.getpid()


# --- the reused child (the sealing job's: one per thread, fed call after call) ---------------------

def _burn(seconds: float) -> int:
    used = time.process_time()
    while time.process_time() - used < seconds:
        pass
    return os.getpid()


def _echo(value, kept) -> tuple:
    return os.getpid(), value, kept, id(kept)


def _child_pid() -> int:
    from core import bounded

    return bounded._local.child.pid


@pytest.fixture
def reused():
    from core.bounded import close_reused, run_reused

    close_reused()
    yield run_reused
    close_reused()


def test_a_reused_child_answers_call_after_call_and_keeps_what_it_was_sent_once(reused):
    from core.bounded import Kept

    first = reused(_echo, 1, Kept("setup-1", {"key": "one"}))
    second = reused(_echo, 2, Kept("setup-1", {"key": "one"}))
    assert first[0] == second[0] != os.getpid()  # one child, not this process
    assert (first[1:3], second[1:3]) == ((1, {"key": "one"}), (2, {"key": "one"}))
    assert first[3] == second[3]  # the same object in the child: sent once, kept
    rotated = reused(_echo, 3, Kept("setup-2", {"key": "two"}))
    assert rotated[0] == first[0] and rotated[2] == {"key": "two"}  # a new key: the new value


def test_the_cpu_bound_of_a_reused_child_counts_each_call_alone(reused):
    pids = {reused(_burn, 0.5, cpu_seconds=1) for _ in range(5)}  # 2.5 s in all, each within its 1 s
    assert len(pids) == 1
    with pytest.raises(BoundExceeded) as exceeded:
        reused(_spin, cpu_seconds=1, wall_seconds=30)
    assert exceeded.value.kind == "time"
    assert reused(_pid) not in pids | {os.getpid()}  # a fresh child for the next call


def test_a_connection_this_process_closes_ends_although_a_reused_child_was_forked_while_it_was_open(reused):
    """A web process closing a client's connection (or Redis's) must end it for the other side, not
    leave it open for as long as the sealing child lives."""
    import socket

    ours, theirs = socket.socketpair()
    try:
        reused(_pid)  # forked while the connection is open
        ours.close()
        theirs.settimeout(5)
        assert theirs.recv(10) == b""  # end of file, now; not a timeout
    finally:
        theirs.close()


def test_a_reused_child_over_its_memory_bound_fails_that_call_alone(reused):
    before = reused(_pid, memory_mb=200)
    with pytest.raises(BoundExceeded) as exceeded:
        reused(_grow, memory_mb=200, wall_seconds=30)
    assert exceeded.value.kind == "memory"
    after = reused(_pid, memory_mb=200)
    assert after != before  # the child that ran out of memory was ended after answering


def test_a_reused_child_that_hangs_or_is_killed_is_replaced(reused):
    import threading

    first = reused(_pid)
    with pytest.raises(BoundExceeded) as exceeded:
        reused(_sleep, wall_seconds=0.5)
    assert exceeded.value.kind == "time"
    second = reused(_pid)
    assert second != first
    killer = threading.Timer(0.3, os.kill, (second, 9))
    killer.start()
    with pytest.raises(BoundExceeded) as exceeded:
        reused(_sleep, wall_seconds=30)
    killer.join()
    assert exceeded.value.kind == "crashed"
    assert reused(sum, [1, 2]) == 3 and reused(_pid) not in (first, second)


def test_an_exception_in_a_reused_child_comes_back_and_the_child_stays(reused):
    pid = reused(_pid)
    with pytest.raises(PdfProblem) as problem:
        reused(_refuse)
    assert problem.value.code == "too_deep"
    assert reused(_pid) == pid


def test_a_parent_interrupted_while_waiting_ends_its_reused_child(reused):
    import signal

    pid = reused(_pid)

    def interrupt(_signum, _frame):
        raise TimeoutError("job timeout")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    try:
        with pytest.raises(TimeoutError):
            reused(_sleep, wall_seconds=60)
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert not os.path.exists(f"/proc/{pid}")  # killed and reaped
    assert reused(_pid) != pid


def test_each_thread_has_its_own_reused_child(reused):
    import threading

    results = {}

    def work(number):
        results[number] = [reused(_echo, (number, n), None)[:2] for n in range(5)]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for number, answers in results.items():
        assert [value for _pid, value in answers] == [(number, n) for n in range(5)]
        assert len({pid for pid, _value in answers}) == 1
    assert results[0][0][0] != results[1][0][0]


def test_a_forked_process_makes_its_own_reused_child_and_leaves_the_parents_alone(reused):
    parent_child = reused(_pid)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover  (as an RQ work-horse or a gunicorn worker would)
        code = 1
        try:
            os.close(read_end)
            os.write(write_end, str(reused(_pid)).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as answer:
        forked_child = int(answer.read() or 0)
    assert os.waitpid(pid, 0)[1] == 0
    assert forked_child not in (0, parent_child, pid)
    assert reused(_pid) == parent_child  # ours was neither used nor ended by the forked process


def _gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":  # dead, waiting for init to reap it
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("how", ["exits", "is killed"])
def test_the_reused_child_ends_with_its_parent(how):
    import signal
    import subprocess
    import sys

    script = ("import os, sys, time\n"
              "from core.bounded import run_reused\n"
              "print(run_reused(os.getpid), flush=True)\n"
              "sys.stdin.readline()\n")  # then exit
    parent = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        child = int(parent.stdout.readline())
        assert not _gone(child, 0.2)
        if how == "is killed":
            parent.send_signal(signal.SIGKILL)
        else:
            parent.stdin.write("exit\n")
            parent.stdin.flush()
        parent.wait(timeout=30)
        assert _gone(child)
    finally:
        if parent.poll() is None:
            parent.kill()
        parent.stdout.close()
        parent.stdin.close()
