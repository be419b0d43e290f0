"""CLI: `python -m tests.engine deploy|destroy STACKFILE [--secrets FILE] [--state FILE]`.

Stack outputs go to stdout as JSON (secrets shown as "[secret]"); progress, the operations and
errors go to stderr; the exit status is non-zero when anything failed. Ctrl-C (SIGINT) or SIGTERM
cancels gracefully, as with the Pulumi CLI: the worker finishes the steps in flight and saves the
state; a second signal terminates it at once.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from tests.engine.api import (
    DeployResult,
    default_state_file,
    deploy,
    destroy,
    forward_signals,
    worker_main,
)
from tests.engine.stackfile import StackFileError, load_stack_file

STACK_FILE_RE = re.compile(r"^Pulumi\.(?P<stack>[^.]+)\.ya?ml$")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.engine")
    sub = parser.add_subparsers(dest="action", required=True)
    for action in ("deploy", "destroy"):
        cmd = sub.add_parser(action, help=f"{action} the stack described by STACKFILE")
        cmd.add_argument("stackfile", type=Path, help="Pulumi.<stack>.yaml")
        cmd.add_argument("--secrets", type=Path, help="YAML of `namespace:key: value` secrets")
        cmd.add_argument("--state", type=Path, help="state file (default .lab/state/<stack>.json)")
        cmd.add_argument("--program-dir", type=Path, help="default: the stack file's folder")
    sub.add_parser("_worker", help=argparse.SUPPRESS)
    return parser


def _report(result: DeployResult) -> None:
    for op in result.operations:
        if op["op"] != "same" or op["status"] != "ok":
            print(
                f"{op['op']:8s} {op['status']:6s} {op['duration']:7.2f}s {op['name']}",
                file=sys.stderr,
            )
    same = len(result.ops("same"))
    print(f"{len(result.operations)} steps ({same} unchanged)", file=sys.stderr)
    for name, message in result.errors:
        print(f"error: {name}: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.action == "_worker":
        return worker_main()
    forward_signals()
    match = STACK_FILE_RE.match(args.stackfile.name)
    if not match:
        print(f"error: {args.stackfile} is not named Pulumi.<stack>.yaml", file=sys.stderr)
        return 2
    stack = match.group("stack")
    program_dir = (args.program_dir or args.stackfile.parent).resolve()
    state = args.state or default_state_file(program_dir, stack)
    if args.action == "deploy":
        try:
            config, secret_keys = load_stack_file(args.stackfile, args.secrets)
        except StackFileError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        result = deploy(program_dir, stack, config, secret_keys, state)
    else:
        result = destroy(stack, state, program_dir)
    _report(result)
    print(json.dumps(result.outputs, indent=2, sort_keys=True))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
