"""The program's step graph at any size, without hosts: the real __main__.py evaluated under
Pulumi's mocks (tests.program) with a synthetic stack of N hospitals, each resource with what
its step waits for by the engine double's own rule (`tests.engine.oplog.step_dependencies`: its
dependencies, property dependencies, provider and parent). Component resources have no step and
are left out. A deploy's operations log records the same edges for every step
(`from_operations`), so at a deployed size the graph is the one that ran.

`python -m bench.dag N` prints it as JSON; `graph(N)` runs that in a fresh process (the mocks
runtime is process-wide).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.projection import Node
from tests.engine.oplog import step_dependencies

ROOT = Path(__file__).resolve().parents[1]
COMPONENT_PREFIX = "mip-federation:"  # the program's own component types


def _name(urn: str) -> str:
    """A resource's name from its URN, or from a provider reference "URN::ID"."""
    parts = urn.split("::")
    return parts[3] if len(parts) > 4 else parts[-1]


def _child(hospitals: int) -> list[dict[str, Any]]:
    from bench.evalcost import synthetic_config
    from tests.program import TEST_PRIVATE_KEY, evaluate

    passwords = {"hub": "pw-0", **{f"hosp{i}": f"pw-{i}" for i in range(1, hospitals)}}
    evaluation = evaluate(
        synthetic_config(hospitals),
        secrets={"sshPrivateKey": TEST_PRIVATE_KEY, "ldsmPasswords": passwords},
        stack="bench",
    )
    steps = [r for r in evaluation.resources if not r.typ.startswith(COMPONENT_PREFIX)]
    names = {r.name for r in steps}
    nodes = []
    for r in steps:
        urns = step_dependencies(
            r.parent, r.provider or "", r.dependencies, r.property_dependencies
        )
        deps = {_name(u) for u in urns} & names - {r.name}
        nodes.append({"name": r.name, "type": r.typ, "deps": sorted(deps)})
    return nodes


def from_operations(operations: list[dict[str, Any]]) -> list[Node]:
    """The step graph a deploy ran, from its operations log: every create, update or same step
    with the dependencies the log recorded for it, those without a step (components) left out.
    Empty when the log predates the recorded dependencies."""
    steps = [
        o for o in operations if o["op"] in ("create", "update", "same", "replace") and "deps" in o
    ]
    names = {o["name"] for o in steps}
    return [
        Node(
            o["name"], o["type"], tuple(sorted({_name(u) for u in o["deps"]} & names - {o["name"]}))
        )
        for o in steps
    ]


def graph(hospitals: int, timeout: float = 600) -> list[Node]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "bench.dag", str(hospitals)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=timeout,
        check=True,
    )
    return [Node(n["name"], n["type"], tuple(n["deps"])) for n in json.loads(result.stdout)]


if __name__ == "__main__":
    sys.stdout.write(json.dumps(_child(int(sys.argv[1]))) + "\n")
