"""The command line: `python -m federation.doctor STACK`, reading, comparing and rendering."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from federation.config.model import StackSettings
from federation.doctor.certificates import CERT_WARN_DAYS, certificate_rows
from federation.doctor.compare import compare, ordered_nodes, probe_rows
from federation.doctor.hosts import (
    ask_host,
    is_manager,
    read_certificate,
    read_firewall,
    read_live,
    read_portal,
    run_probe,
    run_verdict,
    unreachable,
)
from federation.doctor.model import DoctorError, HostReport, Live, Row
from federation.doctor.render import document, error_document, exit_status, summary, table
from federation.doctor.ssh import DEFAULT_TIMEOUT, Access, Connection, SshError
from federation.doctor.stackfile import STACK_NAME_RE, read_stack

T = TypeVar("T")
R = TypeVar("R")
# Hosts asked at once; the SSH client's threads are cheap, and each step is bounded by --timeout.
MAX_PARALLEL = 32
# Seconds each node's data-plane probe retries (--probe-timeout).
PROBE_DEADLINE = 20
# The largest --cert-warn-days: the 20 years of the swarm's root CA (swarm.certExpiry's bound).
MAX_WARN_DAYS = 7300


def _parallel(function: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`function` over `items` in parallel (each is one host: its SSH steps are bounded)."""
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(items))) as pool:
        return list(pool.map(function, items))


def diagnose(
    settings: StackSettings,
    access: Access,
    probe_deadline: int | None = None,
    cert_warn_days: int = CERT_WARN_DAYS,
) -> list[Row]:
    """Read the federation (read-only) and compare it with the settings: one SSH connection per
    node, opened in parallel; the control manager's view of the swarm, every node's own, and
    every node's certificate (a warning below `cert_warn_days` days left). With
    `probe_deadline`, also the data-plane probe over the same connections (see
    federation.probe): a container on the overlay per node, removed after at most that long."""
    nodes = ordered_nodes(settings)
    control = nodes[0]
    with ExitStack() as stack:
        connections = [Connection(node, access) for node in nodes]
        for connection in connections:
            stack.callback(connection.close)
        opened = _parallel(_open, connections)
        failure = opened[0]
        if failure is not None:
            role = "leader" if control is settings.leader else "control manager"
            raise DoctorError(f"cannot read the swarm from the {role}: {failure}")

        def read(index: int) -> Live | HostReport:
            failure = opened[index]
            if failure is not None:
                return unreachable(failure)
            if index == 0:
                return read_live(connections[0])
            return ask_host(connections[index], access.ssh.user)

        found = _parallel(read, list(range(len(nodes))))
        live = found[0]
        assert isinstance(live, Live)
        leader = next(index for index, node in enumerate(nodes) if node is settings.leader)
        live = _with_portal(live, connections[leader], opened[leader])
        reports = {
            node.name: report
            for node, report in zip(nodes[1:], found[1:], strict=True)
            if isinstance(report, HostReport)
        }
        rows = compare(settings, live, reports)
        if not is_manager(live.swarm):
            return rows
        rows += _certificates(settings, connections, opened, cert_warn_days)
        if probe_deadline is not None:
            rows += _probe(settings, connections, opened, probe_deadline)
        return rows


def _reachable(connections: list[Connection], opened: list[SshError | None]) -> list[Connection]:
    """The connections that opened."""
    return [c for c, failure in zip(connections, opened, strict=True) if failure is None]


def _certificates(
    settings: StackSettings,
    connections: list[Connection],
    opened: list[SshError | None],
    warn_days: int,
) -> list[Row]:
    """Every reachable node's certificate, read at once."""
    reachable = _reachable(connections, opened)

    def read(connection: Connection) -> str:
        try:
            return read_certificate(connection)
        except SshError as error:
            return f"unread {error.reason}"

    printed = dict(zip((c.node.name for c in reachable), _parallel(read, reachable), strict=True))
    return certificate_rows(settings, printed, datetime.now(timezone.utc), warn_days)


