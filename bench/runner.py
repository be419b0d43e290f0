"""The measurement loop: per size, per run, per tool, on a factory-reset lab: deploy, wait for a
working federation, check the end state, re-run with no change (counting the hosts it touches),
add one hospital (the lab's spare host), remove it again, upgrade Exareme to the lab's second tag
(a client polling the master throughout each of these three changes), tear down, check nothing
is left.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import availability, cost, endstate, evidence, restarts, timeline
from bench.dag import from_operations as graph_from_operations
from bench.floor import (
    AddFloor,
    Floor,
    add_from_operations,
    add_from_steps,
    from_operations,
    from_steps,
    span,
)
from bench.spec import MASTER, PREFIX, SUBNET, UPGRADE_IMAGE, Federation
from bench.tools.ansible import DEFAULT_FORKS, AnsibleTool
from bench.tools.base import Outcome, Tool
from bench.tools.manual import ManualTool
from bench.tools.program import ProgramTool
from bench.touch import Counter
from tests.lab import Lab

TOOL_KEYS = (
    "program",
    "program-unbounded",
    "program-serial",
    "ansible",
    "ansible-forks",
    "manual",
)
# --parallel 1: every step alone, for the projection's uncontended step durations; one run.
CALIBRATION = "program-serial"
PEERS = ("ansible", "ansible-forks", "manual")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@dataclass
class Sample:
    """One tool, one size, one run."""

    tool: str
    workers: int
    run: int
    load: float  # 1-minute load average when the deploy started
    deploy: float | None = None  # the tool's wall clock
    working: float | None = None  # from the deploy's start until the federation works
    rerun: float | None = None
    teardown: float | None = None
    floor: Floor | None = None
    engine_span: float | None = None  # (a): first step start to last step end
    same_end_state: bool = False
    problems: list[str] = field(default_factory=list)
    add: float | None = None  # adding one hospital: the tool's wall clock
    add_working: float | None = None  # from the add's start until the larger federation works
    add_floor: AddFloor | None = None
    remove: float | None = None
    remove_working: float | None = None
    parallel: int | None = None  # (a): --parallel
    touches: dict[str, Any] = field(default_factory=dict)  # action -> Touches.as_dict()
    timeline: dict[str, dict[str, float]] = field(default_factory=dict)  # service -> phases
    deploy_end: float | None = None  # seconds from the deploy's start (= deploy)
    memory: dict[str, int] = field(default_factory=dict)  # lab memory once working (bytes)
    working_definition: str = ""
    # action -> CPU-seconds: "operator" (the tool's process tree), "hosts" (every lab host's
    # processes while the action ran), "hosts_until_working" (until the federation worked)
    cpu: dict[str, dict[str, float]] = field(default_factory=dict)
    cpu_method: str = ""
    steps: dict[str, float] = field(default_factory=dict)  # the deploy's step -> seconds
    evidence: dict[str, str] = field(default_factory=dict)  # action -> directory, on a timeout
    # the deploy's step graph from its operations log: [name, type, [dependency names]] per step
    graph: list[list[Any]] = field(default_factory=list)
    upgrade: float | None = None  # every Exareme service to the new image: the tool's wall clock
    upgrade_working: float | None = None  # until all run the new image and the federation works
    # add/remove/upgrade -> what the poller saw (availability.Availability.as_dict()), with
    # "restarted" (services of the federation before the change that got a new task) and
    # "master_switch" ([old master stopped, new master started], seconds from the change's
    # start, or None), "master_down" (from the old master's stop to the first answer after the
    # new one started) and "failed_outside_master" (failed polls outside that window)
    availability: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Options:
    workers: list[int]
    runs: int
    tools: list[str]
    workdir: Path
    max_load: float | None
    max_load_wait: float
    # size -> runs of (b)/(c), or "tool@size" -> runs of that tool (0: not run)
    peer_runs: dict[int | str, int] = field(default_factory=dict)
    forks_sizes: list[int] | None = None  # sizes where (b) also runs with forks = N+1 (None: all)
    prefix: str = PREFIX  # the bench's lab
    subnet: str = SUBNET


def make_tools(
    lab: Lab,
    federation: Federation,
    plus: Federation,
    keys: list[str],
    forks_sizes: list[int] | None = None,
) -> list[Tool]:
    n = len(federation.workers)
    tools: list[Tool] = []
    for key in keys:
        if key == "program":
            tools.append(ProgramTool(lab, federation, plus))
        elif key == "program-unbounded":
            tools.append(ProgramTool(lab, federation, plus, unbounded=True))
        elif key == CALIBRATION:
            tools.append(ProgramTool(lab, federation, plus, parallel=1))
        elif key == "ansible":
            tools.append(AnsibleTool(lab, federation, None, plus))
        elif key == "ansible-forks" and n + 1 > DEFAULT_FORKS and n in (forks_sizes or [n]):
            tools.append(AnsibleTool(lab, federation, n + 1, plus))
        elif key == "manual":
            tools.append(ManualTool(lab, federation, plus))
    return tools


def _wait_for_quiet(options: Options) -> float:
    """Wait (bounded) for the machine's load to drop; returns the load when starting."""
    load = os.getloadavg()[0]
    if options.max_load is None:
        return load
    deadline = time.monotonic() + options.max_load_wait
    while load > options.max_load and time.monotonic() < deadline:
        time.sleep(5)
        load = os.getloadavg()[0]
    return load


