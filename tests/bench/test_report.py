"""Smoke test of the benchmark's bookkeeping: floors, summaries, the report. No lab, no timing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bench import endstate, report, timeline, touch
from bench.evalcost import EvalCost, synthetic_config
from bench.floor import add_from_operations, add_from_steps, from_operations, from_steps, span
from bench.runner import Options, Sample, runs_for
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


def _sample(tool: str, n: int, run: int, **values: object) -> Sample:
    sample = Sample(tool, n, run, 1.0)
    for key, value in values.items():
        setattr(sample, key, value)
    return sample


def test_time_to_working_is_judged_against_the_floor_per_parallelism() -> None:
    floor = from_operations(OPS)  # 2.7 s
    samples = [
        _sample("program", 9, 1, floor=floor, deploy=3.0, working=3.5, parallel=8),
        _sample("program-unbounded", 9, 1, floor=floor, deploy=3.0, working=5.4),
    ]
    assert report.floor_ratios(samples, "program", 9, "working") == [3.5 / 2.7]
    text = "\n".join(report.floor_table(samples, 9))
    assert "(a) default: time to working over its own floor **1.30x**" in text
    assert "meets the 1.5x target" in text
    assert "(a) unbounded: time to working over its own floor **2.00x**" in text
    assert "misses the 1.5x target" in text


def test_adding_a_hospital_is_judged_against_its_own_steps() -> None:
    ops = [
        _op("join-hosp4", CMD, 0.0, 1.0),
        _op("node-hosp4", CMD, 1.0, 0.5),
        _op("exareme-worker-hosp4", "docker:index/service:Service", 1.5, 0.3),
        {**_op("exareme-master", "docker:index/service:Service", 1.5, 0.2), "op": "update"},
    ]
    floor = add_from_operations(ops, "hosp4")
    assert floor is not None and round(floor.total, 6) == 2.0
    assert add_from_operations(ops, "hosp5") is None
    # The program no longer updates the master on an add (issue 21): the floor is the rest.
    without_master = add_from_operations(ops[:3], "hosp4")
    assert without_master is not None and without_master.master is None
    assert round(without_master.total, 6) == 1.8
    assert "| - | **1.80** |" in "\n".join(
        report.add_table([_sample("program", 3, 1, add_floor=without_master, add=2.4)], 3)
    )
    steps = {"join-x": 0.4, "label-x": 0.3, "service-exareme-worker-x": 0.2, "master-update": 0.1}
    manual = add_from_steps(steps, "x")
    assert manual is not None and round(manual.total, 6) == 1.0
    samples = [_sample("program", 3, 1, add_floor=floor, add=2.4, add_working=4.0)]
    text = "\n".join(report.add_table(samples, 3))
    assert "over its add floor **1.20x**" in text and "works **2.00x**" in text


def test_a_rerun_that_sends_one_packet_touches_a_host() -> None:
    quiet = {"connections": 0, "packets": 0, "hosts": []}
    ping = {"connections": 0, "packets": 3, "hosts": ["10.231.3.11"]}
    samples = [
        _sample("program", 29, 1, touches={"rerun": quiet}),
        _sample("program", 29, 2, touches={"rerun": ping}),
        _sample("program-unbounded", 29, 1, touches={"rerun": quiet}),
    ]
    assert report.touches_summary(samples, "program", 29, "rerun")["untouched"] is False
    assert report.touches_summary(samples, "program-unbounded", 29, "rerun")["untouched"]
    text = "\n".join(report.touches_table(samples, [29]))
    assert "(a) default, no-change re-run at 1+29: misses" in text
    assert "(a) unbounded, no-change re-run at 1+29: meets" in text


def test_iptables_counters_are_read_by_comment() -> None:
    listing = """Chain MIPB-BENCH (1 references)
    pkts      bytes target     prot opt in     out     source               destination
       2      120            6    --  *      *       0.0.0.0/0            10.231.3.11          tcp flags:0x17/0x02 /* syn 10.231.3.11 */
      41     9000            0    --  *      *       0.0.0.0/0            10.231.3.11          /* all 10.231.3.11 */
       0        0            0    --  *      *       0.0.0.0/0            10.231.3.12          /* all 10.231.3.12 */
       0        0 RETURN     0    --  *      *       0.0.0.0/0            0.0.0.0/0
