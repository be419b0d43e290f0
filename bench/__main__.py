"""python -m bench: time to a working federation, (a) the program vs (b) Ansible vs (c) the 2018
manual procedure, on a fresh lab per run; writes docs/benchmarks.md. Needs root."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import dag, evalcost, machine, projected, report
from bench.floor import AddFloor, Floor
from bench.projection import Wan
from bench.runner import TOOL_KEYS, Options, Sample, log, run_all
from bench.spec import PREFIX, SUBNET
from bench.tools.ansible import DEFAULT_FORKS, TARGET_PYTHON, ansible_bin
from tests.engine.runner import default_parallel
from tests.lab import Lab

ROOT = Path(__file__).resolve().parents[1]
METHOD = Path(__file__).with_name("method.md")
# What the numbers say, written from a run's measurements (kept apart from the method).
ANALYSIS = Path(__file__).with_name("analysis.md")


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _sizes(text: str) -> dict[int | str, int]:
    """ "29:1" (every peer at 29) or "ansible@29:0" (one tool family or key at a size)."""
    out: dict[int | str, int] = {}
    for part in text.split(","):
        if part.strip():
            where, runs = part.strip().rsplit(":", 1)
            out[where if "@" in where else int(where)] = int(runs)
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--workers", type=_ints, default=[3, 9, 29], help="sizes N (1 manager + N)")
    parser.add_argument("--runs", type=int, default=3, help="runs per tool and size (>= 3)")
    parser.add_argument(
        "--only",
        default="program,ansible,manual",
        help="tools: program (default --parallel and unbounded), ansible (default forks and "
        "forks = N+1), manual",
    )
    parser.add_argument(
        "--peer-runs",
        type=_sizes,
        default={},
        help="fewer runs of (b) and (c): SIZE:RUNS or TOOL@SIZE:RUNS (0: not run), e.g. "
        "29:1,ansible@29:0",
    )
    parser.add_argument(
        "--forks-sizes",
        type=_ints,
        default=None,
        help="sizes at which (b) also runs with forks = N+1 (default: every size above 4)",
    )
    parser.add_argument(
        "--eval-sizes", type=_ints, default=[30, 100, 500], help="hospitals for the mocks cost"
    )
    parser.add_argument(
        "--quick", action="store_true", help="N=3, 1 run, evaluation cost for 30 and 100 only"
    )
    parser.add_argument("--out", type=Path, help="default docs/benchmarks.md (quick: workdir)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "mip-bench")
    parser.add_argument("--keep-lab", action="store_true", help="leave the bench lab up")
    parser.add_argument(
        "--max-load",
        type=float,
        default=None,
        help="before each deploy wait (at most --max-load-wait s) for the 1-min load to drop",
    )
    parser.add_argument("--max-load-wait", type=float, default=60.0)
    parser.add_argument("--prefix", default=PREFIX, help=f"the bench lab's prefix ({PREFIX})")
    parser.add_argument("--subnet", default=SUBNET, help=f"the bench lab's /24 ({SUBNET})")
    parser.add_argument(
        "--rtt", type=float, default=Wan().rtt, help="projection: the WAN's round trip, seconds"
    )
    parser.add_argument(
        "--projection-parallel",
        type=int,
        default=default_parallel(),
        help="projection: (a)'s --parallel (default the CLI's, 4 x CPUs)",
    )
    parser.add_argument(
        "--projection-forks", type=int, default=DEFAULT_FORKS, help="projection: (b)'s forks"
    )
    parser.add_argument(
        "--report-only", type=Path, help="rewrite the report from a results.json of a run"
    )
    parser.add_argument(
        "--eval-again",
        action="store_true",
        help="with --report-only: measure the evaluation cost again (--eval-sizes) into it",
    )
    return parser


def _tools(only: str) -> list[str]:
    wanted = {part.strip() for part in only.split(",") if part.strip()}
    unknown = wanted - {"program", "ansible", "manual"}
    if unknown:
        raise SystemExit(f"unknown tool(s) {sorted(unknown)}; use program, ansible, manual")
    keys = [k for k in TOOL_KEYS if k.split("-")[0] in wanted]
    return keys


def _check_ansible() -> None:
    if subprocess.run(
        [ansible_bin("ansible-playbook"), "--version"], capture_output=True
    ).returncode:
        raise SystemExit("ansible-playbook not found: venv/bin/pip install ansible")
    probe = [TARGET_PYTHON, "-c", "import docker"]
    if subprocess.run(probe, capture_output=True).returncode:
        log("installing Debian's python3-docker (community.docker needs the SDK on the targets)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "python3-docker"]
        if subprocess.run(install, env=env, capture_output=True).returncode:
            raise SystemExit("apt-get install python3-docker failed; install it and re-run")


def _revision() -> str:
    """The commit measured, and whether the program, the engine double or the lab (its
    stand-in images) had local changes."""
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        [
            "git",
            "status",
            "--porcelain",
            "--",
            "__main__.py",
            "federation",
            "tests/engine",
            "tests/lab",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    changed = sorted({line[3:] for line in dirty if line.strip()})
    return head + (f" with local changes to {', '.join(changed)}" if changed else "")


def _sample(data: dict[str, Any]) -> Sample:
    floor = data.pop("floor")
    add_floor = data.pop("add_floor", None)
    return Sample(
        **data,
        floor=Floor(**floor) if floor else None,
        add_floor=AddFloor(**add_floor) if add_floor else None,
    )


def _save(
    path: Path, samples: list[Sample], costs: list[evalcost.EvalCost], meta: dict[str, Any]
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "meta": meta,
        "samples": [asdict(s) for s in samples],
        "evalcost": [asdict(c) for c in costs],
    }
    path.write_text(json.dumps(document, indent=1))


def _write_report(
    out: Path, samples: list[Sample], costs: list[evalcost.EvalCost], meta: dict[str, Any]
) -> None:
    run = report.Run(meta["command"], datetime.fromisoformat(meta["started"]), meta["minutes"])
    analysis = ANALYSIS.read_text() if ANALYSIS.exists() else ""
    text = report.render(samples, costs, meta["machine"], run, METHOD.read_text(), meta, analysis)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    log(f"wrote {out}")


def _parallel_derivation() -> str:
    configured = os.environ.get("PULUMI_PARALLEL", "")
    if configured.strip().isdigit() and int(configured) > 0:
        return f"PULUMI_PARALLEL={configured}"
    cpus = len(os.sched_getaffinity(0))
    return f"4 x {cpus} CPUs this process may run on (os.sched_getaffinity; Go's GOMAXPROCS)"


def _projection_meta(args: argparse.Namespace) -> dict[str, Any]:
    """The projection's parameters, and the program's step graphs at its sizes (under mocks)."""
    return {
        "projection": {
            "rtt": args.rtt,
            "parallel": args.projection_parallel,
            "forks": args.projection_forks,
        },
        "graphs": {
            str(size): [[n.name, n.type, list(n.deps)] for n in dag.graph(size)]
            for size in projected.SIZES
        },
    }


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.report_only:
        document = json.loads(args.report_only.read_text())
        document["meta"] |= _projection_meta(args)
        if args.eval_again:
            log(f"measuring the evaluation cost for {args.eval_sizes} hospitals")
            document["evalcost"] = [asdict(c) for c in evalcost.measure(args.eval_sizes)]
            args.report_only.write_text(json.dumps(document, indent=1))
        _write_report(
            args.out or ROOT / "docs/benchmarks.md",
            [_sample(s) for s in document["samples"]],
            [evalcost.EvalCost(**c) for c in document["evalcost"]],
            document["meta"],
        )
        return 0
    if os.geteuid() != 0:
        raise SystemExit("the bench needs root (it brings up its own lab)")
    if args.quick:
        args.workers, args.runs, args.eval_sizes = [3], 1, [30, 100]
    out = args.out or (
        args.workdir / "benchmarks-quick.md" if args.quick else ROOT / "docs/benchmarks.md"
    )
    tools = _tools(args.only)
    if any(t.startswith("ansible") for t in tools):
        _check_ansible()
    started = datetime.now(UTC)
    clock = time.monotonic()
    options = Options(
        args.workers,
        args.runs,
        tools,
        args.workdir,
        args.max_load,
        args.max_load_wait,
        args.peer_runs,
        args.forks_sizes,
        args.prefix,
        args.subnet,
    )
    lab = Lab(args.prefix, args.subnet)
    samples: list[Sample] = []
    # First, on a machine not yet busy with the bench's own lab.
    log(f"measuring the evaluation cost for {args.eval_sizes} hospitals")
    costs = evalcost.measure(args.eval_sizes)

    def partial(so_far: list[Sample]) -> None:
        meta = {
            "command": shlex.join(["python", "-m", "bench", *argv]),
            "started": started.isoformat(),
            "minutes": (time.monotonic() - clock) / 60,
            "machine": {"measured commit": _revision()},
            "partial": True,
        }
        _save(args.workdir / "results.json", so_far, costs, meta)

    try:
        samples = run_all(options, partial)
    finally:
        if not args.keep_lab:
            lab.down()
    meta = {
        "command": shlex.join(["python", "-m", "bench", *argv]),
        "started": started.isoformat(),
        "minutes": (time.monotonic() - clock) / 60,
        "machine": {"measured commit": _revision(), **machine.describe()},
        "parallel_default": default_parallel(),
        "parallel_default_derivation": _parallel_derivation(),
        "peer_runs": {str(k): v for k, v in args.peer_runs.items()},
        "runs": args.runs,
        "forks_sizes": args.forks_sizes,
        **_projection_meta(args),
    }
    _save(args.workdir / "results.json", samples, costs, meta)
    _write_report(out, samples, costs, meta)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