@dataclass
class Meters:
    """What is counted around every action: host touches, and CPU on both sides."""

    lab: Lab
    operator: cost.OperatorMeter
    counter: Counter | None = None
    hosts_before: dict[str, float] = field(default_factory=dict)  # at the last action's start


def _timed(
    action: str, tool: Tool, sample: Sample, meters: Meters | None = None
) -> tuple[float, Outcome]:
    counter = meters.counter if meters else None
    if counter is not None:
        counter.zero()
    cpu: dict[str, float] = {}
    if meters is not None:
        meters.hosts_before = cost.hosts_seconds(meters.lab)
    started = time.monotonic()
    if meters is not None:
        with meters.operator.measure(cpu):
            outcome = getattr(tool, action)()
    else:
        outcome = getattr(tool, action)()
    elapsed = time.monotonic() - started
    if meters is not None:
        cpu["hosts"] = cost.delta(meters.hosts_before, cost.hosts_seconds(meters.lab))
        sample.cpu[action] = cpu
    if counter is not None and (touched := counter.read()) is not None:
        sample.touches[action] = touched.as_dict()
    if not outcome.ok:
        sample.problems.append(f"{action} failed: {outcome.detail[-1500:]}")
    return elapsed, outcome


def _memory(lab: Lab) -> dict[str, int]:
    usage = lab.memory()
    return {
        "hosts": len(usage),
        "rss": sum(m.rss for m in usage.values()),
        "pss": sum(m.pss for m in usage.values()),
        "max_host_pss": max((m.pss for m in usage.values()), default=0),
    }


def _until_working(
    lab: Lab,
    federation: Federation,
    action: str,
    sample: Sample,
    meters: Meters | None,
    workdir: Path,
    poller: availability.Poller | None = None,
) -> tuple[float, list[str]]:
    """Wait for "working" (reading the poller's answers when one runs); count the hosts' CPU
    since the action's start; on a timeout keep the evidence (the master's log, the keystore's
    keys, the task states) in the run's directory."""
    latest = poller.latest if poller is not None else None
    when, problems = endstate.wait_working(lab, federation, latest=latest)
    if meters is not None and action in sample.cpu:
        sample.cpu[action]["hosts_until_working"] = cost.delta(
            meters.hosts_before, cost.hosts_seconds(lab)
        )
    if problems:
        directory = workdir / f"evidence-{action}"
        written = evidence.save(lab, directory)
        sample.evidence[action] = str(directory)
        problems = [*problems, f"evidence kept in {directory}: {', '.join(written)}"]
    return when, problems


