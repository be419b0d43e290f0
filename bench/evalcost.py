"""Program evaluation cost under Pulumi mocks (no hosts): the real __main__.py with a synthetic
stack of N hospitals (1 manager + N-1 workers), each size in a fresh process so that its peak
resident memory (getrusage ru_maxrss) is its own.

`python -m bench.evalcost N` prints one JSON line; `measure(sizes)` runs one child per size.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class EvalCost:
    hospitals: int
    resources: int
    import_seconds: float  # importing the SDKs and the harness, before the program runs
    seconds: float  # evaluating the program (validation, registrations, outputs)
    baseline_rss_mib: float  # peak RSS after the imports
    peak_rss_mib: float  # peak RSS at the end
    error: str = ""
    cpu_seconds: float = 0.0  # CPU time of the evaluation (all threads): not slowed by others' load


def synthetic_config(hospitals: int) -> dict[str, Any]:
    nodes = [
        {
            "name": "hub" if i == 0 else f"hosp{i}",
            "host": f"10.100.{i // 250}.{i % 250 + 1}",  # distinct, never .0 or .255
            "role": "manager" if i == 0 else "worker",
        }
        for i in range(hospitals)
    ]
    return {"nodes": nodes, "network": {"encrypted": False}, "portal": {"enabled": False}}


def _child(hospitals: int) -> dict[str, Any]:
    started = time.perf_counter()
    from tests.program import TEST_PRIVATE_KEY, evaluate

    imported = time.perf_counter()
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    passwords = {"hub": "pw-0", **{f"hosp{i}": f"pw-{i}" for i in range(1, hospitals)}}
    cpu = time.process_time()
    evaluation = evaluate(
        synthetic_config(hospitals),
        secrets={"sshPrivateKey": TEST_PRIVATE_KEY, "ldsmPasswords": passwords},
        stack="bench",
    )
    done = time.perf_counter()
    cpu = time.process_time() - cpu
    return {
        "cpu_seconds": cpu,
        "hospitals": hospitals,
        "resources": len(evaluation.resources),
        "import_seconds": imported - started,
        "seconds": done - imported,
        "baseline_rss_mib": baseline,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure_one(hospitals: int, timeout: float = 900) -> EvalCost:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bench.evalcost", str(hospitals)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return EvalCost(hospitals, 0, 0, 0, 0, 0, error=f"timed out after {timeout:.0f}s")
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        return EvalCost(hospitals, 0, 0, 0, 0, 0, error=result.stderr.strip()[-500:])
    return EvalCost(**json.loads(lines[-1]))


def measure(sizes: list[int]) -> list[EvalCost]:
    return [measure_one(n) for n in sizes]


if __name__ == "__main__":
    sys.stdout.write(json.dumps(_child(int(sys.argv[1]))) + "\n")
