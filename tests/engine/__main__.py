"""CLI: `python -m tests.engine deploy|preview|refresh|destroy STACKFILE [options]`.

- `deploy [--refresh] [--parallel N]`: `pulumi up`. Stack outputs go to stdout as JSON (secrets
  shown as "[secret]").
- `preview [--diff] [--json] [--refresh] [--parallel N] [--show-sames]
  [--show-replacement-steps]`: `pulumi preview`; what it prints goes to stdout.
- `refresh [--parallel N]`: `pulumi refresh`.
- `destroy [--parallel N]`: `pulumi destroy`.

Progress, the operations and errors go to stderr; the exit status is non-zero when anything
failed. Ctrl-C (SIGINT) or SIGTERM cancels gracefully, as with the Pulumi CLI: the worker finishes
the steps in flight and saves the state; a second signal terminates it at once.
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
    preview,
    refresh,
    worker_main,
)
from tests.engine.display import render_diff, render_json, render_table
from tests.engine.stackfile import StackFileError, load_stack_file

STACK_FILE_RE = re.compile(r"^Pulumi\.(?P<stack>[^.]+)\.ya?ml$")
ACTIONS = ("deploy", "preview", "refresh", "destroy")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def add_options(cmd: argparse.ArgumentParser, action: str) -> None:
    """The options of one action (also used by `python -m tests.lab`)."""
    cmd.add_argument("stackfile", type=Path, help="Pulumi.<stack>.yaml")
    cmd.add_argument("--secrets", type=Path, help="YAML of `namespace:key: value` secrets")
    cmd.add_argument("--state", type=Path, help="state file (default .lab/state/<stack>.json)")
    cmd.add_argument(
        "--program-dir",
        type=Path,
        help="default: the stack file's folder or the nearest one above it with a Pulumi.yaml",
    )
    cmd.add_argument(
        "--parallel",
        "-p",
        type=_positive,
        help="resource operations at once (default: 4 x CPUs, or PULUMI_PARALLEL)",
    )
    if action in ("deploy", "preview"):
        cmd.add_argument(
            "--refresh",
            "-r",
            action="store_true",
            help="refresh the state from the providers first",
        )
    if action == "preview":
        cmd.add_argument("--diff", action="store_true", help="show each resource's property diff")
        cmd.add_argument("--json", "-j", action="store_true", help="print the preview as JSON")
        cmd.add_argument("--show-sames", action="store_true", help="also show unchanged resources")
        cmd.add_argument(
            "--show-replacement-steps",
            action="store_true",
            help="also show the create-replacement and delete-replaced steps",
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.engine")
    sub = parser.add_subparsers(dest="action", required=True)
    for action in ACTIONS:
        add_options(
            sub.add_parser(action, help=f"{action} the stack described by STACKFILE"), action
        )
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


def find_project(folder: Path) -> Path | None:
    """The folder itself or the nearest one above it holding a Pulumi.yaml, as the CLI looks
    upwards for its project (sdk/go/common/workspace/paths.go DetectProjectPathFrom)."""
    folder = folder.resolve()
    return next((f for f in (folder, *folder.parents) if (f / "Pulumi.yaml").is_file()), None)


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
    program_dir = args.program_dir or find_project(args.stackfile.parent)
    if program_dir is None:
        where = args.stackfile.parent.resolve()
        print(
            f"error: no Pulumi.yaml project file found (searching upwards from {where})",
            file=sys.stderr,
        )
        return 2
    program_dir = program_dir.resolve()
    state = args.state or default_state_file(program_dir, stack)
    if args.action in ("deploy", "preview"):
        try:
            config, secret_keys = load_stack_file(args.stackfile, args.secrets)
        except StackFileError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        run = deploy if args.action == "deploy" else preview
        result = run(
            program_dir,
            stack,
            config,
            secret_keys,
            state,
            parallel=args.parallel,
            refresh=args.refresh,
        )
    elif args.action == "refresh":
        result = refresh(stack, state, program_dir, parallel=args.parallel)
    else:
        result = destroy(stack, state, program_dir, parallel=args.parallel)
    if args.action == "preview":
        for name, message in result.errors:
            print(f"error: {name}: {message}", file=sys.stderr)
        sames, replacements = args.show_sames, args.show_replacement_steps
        if args.json:
            text = render_json(result.steps, result.change_summary, sames, replacements)
            print(text)
        elif args.diff:
            text = render_diff(result.steps, result.change_summary, stack, sames, replacements)
            sys.stdout.write(text)
        else:
            sys.stdout.write(render_table(result.steps, result.change_summary, stack))
        return 0 if result.ok else 1
    _report(result)
    print(json.dumps(result.outputs, indent=2, sort_keys=True))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
