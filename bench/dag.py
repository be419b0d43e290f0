"""The program's step graph at any size, without hosts: the real __main__.py evaluated under
Pulumi's mocks (tests.program) with a synthetic stack of N hospitals, each resource with what
the engine waits for before its step (dependencies, property dependencies, provider). Component
resources have no step and are left out.

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

ROOT = Path(__file__).resolve().parents[1]
COMPONENT_PREFIX = "mip-federation:"  # the program's own component types


def _name(urn: str) -> str:
    """A resource's name from its URN, or from a provider reference "URN::ID"."""
    parts = urn.split("::")
    return parts[3] if len(parts) > 4 else parts[-1]


def _child(hospitals: int) -> list[dict[str, Any]]:
    from bench.evalcost import synthetic_config
    from tests.program import TEST_PRIVATE_KEY, evaluate

    passwords = {f"hosp{i}": f"pw-{i}" for i in range(1, hospitals)}
    evaluation = evaluate(
        synthetic_config(hospitals),
        secrets={"sshPrivateKey": TEST_PRIVATE_KEY, "ldsmPasswords": passwords},
        stack="bench",
    )
    nodes = []
    for r in evaluation.resources:
        if r.typ.startswith(COMPONENT_PREFIX):
            continue  # a component resource: registered, no step
        deps = set(map(_name, r.dependencies))
        deps.update(_name(u) for urns in r.property_dependencies.values() for u in urns)
        if r.provider:
            deps.add(_name(r.provider))
        deps.discard(r.name)
        nodes.append({"name": r.name, "type": r.typ, "deps": sorted(deps)})
    return nodes


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
