"""The command line: `python -m federation.doctor STACK`, reading, comparing and rendering."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from federation.config import StackSettings
from federation.doctor.compare import compare, leader_of, needs_probe
from federation.doctor.hosts import is_manager, probe, read_live
from federation.doctor.model import DoctorError, Row
from federation.doctor.render import document, error_document, exit_status, summary, table
from federation.doctor.ssh import DEFAULT_TIMEOUT, Access, SshError, connect
from federation.doctor.stackfile import STACK_NAME_RE, read_stack


def diagnose(settings: StackSettings, access: Access) -> list[Row]:
    """Read the federation (read-only) and compare it with the settings."""
    leader = leader_of(settings)
    try:
        with connect(leader, access) as connection:
            live = read_live(connection)
    except SshError as error:
        raise DoctorError(f"cannot read the swarm from the leader: {error}") from None
    todo = needs_probe(settings, live) if is_manager(live.swarm) else []
    with ThreadPoolExecutor(max_workers=8) as pool:
        probes = dict(
            zip((n.name for n in todo), pool.map(lambda n: probe(n, access), todo), strict=True)
        )
    return compare(settings, live, probes)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m federation.doctor",
        description="Compare the live federation swarm with a stack's configuration (read-only).",
        epilog="Exit status: 0 in sync, 1 drift, 2 error.",
    )
    parser.add_argument("stack", help="stack name: reads Pulumi.STACK.yaml")
    parser.add_argument(
        "--stack-file", type=Path, help="the stack file (default Pulumi.STACK.yaml)"
    )
    parser.add_argument(
        "--key", help="SSH private key file (else ssh.privateKeyFile, and the agent)"
    )
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per SSH step"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--drift-only", action="store_true", help="list only rows that are not OK")
    return parser


def report(
    stack: str, stack_file: Path | None, key: str | None, timeout: float = DEFAULT_TIMEOUT
) -> tuple[str, list[Row]]:
    """The short stack name and the report rows; DoctorError when no report can be made."""
    short = stack.rpartition("/")[2]
    if not STACK_NAME_RE.match(short):
        raise DoctorError(f"{stack!r} is not a stack name")
    if not 0 < timeout <= 300:
        raise DoctorError(f"--timeout {timeout}: give seconds between 0 and 300")
    if key is not None and not os.path.isfile(os.path.expanduser(key)):
        raise DoctorError(f"--key {key}: no such file")
    settings = read_stack(stack_file or Path(f"Pulumi.{short}.yaml"), short, key)
    key_file = key or settings.ssh.private_key_file
    access = Access(settings.ssh, os.path.expanduser(key_file) if key_file else None, timeout)
    return short, diagnose(settings, access)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        stack, rows = report(args.stack, args.stack_file, args.key, args.timeout)
    except DoctorError as error:
        if args.json:
            print(json.dumps(error_document(args.stack, str(error))))
        print(f"doctor: {error}", file=sys.stderr)
        return 2
    code = exit_status(rows)
    if args.json:
        print(json.dumps(document(stack, rows), indent=2))
        return code
    shown = [r for r in rows if r.status != "OK"] if args.drift_only else rows
    if shown:
        print(table(shown))
    print(summary(stack, rows))
    return code


if __name__ == "__main__":
    sys.exit(main())
