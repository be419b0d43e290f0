"""`python -m federation.plan STACK [--json] [--file PATH]`: print the plan of a stack."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from federation.config import ConfigError
from federation.plan.build import make_plan
from federation.plan.render import render_json, render_table
from federation.plan.stackfile import stack_file
from federation.stackfile import StackFileError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m federation.plan",
        description="Print the resources a stack plans, evaluated under mocks (no network).",
    )
    parser.add_argument("stack", help="stack name: reads Pulumi.STACK.yaml")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--file", type=Path, help="stack file (default: Pulumi.STACK.yaml)")
    args = parser.parse_args(argv)
    path = args.file if args.file is not None else stack_file(args.stack)
    if not path.is_file():
        print(f"error: {path} does not exist", file=sys.stderr)
        return 2
    try:
        plan = make_plan(args.stack, file=path)
    except (ConfigError, StackFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(render_json(plan) if args.json else render_table(plan))
    return 0
