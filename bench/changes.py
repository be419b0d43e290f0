"""The report's section on changing a running federation (issue 21): per size, tool and change
(add, remove, upgrade), what the client polling the master every 0.2 s saw, and the issue's
targets as pass or miss with the reason when missed (printed, never asserted):

- add and remove: 0 failed polls;
- upgrade: the federation unanswered only while the master restarts (every failed poll inside the
  window from the old master's stop to the first answer after the new one started), so at most
  that long.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.runner import Sample
from bench.spec import MASTER

ACTIONS = ("add", "remove", "upgrade")
# (wall clock, until the changed federation works) per change
TIMES = {
    "add": ("add", "add_working"),
    "remove": ("remove", "remove_working"),
    "upgrade": ("upgrade", "upgrade_working"),
}


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _others(seen: dict[str, Any]) -> list[str]:
    return [name for name in seen.get("restarted", []) if name != MASTER]


def verdict(action: str, seen: dict[str, Any]) -> str:
    """Pass or miss of one change's target, with the reason when missed."""
    failed, unanswered = int(seen["failed"]), float(seen["unanswered"])
    restarted = seen.get("restarted", [])
    if action in ("add", "remove"):
        if failed == 0:
            return "meets 0 failed polls"
        if MASTER in restarted:
            why = "the change replaced the master's task, and it answers only once restarted"
        else:
            why = "the master did not answer in time with no restart of its task (the load)"
        return f"misses 0 failed polls: {failed} failed, {unanswered:.1f} s unanswered; {why}"
    down = seen.get("master_down")
    outside = int(seen.get("failed_outside_master", failed))
    if outside == 0:
        shown = "" if down is None else f" ({unanswered:.1f} s unanswered ≤ {down:.1f} s)"
        return f"meets unanswered only while the master restarts{shown}"
    if down is None:
        why = "the master was not restarted, yet polls failed"
    else:
        why = (
            f"{outside} failed poll(s) outside the master's restart ({down:.1f} s): another "
            "service's update made the master's answer fail"
        )
    return f"misses: {unanswered:.1f} s unanswered; {why}"


def _row(sample: Sample, action: str, label: str) -> str:
    seen = sample.availability[action]
    wall, working = (getattr(sample, attr) for attr in TIMES[action])
    others = _others(seen)
    master = "yes" if MASTER in seen.get("restarted", []) else "no"
    down = seen.get("master_down")
    return (
        f"| {label} run {sample.run} | {action} | {_s(wall)} | {_s(working)} "
        f"| {seen['failed']} / {seen['polls']} | {float(seen['unanswered']):.1f} "
        f"| {seen['incomplete']} | {master} | {len(others)} | {_s(down)} "
        f"| {verdict(action, seen)} |"
    )


def section(samples: Sequence[Sample], labels: dict[str, str]) -> list[str]:
    rows = [s for s in samples if s.availability]
    if not rows:
        return []
    lines = [
        "## Changing a running federation: add, remove, upgrade",
        "",
        "A client asks the master's `/mining/query` every 0.2 s (2 s timeout) from the change's "
        "start until the changed federation works. *failed polls*: no answer (refused, timed "
        "out, an error status), of all polls; *unanswered*: each run of failed polls, from its "
        "first to the next answered poll; *missing a worker*: answers that did not report every "
        "hospital that stays reachable. *→ working*: until the changed federation works (for "
        "the upgrade: every Exareme service's task running the new image, and the master "
        "reporting every worker). *master restarted*, *others restarted*: services of the "
        "federation before the change that got a new task. *master down*: from the old master "
        "container's stop to the first answer after the new one started. Targets (issue 21): 0 "
        "failed polls for add and remove; for the upgrade, unanswered only while the master "
        "restarts, at most that long.",
        "",
    ]
    for n in sorted({s.workers for s in rows}):
        lines += [
            f"### 1 manager + {n} workers",
            "",
            "| run | change | wall (s) | → working (s) | failed polls | unanswered (s) "
            "| missing a worker | master restarted | others restarted | master down (s) "
            "| target |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for s in (s for s in rows if s.workers == n):
            for action in ACTIONS:
                if action in s.availability:
                    lines.append(_row(s, action, labels.get(s.tool, s.tool)))
        lines.append("")
    return lines
