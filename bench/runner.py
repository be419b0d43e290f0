"""The measurement loop: per size, per run, per tool, on a factory-reset lab: deploy, wait for a
working federation, check the end state, re-run with no change, tear down, check nothing is left.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import endstate
from bench.floor import Floor, from_operations, from_steps, span
from bench.spec import PREFIX, SUBNET, Federation
from bench.tools.ansible import DEFAULT_FORKS, AnsibleTool
from bench.tools.base import Outcome, Tool
from bench.tools.manual import ManualTool
from bench.tools.program import ProgramTool
from tests.lab import Lab

TOOL_KEYS = ("program", "ansible", "ansible-forks", "manual")


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
    working: float | None = None  # from the deploy's start until every task runs on its node
    rerun: float | None = None
    teardown: float | None = None
    floor: Floor | None = None
    engine_span: float | None = None  # (a): first step start to last step end
    same_end_state: bool = False
    problems: list[str] = field(default_factory=list)


@dataclass
class Options:
    workers: list[int]
    runs: int
    tools: list[str]
    workdir: Path
    max_load: float | None
    max_load_wait: float


def make_tools(lab: Lab, federation: Federation, keys: list[str]) -> list[Tool]:
    n = len(federation.workers)
    tools: list[Tool] = []
    for key in keys:
        if key == "program":
            tools.append(ProgramTool(lab, federation))
        elif key == "ansible":
            tools.append(AnsibleTool(lab, federation, None))
        elif key == "ansible-forks" and n + 1 > DEFAULT_FORKS:
            tools.append(AnsibleTool(lab, federation, n + 1))
        elif key == "manual":
            tools.append(ManualTool(lab, federation))
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


def _timed(action: str, tool: Tool, sample: Sample) -> tuple[float, Outcome]:
    started = time.monotonic()
    outcome = getattr(tool, action)()
    elapsed = time.monotonic() - started
    if not outcome.ok:
        sample.problems.append(f"{action} failed: {outcome.detail[-1500:]}")
    return elapsed, outcome


def measure(lab: Lab, federation: Federation, tool: Tool, run: int, options: Options) -> Sample:
    n = len(federation.workers)
    workdir = options.workdir / f"n{n}" / f"run{run}" / tool.key
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    lab.reset()
    tool.prepare(workdir)
    sample = Sample(tool.key, n, run, _wait_for_quiet(options))
    log(f"N={n} run {run}: {tool.label} (load {sample.load:.1f})")
    started = time.monotonic()
    try:
        deployed, outcome = _timed("deploy", tool, sample)
        if not outcome.ok:
            return sample
        sample.deploy = deployed
        if outcome.operations:
            sample.floor = from_operations(outcome.operations)
            sample.engine_span = span(outcome.operations)
        elif outcome.steps:
            sample.floor = from_steps(outcome.steps)
        when, problems = endstate.wait_working(lab, federation)
        sample.same_end_state = not problems
        if problems:
            sample.problems.append("end state differs: " + "; ".join(problems[:10]))
            return sample
        sample.working = when - started
        rerun, outcome = _timed("rerun", tool, sample)
        sample.rerun = rerun if outcome.ok else None
        still = endstate.differences(
            endstate.observe(lab, federation), endstate.expected(federation)
        )
        if still:
            sample.problems.append("after the re-run: " + "; ".join(still[:10]))
        teardown, outcome = _timed("teardown", tool, sample)
        left = endstate.torn_down(lab, federation)
        sample.teardown = teardown if outcome.ok and not left else None
        if left:
            sample.problems.append("after the teardown: " + "; ".join(left))
    finally:
        tool.cleanup()
        log(
            f"  deploy {_s(sample.deploy)} working {_s(sample.working)} rerun {_s(sample.rerun)} "
            f"teardown {_s(sample.teardown)}"
            + (f" floor {sample.floor.total:.1f}" if sample.floor else "")
            + (f" PROBLEMS: {sample.problems}" if sample.problems else "")
        )
    return sample


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def run_all(options: Options) -> list[Sample]:
    lab = Lab(PREFIX, SUBNET)
    samples: list[Sample] = []
    for n in options.workers:
        lab.up(n + 1)
        federation = Federation.on_lab(lab, n)
        tools = make_tools(lab, federation, options.tools)
        for run in range(1, options.runs + 1):
            shift = (run - 1) % len(tools)  # rotate the order so no tool always goes first
            for tool in tools[shift:] + tools[:shift]:
                samples.append(measure(lab, federation, tool, run, options))
    return samples
