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
