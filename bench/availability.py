"""Does the federation keep answering while it is changed? A client asks the master's
`/mining/query` every 0.2 s during an add, a remove or an upgrade (from the change's start until
the changed federation works), as a hospital's user would, and the polls are summed up: failed
polls (no answer: refused, timed out, an error status), answers that miss a worker of the
hospitals that stay, and the seconds the federation did not answer (bench/method.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

INTERVAL = 0.2  # seconds from one poll's start to the next (or the previous one's end, if later)
TIMEOUT = 2.0  # a poll that has no answer by then failed

Answer = dict[str, Any] | None


@dataclass(frozen=True)
class Poll:
    start: float  # epoch seconds (this machine's clock, as the containers' timestamps)
    end: float
    answered: bool
    missing: tuple[str, ...] = ()  # hospitals that stay, not reported reachable in the answer


@dataclass(frozen=True)
class Availability:
    polls: int
    failed: int  # no answer
    incomplete: int  # an answer without every hospital that stays reachable
    unanswered: float  # seconds: each run of failed polls, to the next answered poll's start
    outages: tuple[tuple[float, float], ...]  # (start, end) epoch seconds of each such run

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def missing(answer: Answer, hospitals: Iterable[str]) -> tuple[str, ...]:
    """The hospitals (the master's own excepted) an answer does not report reachable."""
    if answer is None:
        return tuple(sorted(hospitals))
    reachable = {w.get("name") for w in answer.get("workers", []) if w.get("reachable") is True}
    return tuple(sorted(set(hospitals) - reachable - {answer.get("master")}))


def summarize(polls: Sequence[Poll]) -> Availability:
    """The polls, in order, summed up. An outage runs from its first failed poll's start to the
    start of the next answered poll, or to the last poll's end when none answered after it."""
    outages: list[tuple[float, float]] = []
    began: float | None = None
    for poll in polls:
        if not poll.answered and began is None:
            began = poll.start
        elif poll.answered and began is not None:
            outages.append((began, poll.start))
            began = None
    if began is not None:
        outages.append((began, polls[-1].end))
    return Availability(
        polls=len(polls),
        failed=sum(not p.answered for p in polls),
        incomplete=sum(p.answered and bool(p.missing) for p in polls),
        unanswered=round(sum(end - start for start, end in outages), 3),
        outages=tuple(outages),
    )


def failed_outside(polls: Sequence[Poll], window: tuple[float, float] | None) -> int:
    """Failed polls that started outside `window` (epoch seconds; None: every failed poll)."""
    if window is None:
        return sum(not p.answered for p in polls)
    low, high = window
    return sum(not p.answered and not low - INTERVAL <= p.start <= high for p in polls)


class Poller:
    """Polls in a thread of its own until `stop()`; `latest()` is the last answer, so that the
    wait for "working" reads it instead of asking the master a second time every 0.2 s."""

    def __init__(self, ask: Callable[[], Answer], hospitals: Iterable[str]) -> None:
        self._ask = ask
        self._hospitals = tuple(hospitals)
        self._polls: list[Poll] = []
        self._latest: Answer = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="bench-poller", daemon=True)

    def start(self) -> Poller:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stopping.is_set():
            start = time.time()
            answer = self._ask()
            poll = Poll(start, time.time(), answer is not None, missing(answer, self._hospitals))
            with self._lock:
                self._polls.append(poll)
                self._latest = answer
            self._stopping.wait(max(0.0, start + INTERVAL - time.time()))

    def latest(self) -> Answer:
        with self._lock:
            return self._latest

    def stop(self) -> list[Poll]:
        self._stopping.set()
        self._thread.join(timeout=TIMEOUT + 5)
        with self._lock:
            return list(self._polls)