def measure(
    lab: Lab,
    federation: Federation,
    plus: Federation,
    tool: Tool,
    run: int,
    options: Options,
    meters: Meters | None = None,
) -> Sample:
    n = len(federation.workers)
    workdir = options.workdir / f"n{n}" / f"run{run}" / tool.key
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    lab.reset()
    tool.prepare(workdir)
    sample = Sample(tool.key, n, run, _wait_for_quiet(options))
    sample.parallel = getattr(tool, "parallel", None)
    sample.working_definition = endstate.definition()
    sample.cpu_method = meters.operator.method if meters else ""
    log(f"N={n} run {run}: {tool.label} (load {sample.load:.1f})")
    shape = _as_deployed(tool, federation)
    started = time.monotonic()
    wall = time.time()
    try:
        deployed, outcome = _timed("deploy", tool, sample, meters)
        if not outcome.ok:
            return sample
        sample.deploy = sample.deploy_end = deployed
        sample.steps = dict(outcome.steps)
        if outcome.operations:
            sample.floor = from_operations(outcome.operations)
            sample.engine_span = span(outcome.operations)
            sample.steps = {
                o["name"]: float(o["duration"])
                for o in outcome.operations
                if o["op"] == "create" and o["status"] == "ok"
            }
            sample.graph = [
                [n.name, n.type, list(n.deps)] for n in graph_from_operations(outcome.operations)
            ]
        elif outcome.steps and tool.key == "manual":
            sample.floor = from_steps(outcome.steps)
        when, problems = _until_working(lab, shape(federation), "deploy", sample, meters, workdir)
        sample.same_end_state = not problems
        if problems:
            sample.problems.append("end state differs: " + "; ".join(problems[:10]))
            return sample
        sample.working = when - started
        sample.memory = _memory(lab)
        time.sleep(max(0.0, 1.1 - (time.monotonic() - when)))
        try:
            sample.timeline = timeline.relative(timeline.collect(lab, federation, wall), wall)
        except Exception as error:  # the timeline explains, it is not a result
            sample.problems.append(f"timeline: {error}")
        rerun, outcome = _timed("rerun", tool, sample, meters)
        sample.rerun = rerun if outcome.ok else None
        still = endstate.differences(
            endstate.observe(lab, federation), endstate.expected(shape(federation))
        )
        if still:
            sample.problems.append("after the re-run: " + "; ".join(still[:10]))
            return sample
        _add_and_remove(lab, shape(federation), shape(plus), tool, sample, meters, workdir)
        if not sample.problems:
            _upgrade(lab, shape(federation), tool, sample, meters, workdir)
        teardown, outcome = _timed("teardown", tool, sample, meters)
        left = endstate.torn_down(lab, plus)
        sample.teardown = teardown if outcome.ok and not left else None
        if left:
            sample.problems.append("after the teardown: " + "; ".join(left))
    finally:
        tool.cleanup()
        log(
            f"  deploy {_s(sample.deploy)} working {_s(sample.working)} rerun {_s(sample.rerun)} "
            f"add {_s(sample.add)}/{_s(sample.add_working)} remove {_s(sample.remove)}/"
            f"{_s(sample.remove_working)} upgrade {_s(sample.upgrade)}/"
            f"{_s(sample.upgrade_working)} teardown {_s(sample.teardown)}"
            + "".join(
                f" {action}: {a['failed']} failed polls, {a['unanswered']:.1f}s unanswered"
                for action, a in sample.availability.items()
            )
            + (f" floor {sample.floor.total:.1f}" if sample.floor else "")
            + (f" rerun touches {sample.touches.get('rerun')}" if sample.touches else "")
            + (f" PROBLEMS: {sample.problems}" if sample.problems else "")
        )
    return sample


def _as_deployed(tool: Tool, first: Federation) -> Callable[[Federation], Federation]:
    """What `tool` runs for a federation, once `first` was its first deploy (bench/spec.py)."""
    if tool.trust_boundary:
        return lambda federation: federation.as_the_program_deploys(first)
    return lambda federation: federation


def _change(
    lab: Lab,
    action: str,
    tool: Tool,
    sample: Sample,
    meters: Meters | None,
    workdir: Path,
    before: Federation,
    after: Federation,
) -> tuple[float | None, float | None]:
    """One change of a working federation (`before`) into `after`, with a client polling the
    master from its start until `after` works. Returns (the tool's wall clock, until `after`
    works), None for what did not happen."""
    staying = [n.alias for n in before.workers if n in after.workers]
    check = endstate.exareme_check()
    if check is None:
        return None, None
    poller = availability.Poller(
        lambda: check.master_answer(lab, 1, timeout=availability.TIMEOUT), staying
    )
    since = time.time()
    started = time.monotonic()
    poller.start()
    elapsed: float | None = None
    working: float | None = None
    try:
        took, outcome = _timed(action, tool, sample, meters)
        if outcome.ok:
            elapsed = took
            if action == "add" and outcome.operations:
                sample.add_floor = add_from_operations(outcome.operations, after.workers[-1].alias)
            elif action == "add" and outcome.steps:
                sample.add_floor = add_from_steps(outcome.steps, after.workers[-1].alias)
            when, problems = _until_working(lab, after, action, sample, meters, workdir, poller)
            if problems:
                sample.problems.append(f"after {action}: " + "; ".join(problems[:10]))
            else:
                working = when - started
    finally:
        polls = poller.stop()
    sample.availability[action] = _seen(lab, polls, since, before)
    return elapsed, working


