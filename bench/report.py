"""docs/benchmarks.md from the samples: tables, floor analysis, adding and removing a hospital,
host touches of the no-change re-run, the gap between deploy and working, lab memory,
evaluation cost, machine, method."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench import changes, targets
from bench import projected as projected_
from bench.evalcost import EvalCost
from bench.projection import Node, Wan
from bench.runner import Sample
from bench.stats import ratio, show, summarize

TARGET_FLOOR_RATIO = 1.5
REFERENCE = "program"  # the ratio columns divide by (a) at the CLI's default parallelism
PROGRAMS = ("program", "program-unbounded", "program-serial")
TARGETED = ("program", "program-unbounded")  # the variants the targets are about

LABELS = {
    "program": "(a) Pulumi program, engine double, default --parallel",
    "program-unbounded": "(a) Pulumi program, engine double, unbounded --parallel",
    "program-serial": "(a) Pulumi program, engine double, --parallel 1 (projection calibration)",
    "ansible": "(b) Ansible community.docker, default forks (5)",
    "ansible-forks": "(b) Ansible community.docker, forks = N+1",
    "manual": "(c) 2018 manual procedure, serial ssh",
}
SHORT = {
    "program": "(a) default",
    "program-unbounded": "(a) unbounded",
    "program-serial": "(a) --parallel 1",
    "ansible": "(b) forks 5",
    "ansible-forks": "(b) forks N+1",
    "manual": "(c) manual",
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


def _label(tool: str, samples: Sequence[Sample]) -> str:
    label = LABELS.get(tool, tool)
    parallel = {s.parallel for s in samples if s.tool == tool and s.parallel}
    if tool == "program" and parallel:
        label += f" ({', '.join(str(p) for p in sorted(parallel))})"
    return label


COLUMNS = ("deploy", "working", "rerun", "add", "add_working", "remove", "remove_working")


def results_table(samples: Sequence[Sample], n: int) -> list[str]:
    reference = _of(samples, REFERENCE, n)
    ref = {a: summarize(_values(reference, a)) for a in (*COLUMNS, "teardown")}
    lines = [
        f"### 1 manager + {n} workers",
        "",
        "Seconds, median (min-max) of the runs. *add* and *remove*: one hospital (the lab's "
        "spare host) added to the deployed federation and removed again; *→ working* is from "
        "the action's start until the larger (smaller) federation works.",
        "",
        "| tool | deploy | working | no-change re-run | add one | add → working | remove one "
        "| remove → working | teardown | runs ok |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    ratios = [
        "",
        "Ratios over (a) at the default parallelism (medians):",
        "",
        "| tool | deploy | working | re-run | add → working | remove → working | teardown |",
        "|---|---|---|---|---|---|---|",
    ]
    for tool in LABELS:
        mine = _of(samples, tool, n)
        if not mine:
            continue
        got = {a: summarize(_values(mine, a)) for a in (*COLUMNS, "teardown")}
        complete = sum(1 for s in mine if s.teardown is not None and not s.problems)
        lines.append(
            f"| {_label(tool, samples)} | "
            + " | ".join(show(got[a]) for a in (*COLUMNS, "teardown"))
            + f" | {complete}/{len(mine)} |"
        )
        ratios.append(
            f"| {SHORT[tool]} | "
            + " | ".join(
                ratio(got[a], ref[a])
                for a in ("deploy", "working", "rerun", "add_working", "remove_working", "teardown")
            )
            + " |"
        )
    if not _of(samples, "ansible-forks", n) and _of(samples, "ansible", n):
        why = (
            f"forks = N+1 = {n + 1} is not above Ansible's default of 5: that run is the "
            "default-forks row."
            if n + 1 <= 5
            else f"(b) with forks = N+1 = {n + 1} was not run at this size (`--peer-runs`, "
            "`--forks-sizes`), to fit the run in its time."
        )
        ratios += ["", why]
    peers_elsewhere = {s.tool for s in samples if s.tool not in PROGRAMS}
    missing = sorted(t for t in peers_elsewhere if t != "ansible-forks" and not _of(samples, t, n))
    if missing:
        ratios += [
            "",
            f"{', '.join(SHORT[t] for t in missing)} not run at this size (`--peer-runs`), to fit "
            "the run in its time.",
        ]
    return [*lines, *ratios, ""]


def _floor_row(s: Sample) -> str:
    floor = s.floor
    assert floor is not None

    def pair(value: float | None) -> str:
        return "- | -" if value is None else f"{value:.2f} | {value / floor.total:.2f}x"

    return (
        f"| {SHORT[s.tool]} run {s.run} | {floor.init:.2f} | {floor.join:.2f} "
        f"| {floor.label:.2f} | {floor.network:.2f} | {floor.service:.2f} "
        f"| **{floor.total:.2f}** | {pair(s.deploy)} | {pair(s.working)} "
        f"| {pair(s.engine_span)} |"
    )


def floor_ratios(samples: Sequence[Sample], tool: str, n: int, attr: str) -> list[float]:
    return [
        value / s.floor.total
        for s in _of(samples, tool, n)
        if s.floor is not None and (value := getattr(s, attr)) is not None and s.floor.total > 0
    ]


def verdict(ratios: Sequence[float], target: float = TARGET_FLOOR_RATIO) -> str:
    if not ratios:
        return "not measured"
    median = statistics.median(ratios)
    met = "meets" if median <= target else "misses"
    return (
        f"**{median:.2f}x** (median of {len(ratios)}; {min(ratios):.2f}x-{max(ratios):.2f}x): "
        f"{met} the {target}x target"
    )


def floor_table(samples: Sequence[Sample], n: int) -> list[str]:
    rows = [
        s for tool in (*PROGRAMS, "manual") for s in _of(samples, tool, n) if s.floor is not None
    ]
    if not rows:
        return []
    lines = [
        f"### Floor, 1 manager + {n} workers",
        "",
        "| run | swarm init | slowest join | one label (median) | network create "
        "| slowest service create | floor | deploy (wall) | deploy / floor | working "
        "| working / floor | engine span | span / floor |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [_floor_row(s) for s in rows]
    lines.append("")
    for tool in TARGETED:
        working = floor_ratios(samples, tool, n, "working")
        deploy = floor_ratios(samples, tool, n, "deploy")
        if working or deploy:
            lines.append(
                f"- {SHORT[tool]}: time to working over its own floor {verdict(working)}; "
                f"deploy over floor {verdict(deploy)}."
            )
    return [*lines, ""]


def add_table(samples: Sequence[Sample], n: int) -> list[str]:
    rows = [s for tool in LABELS for s in _of(samples, tool, n) if s.add_floor is not None]
    if not rows:
        return []
    lines = [
        f"### Adding one hospital, 1 manager + {n} → {n + 1} workers",
        "",
        "add floor = the new node's join + its label + its worker service create + the "
        "master's update (EXA_WORKERS_WAIT) where the tool makes one ((a) does not: -), each "
        "from that add's own log ((a) operations log, (c) step log). (b) logs no step times.",
        "",
        "| run | join | label | worker service | master update | add floor | add (wall) "
        "| add / floor | add → working | working / floor |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in rows:
        f = s.add_floor
        assert f is not None
        wall = "- | -" if s.add is None else f"{s.add:.2f} | {s.add / f.total:.2f}x"
        work = (
            "- | -"
            if s.add_working is None
            else f"{s.add_working:.2f} | {s.add_working / f.total:.2f}x"
        )
        lines.append(
            f"| {SHORT[s.tool]} run {s.run} | {f.join:.2f} | {f.label:.2f} | {f.service:.2f} "
            f"| {'-' if f.master is None else f'{f.master:.2f}'} | **{f.total:.2f}** "
            f"| {wall} | {work} |"
        )
    lines.append("")
    for tool in TARGETED:
        mine = [s for s in _of(samples, tool, n) if s.add_floor and s.add_floor.total > 0]
        walls = [s.add / s.add_floor.total for s in mine if s.add is not None and s.add_floor]
        works = [
            s.add_working / s.add_floor.total
            for s in mine
            if s.add_working is not None and s.add_floor
        ]
        if walls:
            lines.append(
                f"- {SHORT[tool]}: adding one hospital over its add floor {verdict(walls)} "
                f"(the tool's wall clock); until the larger federation works {verdict(works)}."
            )
    return [*lines, ""]


def touches_summary(samples: Sequence[Sample], tool: str, n: int, action: str) -> dict[str, Any]:
    seen = [s.touches[action] for s in _of(samples, tool, n) if action in s.touches]
    if not seen:
        return {}
    return {
        "runs": len(seen),
        "connections": [t["connections"] for t in seen],
        "packets": [t["packets"] for t in seen],
        "hosts": max(len(t["hosts"]) for t in seen),
        "untouched": all(t["connections"] == 0 and t["packets"] == 0 for t in seen),
    }


def touches_table(samples: Sequence[Sample], sizes: Sequence[int]) -> list[str]:
    rows = []
    for n in sizes:
        for tool in LABELS:
            for action in ("deploy", "rerun", "add", "remove"):
                got = touches_summary(samples, tool, n, action)
                if got:
                    rows.append((n, tool, action, got))
    if not rows:
        return []
    lines = [
        "## Hosts touched",
        "",
        "Counted by iptables on this machine (the operator's): new TCP connections (SYN) and "
        "all packets sent to each lab host's port 22 while the action ran (`bench/touch.py`). "
        "Every way the tools reach a host goes over ssh (commands, and the docker provider's "
        "`docker system dial-stdio`); the bench's own checks read each dockerd's unix socket "
        "and are not counted. Values per run.",
        "",
        "| size | tool | action | new ssh connections | packets to port 22 | hosts touched (max) |",
        "|---|---|---|---|---|---|",
    ]
    for n, tool, action, got in rows:
        lines.append(
            f"| 1+{n} | {SHORT[tool]} | {action} | {', '.join(map(str, got['connections']))} "
            f"| {', '.join(map(str, got['packets']))} | {got['hosts']} |"
        )
    lines.append("")
    largest = max(sizes)
    for tool in TARGETED:
        got = touches_summary(samples, tool, largest, "rerun")
        if got:
            met = "meets" if got["untouched"] else "misses"
            lines.append(
                f"- {SHORT[tool]}, no-change re-run at 1+{largest}: {met} the target of "
                f"touching no host (connections {got['connections']}, packets "
                f"{got['packets']}, at most {got['hosts']} host(s) per run)."
            )
    return [*lines, ""]


GAP_PHASES = ("created", "task_created", "pulled", "container_created", "started", "running")


def gap_phases(sample: Sample) -> dict[str, float]:
    """Seconds from the deploy's start until the last service reached each phase."""
    out: dict[str, float] = {}
    for phase in GAP_PHASES:
        values = [e[phase] for e in sample.timeline.values() if phase in e]
        if values:
            out[phase] = max(values)
    return out


