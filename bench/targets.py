"""Issue 20's targets as ratios from one run, printed (never asserted): time to working and
CPU-seconds per hospital against the manual procedure on the lab, and the projection against the
manual procedure and against the program's own DAG floor."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from bench.projected import Projected
from bench.runner import Sample

REFERENCE = "manual"
TOOL = "program"  # (a) at the CLI's default parallelism


def cpu_per_hospital(sample: Sample, action: str) -> float | None:
    """CPU-seconds per hospital of one action, operator and hosts: a deploy and an add counted
    until the federation works, a re-run while it runs; an add per added hospital."""
    got = sample.cpu.get(action)
    if not got or "operator" not in got:
        return None
    key = "hosts" if action == "rerun" else "hosts_until_working"
    if key not in got:
        return None
    return (got["operator"] + got[key]) / (1 if action == "add" else sample.workers + 1)


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _of(samples: Sequence[Sample], tool: str, n: int) -> list[Sample]:
    return [s for s in samples if s.tool == tool and s.workers == n]


def _line(what: str, value: float | None, reference: float | None, target: str, met: bool) -> str:
    if value is None or reference is None or reference <= 0:
        return f"- {what}: not measured in this run (target {target})."
    verdict = "meets" if met else "misses"
    shown = f"**{value / reference:.2f}x** ({value:.2f} / {reference:.2f})"
    return f"- {what}: {shown}: {verdict} {target}."


def section(samples: Sequence[Sample], projected: Sequence[Projected]) -> list[str]:
    sizes = sorted({s.workers for s in samples})
    lines = [
        "## Targets, as ratios from this run",
        "",
        "(a) at the default parallelism over (c) the manual procedure, medians of this run's "
        "samples; printed, not asserted. Where a target is missed, the tables above hold the "
        "measurements that say why.",
        "",
    ]
    for n in sizes:
        mine = _median([s.working for s in _of(samples, TOOL, n) if s.working is not None])
        theirs = _median([s.working for s in _of(samples, REFERENCE, n) if s.working is not None])
        ok = mine is not None and theirs is not None and mine <= theirs
        lines.append(_line(f"1+{n}, time to working, (a) / (c)", mine, theirs, "≤ 1x", ok))
        if n == 29 and mine and theirs:
            faster = theirs / mine
            lines.append(
                f"- 1+29, (c) / (a) time to working: **{faster:.2f}x**: "
                f"{'meets' if faster >= 1.5 else 'misses'} ≥ 1.5x."
            )
        for action in ("deploy", "rerun", "add"):
            cpu = [v for s in _of(samples, TOOL, n) if (v := cpu_per_hospital(s, action))]
            ref = [v for s in _of(samples, REFERENCE, n) if (v := cpu_per_hospital(s, action))]
            a, c = _median(cpu), _median(ref)
            ok = a is not None and c is not None and a <= 1.3 * c
            lines.append(
                _line(f"1+{n}, CPU-s per hospital, {action}, (a) / (c)", a, c, "≤ 1.3x", ok)
            )
    for p in projected:
        size = f"1+{p.hospitals - 1}"
        if p.manual is not None and p.program:
            faster = p.manual / p.program
            lines.append(
                f"- {size}, projection, (c) / (a): **{faster:.2f}x**: "
                f"{'meets' if faster >= 5 else 'misses'} ≥ 5x"
                + (" (the target's size)." if p.hospitals == 30 else ".")
            )
        if p.program is not None and p.floor:
            ratio = p.program / p.floor
            lines.append(
                f"- {size}, projection, (a) / its DAG floor: **{ratio:.2f}x**: "
                f"{'meets' if ratio <= 1.3 else 'misses'} ≤ 1.3x."
            )
    return [*lines, ""]
