"""terraform-plugin-sdk v2 `retry.StateChangeConf.WaitForStateContext` (helper/retry/state.go,
Pulumi's fork at upstream-v2.38.1), for the providers' waits with no PollInterval.

The first refresh runs after Delay. The wait before the next one starts at 100 ms and doubles
after each refresh that is not on target, bounded to [MinTimeout, 10 s]: with Delay 2 s and
MinTimeout 5 s the refreshes run at 2, 7, 17, 27 s. At Timeout no further refresh starts and the
wait fails with a TimeoutError naming the last state. A refresh error ends it at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tests.engine.providers.base import ProviderError

T = TypeVar("T")

FIRST_WAIT = 0.1
MAX_WAIT = 10.0


@dataclass(frozen=True)
class StateChangeConf:
    pending: tuple[str, ...]
    target: tuple[str, ...]
    timeout: float
    min_timeout: float
    delay: float


class StateTimeoutError(ProviderError):
    """retry.TimeoutError: the target state was not reached within Timeout."""


def timeout_message(conf: StateChangeConf, last_state: str) -> str:
    """retry.TimeoutError.Error()."""
    seconds = f"{conf.timeout:g}s"
    extra = f"last state: '{last_state}', " if last_state else ""
    return (
        f"timeout while waiting for state to become '{', '.join(conf.target)}' "
        f"({extra}timeout: {seconds})"
    )


def wait_for_state(
    conf: StateChangeConf,
    refresh: Callable[[], tuple[T, str]],
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
) -> T:
    """Run `refresh` (returning (result, state); it raises on an error) on the SDK's schedule
    until its state is a target; a state neither pending nor target fails as the SDK's
    UnexpectedStateError. `sleep` and `clock` default to the time module's."""
    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    start = clock()
    sleep(conf.delay)
    wait = FIRST_WAIT
    while True:
        result, state = refresh()
        if state in conf.target:
            return result
        if state not in conf.pending:
            raise ProviderError(
                f"unexpected state '{state}', wanted target '{', '.join(conf.target)}'. "
                "last error: %!s(<nil>)"
            )
        wait = min(max(wait * 2, conf.min_timeout), MAX_WAIT)
        remaining = conf.timeout - (clock() - start)
        if wait >= remaining:
            sleep(max(remaining, 0.0))
            raise StateTimeoutError(timeout_message(conf, state))
        sleep(wait)
