"""Is the federation on the lab working? Asked the way an operator would: the master's answer.

"Working" (issue 12): the Exareme master reports every hospital's worker reachable, and the
portal's EXAREME_URL leads to that answer.

The Exareme stand-in's master (tests/lab/standin/exareme.sh) listens on its port only once it has
seen EXA_WORKERS_WAIT workers in the keystore, as the real image's gateway starts only then. On
`/mining/query` (and `/exa-view/`) it answers, probing each worker at the overlay address the
worker registered:

    {"master": "chuv", "address": "10.20.30.3", "workers_wait": 2,
     "workers": [{"name": "hug", "address": "10.20.30.5", "reachable": true},
                 {"name": "bern", "address": "10.20.30.7", "reachable": false}]}

The portal stand-in serves `/exareme` by fetching its EXAREME_URL and passing the answer on.
These functions ask from the root namespace, at the lab host's own address: the master publishes
its port in host mode on the leader, the portal its port on the leader's engine.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from .lab import Lab

MASTER_PORT = 9090
PORTAL_PORT = 8080
# Direct connections only: the lab's addresses are never behind a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get_json(url: str, timeout: float) -> dict[str, Any] | None:
    try:
        with _OPENER.open(url, timeout=timeout) as response:
            answer = json.loads(response.read())
    except (OSError, ValueError):  # refused, timed out, an HTTP error status, not JSON
        return None
    return answer if isinstance(answer, dict) else None


def master_answer(
    lab: Lab, index: int, port: int = MASTER_PORT, timeout: float = 2.0
) -> dict[str, Any] | None:
    """The master's answer on lab host `index` (the leader), or None while it does not answer."""
    return _get_json(f"http://{lab.host(index).ip}:{port}/mining/query", timeout)


def portal_answer(
    lab: Lab, index: int, port: int = PORTAL_PORT, timeout: float = 4.0
) -> dict[str, Any] | None:
    """The master's answer as the portal on lab host `index` gets it through its EXAREME_URL."""
    return _get_json(f"http://{lab.host(index).ip}:{port}/exareme", timeout)


def reachable_workers(answer: dict[str, Any] | None) -> set[str]:
    """Names of the workers an answer reports reachable."""
    if answer is None:
        return set()
    return {w["name"] for w in answer.get("workers", []) if w.get("reachable") is True}


def reports_all(answer: dict[str, Any] | None, hospitals: list[str]) -> bool:
    """Every hospital in `hospitals` but the master's own is reported reachable. Workers the
    answer lists beyond these (a removed hospital's stale entry) do not count against it."""
    if answer is None:
        return False
    return set(hospitals) - {answer.get("master")} <= reachable_workers(answer)


def is_working(
    lab: Lab,
    index: int,
    hospitals: list[str],
    port: int = MASTER_PORT,
    portal_port: int | None = PORTAL_PORT,
) -> bool:
    """The master on lab host `index` reports every hospital's worker reachable (`hospitals`: the
    node names; the leader's own name may be included) and, unless `portal_port` is None, the
    portal on that host returns such an answer too."""
    if not reports_all(master_answer(lab, index, port), hospitals):
        return False
    return portal_port is None or reports_all(portal_answer(lab, index, portal_port), hospitals)
