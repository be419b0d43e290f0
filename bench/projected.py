"""The projection (bench/projection.py) applied to a run's samples, and its report section:
each tool's deploy on independent machines over a WAN, at 1+29 and 1+99."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bench import projection
from bench.projection import Node, Wan
from bench.runner import CALIBRATION, Sample
from bench.spec import aliases

SIZES = (30, 100)  # hospitals: 1+29 and 1+99


@dataclass(frozen=True)
class Projected:
    hospitals: int
    program: float | None = None  # fixed + the steps at `parallel`
    floor: float | None = None  # fixed + the DAG's critical path
    path: list[str] = field(default_factory=list)
    manual: float | None = None
    ansible: float | None = None
    missing: list[str] = field(default_factory=list)  # step kinds with no measured duration
    graph_source: str = ""  # "operations log" (the calibration deploy's) or "mocks"


def _pick(samples: Sequence[Sample], tool: str) -> Sample | None:
    """The tool's calibration: its sample at the largest size with a deploy and step times."""
    ok = [s for s in samples if s.tool == tool and s.deploy is not None and s.steps]
    return max(ok, key=lambda s: (s.workers, -s.run), default=None)


def _workers(n: int) -> list[str]:
    return aliases(n)[1:]


def graph_for(
    serial: Sample | None, hospitals: int, graphs: Mapping[int, Sequence[Node]]
) -> tuple[Sequence[Node], str]:
    """(a)'s step graph at `hospitals`: the one the calibration deploy ran, with the
    dependencies its operations log recorded, when it ran at that size; else the program's
    evaluation under mocks with the engine's own dependency rule (bench/dag.py)."""
    if serial is not None and serial.graph and serial.workers + 1 == hospitals:
        return [Node(name, type_, tuple(deps)) for name, type_, deps in serial.graph], (
            "operations log"
        )
    graph = graphs.get(hospitals) or []
    return graph, "mocks" if graph else ""


def project(
    samples: Sequence[Sample],
    graphs: Mapping[int, Sequence[Node]],
    wan: Wan,
    parallel: int,
    forks: int,
) -> list[Projected]:
    serial = _pick(samples, CALIBRATION)
    manual = _pick(samples, "manual")
    ansible = _pick(samples, "ansible")
    out = []
    for hospitals in SIZES:
        workers = hospitals - 1
        got: dict[str, object] = {"hospitals": hospitals}
        graph, source = graph_for(serial, hospitals, graphs)
        got["graph_source"] = source
        if serial is not None and graph and serial.deploy is not None:
            fixed = serial.deploy - (serial.engine_span or 0.0)
            steps, missing = projection.program_steps(
                graph, serial.steps, _workers(serial.workers), wan, _workers(workers)
            )
            length, path = projection.critical_path(steps)
            got |= {
                "program": fixed + projection.makespan(steps, parallel),
                "floor": fixed + length,
                "path": path,
                "missing": missing,
            }
        if manual is not None and manual.deploy is not None:
            fixed = manual.deploy - sum(manual.steps.values())
            got["manual"] = projection.manual_seconds(
                manual.steps, _workers(manual.workers), workers, fixed, wan
            )
        if ansible is not None and ansible.deploy is not None:
            fixed = ansible.deploy - sum(ansible.steps.values())
            got["ansible"] = projection.ansible_seconds(
                ansible.steps, ansible.workers, 5, workers, forks, fixed, wan
            )
        out.append(Projected(**got))  # type: ignore[arg-type]
    return out


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _x(value: float | None, reference: float | None) -> str:
    if value is None or reference is None or reference <= 0:
        return "-"
    return f"{value / reference:.2f}x"


def section(
    projected: Sequence[Projected], samples: Sequence[Sample], wan: Wan, parallel: int, forks: int
) -> list[str]:
    serial, manual, ansible = (_pick(samples, t) for t in (CALIBRATION, "manual", "ansible"))
    if not any(p.program or p.manual or p.ansible for p in projected):
        return []

    def source(sample: Sample | None, what: str) -> str:
        if sample is None:
            return f"{what}: not measured in this run"
        return f"{what}: 1+{sample.workers} run {sample.run} (load {sample.load:.1f})"

    lines = [
        "## Projection to independent machines (a projection, not a measurement)",
        "",
        "**Projected**, not measured: each tool's deploy (its command, not until working) if "
        "every hospital were its own machine over a WAN of RTT "
        f'{1000 * wan.rtt:.0f} ms. Method and parameters: `bench/method.md`, "How cost and '
        'the projection are measured". '
        "Each step takes its uncontended duration from this run's calibration ("
        + "; ".join(
            [
                source(serial, "(a) at --parallel 1, every step alone"),
                source(manual, "(c)'s step log"),
                source(ansible, "(b)'s profile_tasks"),
            ]
        )
        + f") plus RTT x its round trips (ssh session {wan.ssh_session}, Docker API call "
        f"{wan.docker_call}, swarm join {wan.swarm_join}, Ansible task {wan.ansible_task}). (a): "
        "its step graph, with the dependencies the engine double recorded for each step: at the "
        "calibration's size from that deploy's operations log, else from the program evaluated "
        "under mocks at that size (the size's graph source is listed below); steps started in "
        f"registration order with at most {parallel} at once (the CLI's default for 2 cores); "
        f"the floor is the graph's critical path. (c): its steps one after the other. (b): task "
        f"by task, {forks} hosts at once. Each includes its measured fixed part (the worker "
        "process and evaluation; the playbook's start; the script's token fetch).",
        "",
        f"| hospitals | (a) at --parallel {parallel} | (a) DAG floor | (a) / floor | (c) manual "
        f"| (c) / (a) | (b) forks {forks} | (b) / (a) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in projected:
        lines.append(
            f"| 1+{p.hospitals - 1} | {_s(p.program)} | {_s(p.floor)} | {_x(p.program, p.floor)} "
            f"| {_s(p.manual)} | {_x(p.manual, p.program)} | {_s(p.ansible)} "
            f"| {_x(p.ansible, p.program)} |"
        )
    lines.append("")
    for p in projected:
        if p.graph_source:
            lines.append(f"- 1+{p.hospitals - 1}, (a)'s step graph from: {p.graph_source}.")
        if p.path:
            shown = " → ".join(p.path)
            lines.append(f"- 1+{p.hospitals - 1}, (a)'s critical path: {shown}.")
        if p.missing:
            lines.append(
                f"- 1+{p.hospitals - 1}: step kinds with no measured duration (0 s + WAN): "
                f"{', '.join(p.missing)}."
            )
    return [*lines, ""]
