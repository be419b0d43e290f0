"""The project's stacks and their golden plans, and writing a stack file for a test."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.program import ROOT, STACK_FILES

PLANS = ROOT / "tests" / "plans"
STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in STACK_FILES)


def refresh_hint(stack: str) -> str:
    return f"python -m federation.plan {stack} > tests/plans/{stack}.txt"


def write_stack(tmp_path: Path, stack: str, config: dict[str, object]) -> Path:
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump({"config": config}), encoding="utf-8")
    return path


NODES = [
    {"name": "chuv", "host": "192.0.2.10", "role": "manager"},
    {"name": "hug", "host": "198.51.100.21", "role": "worker"},
]