"""  # noqa: E501
    touches = touch.parse(listing)
    assert touches.connections == {"10.231.3.11": 2}
    assert touches.packets == {"10.231.3.11": 41, "10.231.3.12": 0}
    assert touches.as_dict() == {"connections": 2, "packets": 41, "hosts": ["10.231.3.11"]}


def test_the_gap_takes_the_last_service_per_phase() -> None:
    timeline_ = {
        "exareme-master": {"created": 1.0, "task_created": 1.1, "pulled": 3.0, "running": 6.0},
        "exareme-worker-a": {"created": 2.0, "task_created": 2.2, "pulled": 2.5, "running": 9.0},
    }
    sample = _sample("program", 3, 1, timeline=timeline_, deploy=2.5, working=9.4)
    assert report.gap_phases(sample) == {
        "created": 2.0,
        "task_created": 2.2,
        "pulled": 3.0,
        "running": 9.0,
    }
    steps = report.gap_steps(sample)
    assert round(steps["created→task_created max"], 6) == 0.2
    assert "| 1+3 | (a) default | 2.5 | 2.0 | 2.2 | 3.0 | - | - | 9.0 | 9.4 |" in "\n".join(
        report.gap_table([sample], [3])
    )


def test_docker_timestamps_keep_their_nanoseconds() -> None:
    assert timeline.epoch("2026-12-01T05:20:01.123456789Z") == 1796102401.123456789
    assert timeline.epoch("2026-12-01T05:20:01Z") == 1796102401.0


def test_the_evaluation_cost_fit_tells_linear_from_quadratic() -> None:
    slope, intercept, r2 = report.linear_fit([30, 100, 500], [0.3, 1.0, 5.0])
    assert round(slope, 6) == 0.01 and abs(intercept) < 1e-9 and r2 == 1.0
    linear = [EvalCost(n, 3 * n, 0.3, 0.01 * n, 60, 60 + n / 5) for n in (30, 100, 500)]
    assert "10.0 ms per hospital" in "\n".join(report.evalcost_table(linear))
    assert ": linear" in "\n".join(report.evalcost_table(linear))
    square = [EvalCost(n, 3 * n, 0.3, 0.0001 * n * n, 60, 60) for n in (30, 100, 500)]
    assert "not linear" in "\n".join(report.evalcost_table(square))
    # Under others' load the wall clock bends; the CPU time decides when it was measured.
    loaded = [
        EvalCost(n, 3 * n, 0.3, 0.0001 * n * n, 60, 60, cpu_seconds=0.01 * n)
        for n in (30, 100, 500)
    ]
    text = "\n".join(report.evalcost_table(loaded))
    assert "evaluation's CPU time" in text and "10.0 ms per" in text and ": linear" in text


def test_peers_run_fewer_times_only_where_asked(tmp_path: Path) -> None:
    options = Options([3, 29], 3, ["program", "manual"], tmp_path, None, 60, {29: 1})
    assert runs_for("manual", 29, options) == 1
    assert runs_for("ansible-forks", 29, options) == 1
    assert runs_for("program-unbounded", 29, options) == 3
    assert runs_for("manual", 3, options) == 3
    options.peer_runs = {29: 1, "ansible@29": 0, "ansible-forks@9": 2}
    assert runs_for("ansible", 29, options) == 0 and runs_for("ansible-forks", 29, options) == 0
    assert runs_for("manual", 29, options) == 1 and runs_for("ansible-forks", 9, options) == 2
    assert runs_for("ansible", 9, options) == 3


def test_lab_memory_is_reported_at_the_largest_size() -> None:
    gib = 2**30
    samples = [
        _sample("program", 3, 1, memory={"hosts": 5, "rss": gib, "pss": gib, "max_host_pss": 1}),
        _sample(
            "program",
            29,
            1,
            memory={"hosts": 31, "rss": 6 * gib, "pss": 3 * gib, "max_host_pss": 300 * 2**20},
        ),
    ]
    text = "\n".join(report.memory_lines(samples))
    assert "At 1 + 29 workers" in text and "**3.00 GiB PSS**" in text and "300 MiB" in text


def test_a_restarted_task_is_named() -> None:
    once = {"created": 1.0, "running": 2.0, "tasks": 1}
    twice = {"created": 1.0, "running": 8.0, "tasks": 2}
    calm = _sample("program", 9, 1, timeline={"exareme-master": once})
    restarted = _sample("program", 9, 2, timeline={"exareme-master": once, "w": twice})
    assert "in the 1 runs that counted tasks: none." in "\n".join(report.gap_table([calm], [9]))
    text = "\n".join(report.gap_table([calm, restarted], [9]))
    assert "in the 2 runs that counted tasks: 1+9 (a) default run 2: w." in text
