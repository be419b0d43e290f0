"""The structured log of what the engine applied: one record per resource step."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

OPS = ("create", "update", "replace", "delete", "same", "refresh")


def step_dependencies(
    parent: str,
    provider: str,
    dependencies: Iterable[str],
    property_dependencies: Mapping[str, Iterable[str]],
) -> list[str]:
    """The URNs a registration's step waits for, as the Python SDK and the engine wire them:
    the resources its inputs and `depends_on` name (the SDK sends them already expanded from
    components to their custom children), its provider (a reference "URN::ID"), and its parent,
    whose URN resolves only once the parent's own step is done (a component's at once; it has no
    step, so a reader of the log drops it)."""
    urns = set(dependencies)
    for each in property_dependencies.values():
        urns.update(each)
    if provider:
        urns.add(provider.rsplit("::", 1)[0])
    if parent:
        urns.add(parent)
    return sorted(urns)


@dataclass
class StepNote:
    """What a step may add to its record while it runs (a refresh's outcome)."""

    reason: str = ""


@dataclass
class Operation:
    urn: str
    name: str
    type: str
    op: str
    status: str  # "ok" | "failed"
    start: str
    end: str
    duration: float
    reason: str = ""  # e.g. "replaced" for the delete of a replaced resource
    error: str = ""
    deps: list[str] = field(default_factory=list)  # URNs the step waited for (step_dependencies)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class OpLog:
    """Thread-safe list of operations; prints one progress line per step on stderr."""

    def __init__(self, quiet: bool = False) -> None:
        self._lock = threading.Lock()
        self.operations: list[Operation] = []
        self.quiet = quiet

    def progress(self, text: str) -> None:
        if not self.quiet:
            with self._lock:
                print(text, file=sys.stderr, flush=True)

    @contextmanager
    def step(
        self,
        urn: str,
        name: str,
        type_: str,
        op: str,
        reason: str = "",
        deps: Iterable[str] = (),
    ) -> Iterator[StepNote]:
        started = datetime.now(UTC)
        t0 = time.monotonic()
        if op != "same":
            self.progress(f"  {op:8s} {type_} {name} ...")
        status, error = "ok", ""
        note = StepNote(reason)
        try:
            yield note
        except BaseException as exc:
            status, error = "failed", str(exc)
            raise
        finally:
            duration = time.monotonic() - t0
            record = Operation(
                urn=urn,
                name=name,
                type=type_,
                op=op,
                status=status,
                start=started.isoformat(),
                end=datetime.now(UTC).isoformat(),
                duration=round(duration, 3),
                reason=note.reason,
                error=error,
                deps=list(deps),
            )
            with self._lock:
                self.operations.append(record)
            if op != "same":
                mark = "done" if status == "ok" else "FAILED"
                self.progress(f"  {op:8s} {type_} {name} {mark} ({duration:.2f}s)")
