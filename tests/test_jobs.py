"""One job protocol for threads and child processes (core.jobs): progress, the result,
typed errors, cancel and a child that dies, through run_in_process in real children."""

from __future__ import annotations

import os
import time

import pytest

from e5desk.core.errors import Cancelled, DataError, E5DeskError
from e5desk.core.process_job import ChildProcess, run_in_process


def count_to(n: int, progress) -> int:
    for i in range(1, n + 1):
        progress(i, n)
    return n * 10


def bad_line(progress) -> None:
    raise DataError("lines.txt, line 3: expected text, found nothing")


def crash(progress) -> None:
    raise ZeroDivisionError("division by zero")


def die(progress) -> None:
    os._exit(3)


def sleep_long(progress) -> None:
    time.sleep(60)


def test_progress_and_result_come_back():
    seen = []
    assert run_in_process(count_to, 4, progress=lambda d, t: seen.append((d, t))) == 40
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_child_errors_keep_their_type_and_message():
    with pytest.raises(DataError, match="lines.txt, line 3"):
        run_in_process(bad_line)
    with pytest.raises(E5DeskError, match="ZeroDivisionError: division by zero"):
        run_in_process(crash)
    with pytest.raises(E5DeskError, match="stopped unexpectedly"):
        run_in_process(die)


def test_cancel_stops_the_child_at_once():
    start = time.monotonic()
    deadline = start + 1.0
    with pytest.raises(Cancelled):
        run_in_process(sleep_long, cancelled=lambda: time.monotonic() > deadline)
    assert time.monotonic() - start < 20  # not the child's 60 s


def imported(names, progress) -> list[bool]:
    import sys

    return [name in sys.modules for name in names]


def test_child_imports_its_preload_before_the_job_arrives():
    with ChildProcess(preload=("colorsys", "no_such_module_here", "wave")) as child:
        time.sleep(0.2)  # the caller prepares the job meanwhile
        # a missing module stops the preload (the job's own import would report it)
        assert child.run(imported, ["colorsys", "wave"]) == [True, False]
    with ChildProcess() as child:  # without the preload, nothing imports them
        assert child.run(imported, ["colorsys", "wave"]) == [False, False]


def test_cancel_does_not_wait_for_the_childs_preload():
    """A large input waits in the pipe while the child imports its preload (here 30 s);
    cancel stops the child at once all the same."""
    big = b"x" * 50_000_000
    start = time.monotonic()
    with pytest.raises(Cancelled), ChildProcess(preload=("slow_import_for_jobs",)) as child:
        child.run(len_of, big, cancelled=lambda: time.monotonic() - start > 1.0)
    assert time.monotonic() - start < 15  # not the preload's 30 s


def len_of(data, progress) -> int:
    return len(data)


def test_a_job_that_cannot_reach_the_child_fails_here():
    with ChildProcess() as child, pytest.raises(Exception, match="pickle|lambda"):
        child.run(lambda progress: 1)