def _seen(
    lab: Lab, polls: list[availability.Poll], since: float, before: Federation
) -> dict[str, Any]:
    """What the poller saw, with what the change restarted (seconds from its start)."""
    seen = availability.summarize(polls).as_dict()
    seen["outages"] = [[round(a - since, 2), round(b - since, 2)] for a, b in seen["outages"]]
    existing = [s.name for s in before.services]
    try:
        seen["restarted"] = restarts.restarted(lab, since, existing)
        switch = restarts.master_switch(lab, since) if MASTER in seen["restarted"] else None
    except Exception as error:  # what restarted explains a miss; it is not the result
        seen["restarted"], switch = [f"could not read: {error}"], None
    window: tuple[float, float] | None = None
    if switch is not None:
        answered = [p.start for p in polls if p.answered and p.start >= switch[1]]
        window = (switch[0], min(answered, default=polls[-1].end if polls else switch[1]))
    seen["master_switch"] = [round(t - since, 2) for t in switch] if switch else None
    seen["master_down"] = round(window[1] - window[0], 2) if window else None
    seen["failed_outside_master"] = availability.failed_outside(polls, window)
    return seen


def _add_and_remove(
    lab: Lab,
    federation: Federation,
    plus: Federation,
    tool: Tool,
    sample: Sample,
    meters: Meters | None,
    workdir: Path,
) -> None:
    """Add the spare host's hospital, wait until the larger federation works; remove it, wait
    until the original one works again (and the node is gone from the swarm)."""
    sample.add, sample.add_working = _change(
        lab, "add", tool, sample, meters, workdir, federation, plus
    )
    sample.remove, sample.remove_working = _change(
        lab, "remove", tool, sample, meters, workdir, plus, federation
    )


def _upgrade(
    lab: Lab,
    federation: Federation,
    tool: Tool,
    sample: Sample,
    meters: Meters | None,
    workdir: Path,
) -> None:
    """Every Exareme service to the lab's second tag; until all run it and the federation works."""
    sample.upgrade, sample.upgrade_working = _change(
        lab, "upgrade", tool, sample, meters, workdir, federation, federation.upgraded()
    )


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def _rotated(tools: list[Tool], run: int) -> list[Tool]:
    if not tools:
        return tools
    shift = (run - 1) % len(tools)
    return tools[shift:] + tools[:shift]


def runs_for(tool: str, n: int, options: Options) -> int:
    if tool == CALIBRATION:
        return min(1, options.runs)
    family = tool.split("-")[0]
    if family not in ("ansible", "manual"):
        return options.runs
    for key in (f"{tool}@{n}", f"{family}@{n}", n):
        if key in options.peer_runs:
            return options.peer_runs[key]
    return options.runs


def run_all(
    options: Options, on_sample: Callable[[list[Sample]], None] | None = None
) -> list[Sample]:
    """Every size, run and tool. A tool with fewer runs (--peer-runs) takes part in the last
    rounds, so that the program's runs come first if the bench must be stopped early;
    `on_sample` gets the samples so far after each one (the bench saves them)."""
    lab = Lab(options.prefix, options.subnet)
    samples: list[Sample] = []
    operator = cost.OperatorMeter(f"{options.prefix}-bench-tool")
    operator.start()
    try:
        for n in options.workers:
            samples += _size(lab, n, options, operator, samples, on_sample)
    finally:
        operator.stop()
    return samples


def _size(
    lab: Lab,
    n: int,
    options: Options,
    operator: cost.OperatorMeter,
    so_far: list[Sample],
    on_sample: Callable[[list[Sample]], None] | None,
) -> list[Sample]:
    samples: list[Sample] = []
    # one spare host: the hospital that is added and removed; the upgrade's second tag
    lab.up(n + 2, images=[UPGRADE_IMAGE])
    federation = Federation.on_lab(lab, n)
    plus = Federation.on_lab(lab, n + 1)
    counter = Counter(lab.bridge, [node.ip for node in plus.nodes], options.prefix)
    counting = counter.start()
    if not counting:
        log("iptables counters unavailable: host touches are not measured")
    meters = Meters(lab, operator, counter if counting else None)
    try:
        tools = make_tools(lab, federation, plus, options.tools, options.forks_sizes)
        programs = [t for t in tools if t.key.startswith("program")]
        peers = [t for t in tools if not t.key.startswith("program")]
        for run in range(1, options.runs + 1):
            # (a)'s variants first (so a stopped run keeps them), each group rotated so
            # that no tool always goes first
            order = _rotated(programs, run) + _rotated(peers, run)
            for tool in order:
                if run <= options.runs - runs_for(tool.key, n, options):
                    continue
                samples.append(measure(lab, federation, plus, tool, run, options, meters))
                if on_sample is not None:
                    on_sample([*so_far, *samples])
    finally:
        counter.stop()
    return samples