def gap_steps(sample: Sample) -> dict[str, float]:
    """Per service, the median and the longest wait between consecutive phases."""
    out: dict[str, float] = {}
    pairs = list(itertools.pairwise(GAP_PHASES))
    for before, after in pairs:
        waits = [
            e[after] - e[before] for e in sample.timeline.values() if before in e and after in e
        ]
        if waits:
            out[f"{before}→{after} median"] = statistics.median(waits)
            out[f"{before}→{after} max"] = max(waits)
    return out


def gap_table(samples: Sequence[Sample], sizes: Sequence[int]) -> list[str]:
    rows = [s for n in sizes for t in LABELS for s in _of(samples, t, n) if s.timeline]
    if not rows:
        return []
    lines = [
        "## From deploy to working",
        "",
        "Seconds from the deploy's start until the *last* service reached each phase, read "
        "from the hosts (`bench/timeline.py`): service created (the service's CreatedAt on the "
        "leader), task created (the orchestrator's task CreatedAt), image pulled (the host's "
        "`pull` event, from the lab registry), container created and started (the host's "
        "container events), task running (the task's status timestamp), then the tool's return "
        "and the bench seeing the federation working (polled every 0.2 s). Medians of the runs.",
        "",
        "| size | tool | tool returned | service created | task created | image pulled "
        "| container created | container started | task running | working |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    waits_lines = [
        "",
        "Per service, waits between consecutive phases (median over services / longest), "
        "medians of the runs:",
        "",
        "| size | tool | created → task | task → pulled | pulled → container | container → "
        "started | started → running |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in sizes:
        for tool in LABELS:
            mine = [s for s in _of(samples, tool, n) if s.timeline]
            if not mine:
                continue
            phases = [gap_phases(s) for s in mine]

            def med(key: str, rows: list[dict[str, float]]) -> str:
                values = [r[key] for r in rows if key in r]
                return f"{statistics.median(values):.1f}" if values else "-"

            returned = summarize(_values(mine, "deploy"))
            working = summarize(_values(mine, "working"))
            lines.append(
                f"| 1+{n} | {SHORT[tool]} | {show(returned)} | "
                + " | ".join(med(p, phases) for p in GAP_PHASES)
                + f" | {show(working)} |"
            )
            steps = [gap_steps(s) for s in mine]
            cells = []
            for before, after in itertools.pairwise(GAP_PHASES):
                key = f"{before}→{after}"
                cells.append(f"{med(key + ' median', steps)} / {med(key + ' max', steps)}")
            waits_lines.append(f"| 1+{n} | {SHORT[tool]} | " + " | ".join(cells) + " |")
    restarted = [
        f"1+{s.workers} {SHORT.get(s.tool, s.tool)} run {s.run}: {name}"
        for s in rows
        for name, e in s.timeline.items()
        if e.get("tasks", 1) > 1
    ]
    counted = [s for s in rows if any("tasks" in e for e in s.timeline.values())]
    if counted:
        waits_lines += [
            "",
            f"Services whose first task did not last (a restart, after the policy's 5 s delay), "
            f"in the {len(counted)} runs that counted tasks: "
            + ("; ".join(restarted) if restarted else "none")
            + ".",
        ]
    return [*lines, *waits_lines, ""]


def memory_lines(samples: Sequence[Sample]) -> list[str]:
    measured = [s for s in samples if s.memory]
    if not measured:
        return []
    largest = max(s.workers for s in measured)
    mine = [s for s in measured if s.workers == largest]
    pss = statistics.median(s.memory["pss"] for s in mine) / 2**30
    rss = statistics.median(s.memory["rss"] for s in mine) / 2**30
    top = max(s.memory["max_host_pss"] for s in mine) / 2**20
    hosts = mine[0].memory["hosts"]
    return [
        "## Lab memory",
        "",
        f"At 1 + {largest} workers, with the federation working ({hosts} lab hosts: the "
        f"{largest + 1} nodes and the idle spare), `Lab.memory()` over every host's processes "
        f"(init, sshd, dockerd, containerd, containers): **{pss:.2f} GiB PSS** "
        f"({rss:.2f} GiB RSS, which counts shared pages once per process; median of "
        f"{len(mine)} runs); the largest host {top:.0f} MiB PSS (the leader: keystore and "
        "master).",
        "",
    ]


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float, float]:
    """Least squares y = slope * x + intercept, and R²."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx if sxx else 0.0
    intercept = my - slope * mx
    total = sum((y - my) ** 2 for y in ys)
    residual = sum((y - (slope * x + intercept)) ** 2 for x, y in zip(xs, ys, strict=True))
    return slope, intercept, 1.0 - residual / total if total else 1.0


def _cost(c: EvalCost) -> float:
    """The evaluation's CPU time where measured, else its wall clock."""
    return c.cpu_seconds or c.seconds


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
        "| hospitals | resources | imports (s) | evaluation (s) | evaluation CPU (s) "
        "| CPU per hospital (ms) | peak RSS after imports (MiB) | peak RSS at the end (MiB) "
        "| growth (MiB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in costs:
        if c.error:
            lines.append(f"| {c.hospitals} | error: {c.error.splitlines()[-1][:200]} ||||||||")
            continue
        lines.append(
            f"| {c.hospitals} | {c.resources} | {c.import_seconds:.2f} | {c.seconds:.2f} "
            f"| {c.cpu_seconds:.2f} | {1000 * _cost(c) / c.hospitals:.1f} "
            f"| {c.baseline_rss_mib:.0f} "
            f"| {c.peak_rss_mib:.0f} | {c.peak_rss_mib - c.baseline_rss_mib:.0f} |"
        )
    ok = [c for c in costs if not c.error]
    if len(ok) >= 2:
        xs = [float(c.hospitals) for c in ok]
        slope, intercept, r2 = linear_fit(xs, [_cost(c) for c in ok])
        mem_slope, _, mem_r2 = linear_fit(xs, [c.peak_rss_mib for c in ok])
        wall_slope, _, wall_r2 = linear_fit(xs, [c.seconds for c in ok])
        first, last = ok[0], ok[-1]
        growth = (_cost(last) / last.hospitals) / max(_cost(first) / first.hospitals, 1e-9)
        linear = r2 >= 0.98 and growth < 1.5
        what = "CPU time" if all(c.cpu_seconds for c in ok) else "wall clock"
        lines += [
            "",
            f"Least-squares fit of the evaluation's {what} over the {len(ok)} sizes (CPU time "
            "is what the program costs; the wall clock also holds the time other processes had "
            f"the 2 cores: {1000 * wall_slope:.1f} ms per hospital, R² = {wall_r2:.4f}): "
            f"evaluation = {1000 * slope:.1f} ms per "
            f"hospital {'+' if intercept >= 0 else '-'} {abs(intercept):.2f} s, R² = {r2:.4f}; "
            f"peak RSS {1024 * mem_slope:.0f} KiB per hospital (R² = {mem_r2:.4f}). The time "
            f"per hospital changes {growth:.2f}x from {first.hospitals} to {last.hospitals}: "
            f"{'linear' if linear else 'not linear'} (R² >= 0.98 and under 1.5x).",
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
    program = summarize(_values(_of(samples, REFERENCE, n), "working"))
    if program is None:
        return []
    deploy = summarize(_values(_of(samples, REFERENCE, n), "deploy"))
    parts = [
        f"- 1 manager + {n} workers: (a) at the default parallelism deploys in "
        f"{show(deploy).split(' ')[0]} s and works at {program.median:.1f} s"
    ]
    for tool in ("program-unbounded", "manual", "ansible", "ansible-forks"):
        other = summarize(_values(_of(samples, tool, n), "working"))
        if other is not None:
            parts.append(
                f"{SHORT[tool]} works at {other.median:.1f} s "
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
        lines.append(f"- {LABELS.get(s.tool, s.tool)}, N={s.workers}, run {s.run}: {text}")
    return [*lines, ""]


def _runs_line(samples: Sequence[Sample], meta: dict[str, Any]) -> list[str]:
    lines = []
    if meta.get("parallel_default"):
        lines.append(
            f"(a) runs twice in every run: at the CLI's default `--parallel` "
            f"{meta['parallel_default']} ({meta.get('parallel_default_derivation', '')}), "
            "and unbounded (`--parallel 2147483647`, the CLI's default before 4 x GOMAXPROCS)."
        )
    definitions = sorted({s.working_definition for s in samples if s.working_definition})
    if definitions:
        lines.append(f'"Working" here means: {"; ".join(definitions)}.')
    counts = sorted({(s.workers, s.tool, s.run) for s in samples})
    per: dict[tuple[int, str], int] = {}
    for n, tool, _ in counts:
        per[(n, tool)] = per.get((n, tool), 0) + 1
    fewer = [f"{SHORT[t]} at 1+{n}: {k}" for (n, t), k in sorted(per.items()) if t not in PROGRAMS]
    if meta.get("peer_runs"):
        lines.append(
            "Fewer runs of the slow peers to fit the time (runs per tool and size): "
            + ", ".join(fewer)
            + "."
        )
    return [" ".join(lines), ""] if lines else []


def projection_inputs(
    meta: dict[str, Any],
) -> tuple[Wan, int, int, dict[int, list[Node]]]:
    """The projection's parameters and the program's graphs, as the run saved them."""
    settings = meta.get("projection") or {}
    wan = Wan(rtt=float(settings.get("rtt", Wan().rtt)))
    graphs = {
        int(size): [Node(n, t, tuple(d)) for n, t, d in nodes]
        for size, nodes in (meta.get("graphs") or {}).items()
    }
    return wan, int(settings.get("parallel", 8)), int(settings.get("forks", 5)), graphs


def render(
    samples: Sequence[Sample],
    costs: Sequence[EvalCost],
    machine: dict[str, str],
    run: Run,
    notes: str,
    meta: dict[str, Any] | None = None,
    analysis: str = "",
) -> str:
    meta = meta or {}
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
    lines += ["", _load_line(samples), "", *_runs_line(samples, meta), "## Results", ""]
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
            "floor). The target is (a)'s time to working within "
            f"{TARGET_FLOOR_RATIO}x of its floor. *engine span* is (a)'s first step start to "
            "last step end; the rest of the deploy's wall clock is the worker process (Python "
            "start, SDK imports, program evaluation, state).",
            "",
        ]
        for n in sizes:
            lines += floor_table(samples, n)
        lines += ["## Adding and removing one hospital", ""]
        for n in sizes:
            lines += add_table(samples, n)
    lines += changes.section(samples, SHORT)
    lines += cpu_table(samples, sizes)
    wan, parallel, forks, graphs = projection_inputs(meta)
    projected = projected_.project(samples, graphs, wan, parallel, forks)
    lines += projected_.section(projected, samples, wan, parallel, forks)
    lines += targets.section(samples, projected)
    lines += touches_table(samples, sizes)
    lines += gap_table(samples, sizes)
    if analysis.strip():
        lines += [analysis.strip(), ""]
    lines += memory_lines(samples)
    lines += evalcost_table(costs)
    lines += ["## Machine", ""]
    lines += [f"- {key}: {value}" for key, value in machine.items()]
    lines += ["", notes.strip(), ""]
    lines += problems_section(samples)
    return "\n".join(lines).rstrip() + "\n"


CPU_ACTIONS = ("deploy", "rerun", "add")


def _median_of(samples: Sequence[Sample], action: str, key: str) -> str:
    values = [s.cpu[action][key] for s in samples if key in s.cpu.get(action, {})]
    return f"{statistics.median(values):.1f}" if values else "-"


def cpu_table(samples: Sequence[Sample], sizes: Sequence[int]) -> list[str]:
    rows = [s for s in samples if s.cpu]
    if not rows:
        return []
    methods = sorted({s.cpu_method for s in rows if s.cpu_method})
    lines = [
        "## Cost: CPU-seconds per hospital",
        "",
        "CPU-seconds (user + system) per action, medians of the runs. *operator*: the tool's "
        f"whole process tree on this machine ({'; '.join(methods) or 'not measured'}). *hosts*: "
        "every process of every lab host (sshd, dockerd, containerd, the containers), from "
        "`/proc/PID/stat` utime + stime + cutime + cstime under each host's PID 1, sampled "
        "before and after (`bench/cost.py`): while the tool's command ran, and until the "
        "federation worked. Per hospital: (operator + hosts until working) / (N + 1) for a "
        "deploy; (operator + hosts) / (N + 1) for the no-change re-run; an add is per added "
        "hospital. The hosts' figures include their idle work (dockerds, the stand-ins' "
        "loops) over the window, and the bench's own reads (the master's answer every 0.2 s, "
        "one end-state read). (a)'s deploy includes its data-plane probe (a step of the "
        "deploy); (b) and (c) run no probe.",
        "",
        "| size | tool | action | operator | hosts (command) | hosts (until working) "
        "| per hospital |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in sizes:
        for tool in LABELS:
            mine = [s for s in _of(samples, tool, n) if s.cpu]
            for action in CPU_ACTIONS:
                per = [v for s in mine if (v := targets.cpu_per_hospital(s, action)) is not None]
                if not per:
                    continue
                lines.append(
                    f"| 1+{n} | {SHORT[tool]} | {action} | "
                    f"{_median_of(mine, action, 'operator')} | {_median_of(mine, action, 'hosts')} "
                    f"| {_median_of(mine, action, 'hosts_until_working')} "
                    f"| **{statistics.median(per):.2f}** |"
                )
    return [*lines, ""]
