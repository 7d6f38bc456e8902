"""One job protocol for threads and child processes (core.jobs): progress, the result,
typed errors, cancel and a child that dies, through run_in_process in real children."""

from __future__ import annotations

import os
import time

import pytest

from e5desk.core.errors import Cancelled, DataError, E5DeskError
from e5desk.core.process_job import Child, ChildProcess, run_in_process


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


def polite(conn, cancel, steps: int) -> None:
    """Reports an event per step, stops on its cancel event and says so (a trainer's way)."""
    for step in range(steps):
        if cancel.is_set():
            conn.send(("cancelled", f"stopped after {step} steps"))
            return
        conn.send(("event", "loss", step, 1.0 / (step + 1)))
        time.sleep(0.02)
    conn.send(("result", steps))


def deaf(conn, cancel) -> None:
    """Never looks at its cancel event."""
    time.sleep(60)


def test_child_relays_events_and_stops_by_itself_on_cancel():
    losses = []
    child = Child(polite, 5)
    assert child.wait(events={"loss": lambda s, loss: losses.append(s)}) == 5
    assert losses == [0, 1, 2, 3, 4] and not child.stop(wait_s=5)
    child.close()
    child = Child(polite, 10_000)
    with pytest.raises(Cancelled, match=r"stopped after \d+ steps"):
        child.wait(cancelled=lambda: True, grace_s=30)
    assert not child.stop(wait_s=5)  # it exited by itself: nothing to clean up for it
    child.close()


def test_child_that_ignores_cancel_is_stopped_after_its_grace():
    child = Child(deaf)
    start = time.monotonic()
    with pytest.raises(Cancelled, match="gave up"):
        child.wait(cancelled=lambda: True, grace_s=0.5, cancel_message="gave up")
    assert 0.5 <= time.monotonic() - start < 20
    assert child.stop(wait_s=0.1) and not child.process.is_alive()
    child.close()
