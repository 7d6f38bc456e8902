"""How many intra-op threads each of the server's forward passes gets: one, or all of the
encoder's, whichever has been faster lately for batches of that size.

Split over threads, every operation of a forward pass waits for the slowest thread. On a
quiet machine two threads make 8 short texts 1.6x faster; once other processes hold the
cores (or the server's own event loop does), the thread that lost its core stalls every
operation: on 2 shared cores with two busy processes beside it, 8 texts took 186 ms on one
thread and 623 ms on two, while 32 texts still took 428 ms and 254 ms. The better choice
changes with the load, so it is measured (seconds per character, per size class) rather
than fixed, and the other choice is tried again every few seconds (at most one batch in
ten).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable


def size_class(chars: int) -> int:
    """0: under 256 characters, 1: under 512, 2: under 1,024, ... 6: 8,192 and more."""
    return min(6, (max(0, chars) // 256).bit_length())


class ThreadChoice:
    """``pick(chars)`` before a batch, ``record(chars, threads, seconds)`` after it.

    The choice that lost is measured again once ``retry_s`` has passed and at least
    ``retry_batches`` batches of that size ran since, so trying it costs at most one
    batch in that many. Batches from 2,048 characters start on all threads (they gained
    from threads in every measurement), smaller ones on one.
    """

    def __init__(self, full: int, retry_s: float = 5.0, retry_batches: int = 10,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.full = max(1, full)
        self.retry_s, self.retry_batches = retry_s, retry_batches
        self.clock = clock
        # (size class, threads) -> (seconds per character, averaged; when last measured;
        # the class's batch count then)
        self.cost: dict[tuple[int, int], tuple[float, float, int]] = {}
        self.batches: dict[int, int] = {}  # size class -> batches picked for

    def pick(self, chars: int) -> int:
        if self.full == 1:
            return 1
        c = size_class(chars)
        self.batches[c] = seen = self.batches.get(c, 0) + 1
        first, second = (self.full, 1) if c >= 4 else (1, self.full)
        if (c, first) not in self.cost:
            return first
        if (c, second) not in self.cost:
            return second
        one, full = self.cost[(c, 1)], self.cost[(c, self.full)]
        best, other = (1, full) if one[0] <= full[0] else (self.full, one)
        if self.clock() - other[1] >= self.retry_s and seen - other[2] >= self.retry_batches:
            return self.full if best == 1 else 1  # the load may have changed
        return best

    def record(self, chars: int, threads: int, seconds: float) -> None:
        if seconds < 0.002:  # no forward pass ran (all vectors came from the cache)
            return
        c = size_class(chars)
        cost = seconds / max(1, chars)
        old, now = self.cost.get((c, threads)), self.clock()
        if old is not None and now - old[1] < self.retry_s:  # else stale: replaced
            cost = (old[0] + cost) / 2
        self.cost[(c, threads)] = (cost, now, self.batches.get(c, 0))


def torch_threads(n: int | None = None) -> int | None:
    """The intra-op threads of this process's torch (set to ``n`` when given); None where
    torch is not loaded (the model runs in a child process)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    if n is not None and torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return torch.get_num_threads()
