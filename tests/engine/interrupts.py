"""SIGINT and SIGTERM in the worker, handled the way the Pulumi CLI handles them.

The first signal cancels: no new step starts, steps in flight finish and are recorded, nothing is
deleted, the state is saved and the run fails with "update canceled". The second exits at once
with status 128 + signal, leaving the last checkpoint. This module imports nothing heavy, so the
worker installs the handlers before it even reads its request.
"""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.engine.engine import Engine

# How long a terminating worker waits for a checkpoint being written, so it leaves no temp file.
TERMINATE_SAVE_WAIT = 2.0


class Interrupts:
    """SIGINT/SIGTERM in the worker. The first cancels the engine's run (or the run about to
    start); the second exits at once with 128 + signal, as an uncaught signal would."""

    def __init__(self) -> None:
        self.count = 0
        self.engine: Engine | None = None

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self.handle)

    def attach(self, engine: Engine) -> None:
        """The engine to cancel; cancelled at once if a signal came before it existed."""
        self.engine = engine
        if self.count:
            engine.cancel()

    def handle(self, signum: int, _frame: object = None) -> None:
        # Runs in the main thread between bytecodes: write with os.write (no locks).
        self.count += 1
        term = signum == signal.SIGTERM
        name, again = ("SIGTERM", "send SIGTERM") if term else ("^C", "press ^C")
        if self.count == 1:
            os.write(
                2,
                f"{name} received; cancelling. If you would like to terminate immediately, "
                f"{again} again.\nNote that terminating immediately may lead to orphaned "
                "resources and other inconsistencies.\n".encode(),
            )
            engine = self.engine
            if engine is not None:
                engine.cancel()
            return
        os.write(2, f"{name} received; terminating\n".encode())
        engine = self.engine
        if engine is not None:
            engine.hold_checkpoints(TERMINATE_SAVE_WAIT)
        os._exit(128 + signum)


INTERRUPTS = Interrupts()