def _with_portal(live: Live, leader: Connection, failure: SshError | None) -> Live:
    """`live` with the portal container as the leader's engine reports it."""
    if not is_manager(live.swarm):
        return live
    if failure is not None:
        return replace(live, portal_unread=str(failure), firewall_unread=str(failure))
    try:
        live = replace(live, portal=read_portal(leader))
    except (DoctorError, SshError) as error:
        live = replace(live, portal_unread=str(error))
    try:
        return replace(live, firewall=read_firewall(leader))
    except SshError as error:
        return replace(live, firewall_unread=str(error))


def _probe(
    settings: StackSettings,
    connections: list[Connection],
    opened: list[SshError | None],
    deadline: int,
) -> list[Row]:
    """The data-plane probe on every reachable node at once, then the verdict on the leader."""
    leader = settings.leader
    reachable = _reachable(connections, opened)
    skipped = {
        c.node.name: f"host {failure.reason}"
        for c, failure in zip(connections, opened, strict=True)
        if failure is not None
    }

    def run(connection: Connection) -> str:
        try:
            return run_probe(connection, settings, leader, deadline)
        except SshError as error:
            return f"{connection.node.name} - run {error.reason}"

    lines = _parallel(run, reachable)
    on_leader = next((c for c in reachable if c.node is leader), None)
    if on_leader is None:
        reason = "the leader, whose gossip peers tell the cause, is unreachable"
        return probe_rows(settings, {}, {n.name: reason for n in settings.nodes})
    try:
        verdicts = run_verdict(on_leader, settings, lines)
    except SshError as error:
        raise DoctorError(f"the probe's verdict on the leader: {error}") from None
    return probe_rows(settings, verdicts, skipped)


def _open(connection: Connection) -> SshError | None:
    try:
        connection.open()
    except SshError as error:
        return error
    return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m federation.doctor",
        description="Compare the live federation swarm with a stack's configuration (read-only).",
        epilog="Exit status: 0 in sync, 1 drift or a warning, 2 error.",
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
    parser.add_argument(
        "--probe",
        action="store_true",
        help="also prove the overlay carries traffic from every node to the leader's side (a "
        "short-lived container per node, removed after; names the likely port of a failure)",
    )
    parser.add_argument(
        "--probe-timeout",
        type=int,
        default=PROBE_DEADLINE,
        help=f"seconds a node's probe retries (default {PROBE_DEADLINE})",
    )
    parser.add_argument(
        "--cert-warn-days",
        type=int,
        default=CERT_WARN_DAYS,
        help="warn when a node's swarm certificate has fewer days left than this "
        f"(default {CERT_WARN_DAYS})",
    )
    return parser


def report(
    stack: str,
    stack_file: Path | None,
    key: str | None,
    timeout: float = DEFAULT_TIMEOUT,
    probe_deadline: int | None = None,
    cert_warn_days: int = CERT_WARN_DAYS,
) -> tuple[str, list[Row]]:
    """The short stack name and the report rows; DoctorError when no report can be made.
    `probe_deadline` (seconds): also run the data-plane probe; `cert_warn_days`: warn below so
    many days left on a node's certificate."""
    short = stack.rpartition("/")[2]
    if not STACK_NAME_RE.match(short):
        raise DoctorError(f"{stack!r} is not a stack name")
    if not 0 < timeout <= 300:
        raise DoctorError(f"--timeout {timeout}: give seconds between 0 and 300")
    if probe_deadline is not None and not 1 <= probe_deadline <= 600:
        raise DoctorError(f"--probe-timeout {probe_deadline}: give seconds between 1 and 600")
    if not 1 <= cert_warn_days <= MAX_WARN_DAYS:
        raise DoctorError(
            f"--cert-warn-days {cert_warn_days}: give whole days between 1 and {MAX_WARN_DAYS}"
        )
    if key is not None and not os.path.isfile(os.path.expanduser(key)):
        raise DoctorError(f"--key {key}: no such file")
    settings = read_stack(stack_file or Path(f"Pulumi.{short}.yaml"), short, key)
    key_file = key or settings.ssh.private_key_file
    access = Access(settings.ssh, os.path.expanduser(key_file) if key_file else None, timeout)
    return short, diagnose(settings, access, probe_deadline, cert_warn_days)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        deadline = args.probe_timeout if args.probe else None
        stack, rows = report(
            args.stack, args.stack_file, args.key, args.timeout, deadline, args.cert_warn_days
        )
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
