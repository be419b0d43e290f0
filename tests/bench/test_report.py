"""Smoke test of the benchmark's bookkeeping: floors, summaries, the report. No lab, no timing."""

from __future__ import annotations

from datetime import UTC, datetime

from bench import endstate, report
from bench.evalcost import EvalCost, synthetic_config
from bench.floor import from_operations, from_steps, span
from bench.runner import Sample
from bench.stats import ratio, summarize


def _op(name: str, type_: str, start: float, duration: float) -> dict[str, object]:
    def stamp(seconds: float) -> str:
        return datetime.fromtimestamp(1_800_000_000 + seconds, UTC).isoformat()

    return {
        "name": name,
        "type": type_,
        "op": "create",
        "status": "ok",
        "start": stamp(start),
        "end": stamp(start + duration),
        "duration": duration,
    }


CMD = "command:remote:Command"
OPS = [
    _op("leader-docker", "pulumi:providers:docker", 0.0, 0.0),
    _op("swarm-init", CMD, 0.0, 1.0),
    _op("join-a", CMD, 1.0, 0.5),
    _op("join-b", CMD, 1.0, 0.8),
    _op("node-hub", CMD, 1.0, 0.2),
    _op("node-a", CMD, 1.5, 0.3),
    _op("node-b", CMD, 1.8, 0.4),
    _op("overlay-network", "docker:index/network:Network", 1.2, 0.1),
    _op("exareme-master", "docker:index/service:Service", 1.3, 0.2),
    _op("exareme-worker-b", "docker:index/service:Service", 2.2, 0.5),
]


def test_floor_from_the_operations_log() -> None:
    floor = from_operations(OPS)
    assert floor is not None
    assert (floor.init, floor.join, floor.label, floor.network, floor.service) == (
        1.0,
        0.8,
        0.3,
        0.1,
        0.5,
    )
    assert round(floor.total, 6) == 2.7
    assert span(OPS) == 2.7


def test_floor_from_the_manual_step_log() -> None:
    steps = {"init": 1.0, "join-a": 0.4, "label-hub": 0.3, "label-a": 0.5, "network": 0.2}
    steps |= {"service-exareme-keystore": 0.3, "service-exareme-worker-a": 0.6}
    floor = from_steps(steps)
    assert floor is not None and round(floor.total, 6) == 2.6


def test_summaries_and_ratios() -> None:
    summary = summarize([3.0, 1.0, 2.0])
    assert summary is not None and (summary.median, summary.low, summary.high) == (2.0, 1.0, 3.0)
    assert str(summary) == "2.0 (1.0-3.0)"
    assert ratio(summarize([6.0]), summary) == "3.00x"
    assert summarize([]) is None


def test_differences_name_each_path() -> None:
    wanted = {"nodes": {"h1": {"name": "hub"}}, "services": {"s": {"running_on": ["h1"]}}}
    seen = {"nodes": {"h1": {"name": "x"}}, "services": {}}
    assert endstate.differences(seen, wanted) == [
        "nodes.h1.name: 'x' != 'hub'",
        "services.s: missing",
    ]


def test_the_report_renders_every_section() -> None:
    samples = [
        Sample("program", 9, 1, 1.0, 5.0, 6.0, 1.0, 8.0, from_operations(OPS), span(OPS), True),
        Sample("manual", 9, 1, 1.0, 15.0, 16.0, 9.0, 40.0, None, None, True),
        Sample("ansible", 9, 1, 1.0, problems=["deploy failed: boom"]),
    ]
    costs = [EvalCost(10, 37, 1.0, 0.3, 60, 63), EvalCost(100, 307, 1.0, 2.6, 60, 82)]
    run = report.Run("python -m bench", datetime(2026, 1, 1, tzinfo=UTC), 20)
    text = report.render(samples, costs, {"kernel": "x"}, run, "## Method")
    assert "| (c) 2018 manual procedure, serial ssh | 15.0 |" in text
    assert "3.00x" in text  # manual deploy over (a)'s
    assert "**2.70**" in text and "1.85x" in text  # floor and (a)'s deploy over it
    assert "## Problems seen" in text and "boom" in text
    assert "| 100 | 307 |" in text


def test_synthetic_stacks_have_distinct_addresses() -> None:
    nodes = synthetic_config(500)["nodes"]
    assert len({n["host"] for n in nodes}) == 500
    assert [n["role"] for n in nodes].count("manager") == 1
