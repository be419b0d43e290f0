"""docs/benchmarks.md from the samples: tables, floor analysis, evaluation cost, machine, method."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.evalcost import EvalCost
from bench.floor import Floor
from bench.runner import Sample
from bench.stats import ratio, show, summarize

TARGET_FLOOR_RATIO = 1.5

LABELS = {
    "program": "(a) Pulumi program, engine double",
    "ansible": "(b) Ansible community.docker, default forks (5)",
    "ansible-forks": "(b) Ansible community.docker, forks = N+1",
    "manual": "(c) 2018 manual procedure, serial ssh",
}


@dataclass(frozen=True)
class Run:
    """How the benchmark was invoked, for the reproduce section."""

    command: str
    started: datetime
    minutes: float


def _values(samples: Sequence[Sample], attr: str) -> list[float]:
    return [v for s in samples if (v := getattr(s, attr)) is not None]


def _of(samples: Sequence[Sample], tool: str, n: int) -> list[Sample]:
    return [s for s in samples if s.tool == tool and s.workers == n]


def results_table(samples: Sequence[Sample], n: int) -> list[str]:
    reference = _of(samples, "program", n)
    ref = {a: summarize(_values(reference, a)) for a in ("deploy", "rerun", "teardown")}
    lines = [
        f"### 1 manager + {n} workers",
        "",
        "Seconds, median (min-max) of the runs. Ratios are medians over (a)'s medians.",
        "",
        "| tool | deploy | working | no-change re-run | teardown | deploy / (a) "
        "| re-run / (a) | teardown / (a) | runs ok |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for tool, label in LABELS.items():
        mine = _of(samples, tool, n)
        if not mine:
            continue
        got = {a: summarize(_values(mine, a)) for a in ("deploy", "working", "rerun", "teardown")}
        complete = sum(1 for s in mine if s.teardown is not None and not s.problems)
        lines.append(
            f"| {label} | {show(got['deploy'])} | {show(got['working'])} | {show(got['rerun'])} "
            f"| {show(got['teardown'])} | {ratio(got['deploy'], ref['deploy'])} "
            f"| {ratio(got['rerun'], ref['rerun'])} | {ratio(got['teardown'], ref['teardown'])} "
            f"| {complete}/{len(mine)} |"
        )
    if not _of(samples, "ansible-forks", n) and _of(samples, "ansible", n):
        lines += [
            "",
            f"forks = N+1 = {n + 1} is not above Ansible's default of 5: that run is the "
            "default-forks row.",
        ]
    return [*lines, ""]


def _floor_row(label: str, floor: Floor, deploy: float | None, engine_span: float | None) -> str:
    deploy_text = "-" if deploy is None else f"{deploy:.2f}"
    deploy_ratio = "-" if deploy is None else f"{deploy / floor.total:.2f}x"
    span_text = "-" if engine_span is None else f"{engine_span:.2f}"
    span_ratio = "-" if engine_span is None else f"{engine_span / floor.total:.2f}x"
    return (
        f"| {label} | {floor.init:.2f} | {floor.join:.2f} | {floor.label:.2f} "
        f"| {floor.network:.2f} | {floor.service:.2f} | **{floor.total:.2f}** | {deploy_text} "
        f"| {deploy_ratio} | {span_text} | {span_ratio} |"
    )


def floor_table(samples: Sequence[Sample], n: int) -> list[str]:
    program = [s for s in _of(samples, "program", n) if s.floor is not None]
    manual = [s for s in _of(samples, "manual", n) if s.floor is not None]
    if not program and not manual:
        return []
    lines = [
        f"### Floor, 1 manager + {n} workers",
        "",
        "| run | swarm init | slowest join | one label (median) | network create "
        "| slowest service create | floor | deploy (wall) | deploy / floor "
        "| engine span | span / floor |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in program:
        assert s.floor is not None
        lines.append(_floor_row(f"(a) run {s.run}", s.floor, s.deploy, s.engine_span))
    ratios = [s.deploy / s.floor.total for s in program if s.floor and s.deploy]
    for s in manual:
        assert s.floor is not None
        lines.append(_floor_row(f"(c) run {s.run}, uncontended steps", s.floor, s.deploy, None))
    lines.append("")
    if ratios:
        median = statistics.median(ratios)
        verdict = "meets" if median <= TARGET_FLOOR_RATIO else "misses"
        lines += [
            f"(a)'s deploy is **{median:.2f}x** its own floor (median of the runs; range "
            f"{min(ratios):.2f}x-{max(ratios):.2f}x): it {verdict} the "
            f"{TARGET_FLOOR_RATIO}x target.",
            "",
        ]
    return lines


def evalcost_table(costs: Sequence[EvalCost]) -> list[str]:
    if not costs:
        return []
    lines = [
        "## Program evaluation cost under mocks (no hosts)",
        "",
        "The real `__main__.py` evaluated by `tests.program.evaluate()` with a synthetic stack "
        "of N hospitals (1 manager, N-1 workers, every LDSM password set), each size in a fresh "
        "process. Imports (Pulumi SDK, providers' SDKs, pydantic) are timed apart; peak RSS is "
        "`getrusage(RUSAGE_SELF).ru_maxrss` at the end.",
        "",
        "| hospitals | resources | imports (s) | evaluation (s) | evaluation per hospital (ms) "
        "| peak RSS after imports (MiB) | peak RSS at the end (MiB) | growth (MiB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in costs:
        if c.error:
            lines.append(f"| {c.hospitals} | error: {c.error.splitlines()[-1][:200]} |||||||")
            continue
        lines.append(
            f"| {c.hospitals} | {c.resources} | {c.import_seconds:.2f} | {c.seconds:.2f} "
            f"| {1000 * c.seconds / c.hospitals:.1f} | {c.baseline_rss_mib:.0f} "
            f"| {c.peak_rss_mib:.0f} | {c.peak_rss_mib - c.baseline_rss_mib:.0f} |"
        )
    ok = [c for c in costs if not c.error]
    if len(ok) >= 2:
        first, last = ok[0], ok[-1]
        steps = last.hospitals - first.hospitals
        per_time = 1000 * (last.seconds - first.seconds) / steps
        per_mem = 1024 * (last.peak_rss_mib - first.peak_rss_mib) / steps
        growth = (last.seconds / last.hospitals) / max(first.seconds / first.hospitals, 1e-9)
        lines += [
            "",
            f"From {first.hospitals} to {last.hospitals} hospitals: {per_time:.1f} ms and "
            f"{per_mem:.0f} KiB more per added hospital; the time per hospital changes "
            f"{growth:.2f}x ({'about linear' if growth < 1.5 else 'super-linear'} growth).",
        ]
    return [*lines, ""]


def _load_line(samples: Sequence[Sample]) -> str:
    loads = [s.load for s in samples]
    if not loads:
        return ""
    return (
        f"1-minute load average when each deploy started: median {statistics.median(loads):.1f}, "
        f"min {min(loads):.1f}, max {max(loads):.1f} (2 cores; other labs may share the machine)."
    )


def headline(samples: Sequence[Sample], n: int) -> list[str]:
    program = summarize(_values(_of(samples, "program", n), "deploy"))
    if program is None:
        return []
    parts = [f"- 1 manager + {n} workers: (a) deploys in {program.median:.1f} s"]
    for tool in ("manual", "ansible", "ansible-forks"):
        other = summarize(_values(_of(samples, tool, n), "deploy"))
        if other is not None:
            parts.append(
                f"{LABELS[tool].split(' ', 1)[1]} takes {other.median:.1f} s "
                f"({other.median / program.median:.1f}x)"
            )
    return ["; ".join(parts) + "."]


def problems_section(samples: Sequence[Sample]) -> list[str]:
    bad = [s for s in samples if s.problems]
    if not bad:
        return ["No run failed; every tool reached the expected end state in every run.", ""]
    lines = ["## Problems seen", ""]
    for s in bad:
        text = " / ".join(p.replace("\n", " ")[:600] for p in s.problems)
        lines.append(f"- {LABELS[s.tool]}, N={s.workers}, run {s.run}: {text}")
    return [*lines, ""]


def render(
    samples: Sequence[Sample],
    costs: Sequence[EvalCost],
    machine: dict[str, str],
    run: Run,
    notes: str,
) -> str:
    sizes = sorted({s.workers for s in samples})
    lines = [
        "# Benchmark: time to a working federation",
        "",
        f"Written by `{run.command}` on {run.started.astimezone(UTC):%Y-%m-%d %H:%M} UTC "
        f"({run.minutes:.0f} min). Re-run the command to refresh it; do not edit by hand.",
        "",
        "## Summary",
        "",
    ]
    for n in sizes:
        lines += headline(samples, n)
    lines += ["", _load_line(samples), "", "## Results", ""]
    for n in sizes:
        lines += results_table(samples, n)
    if sizes:
        lines += [
            "## Floor analysis",
            "",
            "floor = swarm init + slowest single join + one label + network create + slowest "
            "service create, each measured in that same run: for (a) from the engine double's "
            "operations log (start and end of every resource step), for (c) from the manual "
            "script's step log (its steps run one at a time, so theirs is the uncontended "
            "floor). *engine span* is (a)'s first step start to last step end; the rest of the "
            "wall clock is the worker process (Python start, SDK imports, program evaluation, "
            "state).",
            "",
        ]
        for n in sizes:
            lines += floor_table(samples, n)
    lines += evalcost_table(costs)
    lines += ["## Machine", ""]
    lines += [f"- {key}: {value}" for key, value in machine.items()]
    lines += ["", notes.strip(), ""]
    lines += problems_section(samples)
    return "\n".join(lines).rstrip() + "\n"
