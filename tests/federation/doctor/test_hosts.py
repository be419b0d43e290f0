"""Reading the hosts, with a fake connection."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from typing import Any

import pytest

from federation import doctor
from federation.doctor import Access, DoctorError, HostReport, Result, SshError, cli, hosts
from federation.firewall import expected_rules
from tests.federation.doctor.canned import NODES, in_sync, settings, valid_pem


class FakeConnection:
    """Answers each command with its Result, or with the next of a list of Results."""

    def __init__(self, answers: dict[str, Result | list[Result]]) -> None:
        self.where = "chuv (192.0.2.10:22)"
        self.answers = answers
        self.commands: list[str] = []

    def run(self, command: str) -> Result:
        self.commands.append(command)
        answer = self.answers[command]
        return answer.pop(0) if isinstance(answer, list) else answer


def ok(value: Any) -> Result:
    return Result(0, json.dumps(value), "")


def test_read_live_runs_only_read_only_docker_commands():
    live = in_sync()
    answers = {doctor.SWARM_COMMAND: ok(live.swarm)}
    for name, command in doctor.LEADER_COMMANDS.items():
        answers[command] = ok(getattr(live, name))
    connection = FakeConnection(answers)
    assert doctor.read_live(connection) == replace(live, portal=[])  # type: ignore[arg-type]
    assert (
        doctor.read_portal(  # type: ignore[arg-type]
            FakeConnection({doctor.PORTAL_COMMAND: ok(live.portal)})
        )
        == live.portal
    )
    answers[doctor.PORTAL_COMMAND] = ok(live.portal)
    for command in connection.commands:
        words = command.replace("$(", " ").replace(";", " ").split()
        docker_verbs = [words[i + 1 : i + 3] for i, w in enumerate(words) if w == "docker"]
        for verb in docker_verbs:
            assert verb[0] in ("info", "ps", "inspect") or verb[1] in ("ls", "inspect", "ps")


def test_read_live_stops_at_a_leader_that_is_not_a_manager_and_fails_on_docker_errors():
    worker = {"LocalNodeState": "active", "ControlAvailable": False}
    connection = FakeConnection({doctor.SWARM_COMMAND: ok(worker)})
    assert doctor.read_live(connection).nodes == []  # type: ignore[arg-type]
    assert connection.commands == [doctor.SWARM_COMMAND]
    broken = FakeConnection({doctor.SWARM_COMMAND: Result(1, "", "Cannot connect to the Docker")})
    with pytest.raises(DoctorError, match=r"exit 1.*Cannot connect"):
        doctor.read_live(broken)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("answer", "note"),
    [
        (ok({"LocalNodeState": "inactive"}), "host left the swarm"),
        (ok({"LocalNodeState": "active", "NodeID": "n1"}), "host: in a swarm as node n1"),
        (Result(1, "", "Cannot connect to the Docker daemon"), "host: Docker daemon not answering"),
        (
            Result(1, "", "permission denied while trying to connect"),
            "host: Docker refuses mipadmin (permission denied)",
        ),
    ],
)
def test_a_host_reports_what_it_says_about_itself(answer, note):
    connection = FakeConnection({doctor.SWARM_COMMAND: answer})
    assert doctor.ask_host(connection, "mipadmin").note == note  # type: ignore[arg-type]


def test_an_unreachable_or_untrusted_host_and_an_unreachable_leader(monkeypatch):
    error = SshError("hug (198.51.100.21:22)", "host key mismatch: ...", refused=True)

    def failing_open(self):
        raise error

    monkeypatch.setattr(cli.Connection, "open", failing_open)
    assert hosts.unreachable(error) == HostReport("host: host key mismatch: ...", refused=True)
    stack = settings()
    with pytest.raises(DoctorError, match=r"leader: hug \(198.51.100.21:22\): host key mismatch"):
        doctor.diagnose(stack, Access(stack.ssh, None))


class FakeHosts:
    """Fake SSH connections per host: the leader answers with `live`, the others with their
    `docker info`; an address in `down` is unreachable. Records connections and commands."""

    def __init__(self, live, swarms: dict[str, Any], down: set[str] = frozenset()) -> None:
        self.live, self.swarms, self.down = live, swarms, down
        self.leader = self.control = "chuv"
        self.opened: list[str] = []
        self.closed: list[str] = []
        self.commands: dict[str, list[str]] = {}
        self.lock = threading.Lock()
        self.probe_lines: dict[str, str] = {}
        self.verdict = ""
        self.verdict_input = ""
        # firewall_check.sh's lines on the leader: in place, by default.
        self.firewall = expected_rules(9090, [])
        # node_certificate.sh's output per node: 90 days left, by default.
        self.certificates: dict[str, str] = {}
        self.pem = valid_pem()

    def connection(self, node, access):
        fake = self

        class Conn:
            where = f"{node.name} ({node.host}:22)"

            def open(self) -> None:
                with fake.lock:
                    fake.opened.append(node.name)
                if node.host in fake.down:
                    time.sleep(0.2)  # every host is asked at once: the waits overlap
                    raise SshError(self.where, "unreachable over SSH (timed out)")

            def run(self, command: str, timeout=None, what=None) -> Result:
                with fake.lock:
                    fake.commands.setdefault(node.name, []).append(command)
                if command.startswith("NODE="):  # probe.sh
                    return Result(0, fake.probe_lines[node.name] + "\n", "")
                if command.startswith("LEADER="):  # probe_verdict.sh, on the leader
                    assert node.name == "chuv"
                    fake.verdict_input = command
                    return Result(1, fake.verdict, "")
                if command.startswith("CHAIN="):  # firewall_check.sh, on the leader only
                    assert node.name == fake.leader
                    return Result(0, "".join(f"{line}\n" for line in fake.firewall), "")
                if command == doctor.CERTIFICATE_COMMAND:
                    return Result(0, fake.certificates.get(node.name, fake.pem), "")
                if command == doctor.PORTAL_COMMAND:  # asked of the leader's engine only
                    assert node.name == fake.leader
                    return ok(fake.live.portal)
                if node.name == fake.control:
                    if command == doctor.SWARM_COMMAND:
                        return ok(fake.live.swarm)
                    name = next(k for k, v in doctor.LEADER_COMMANDS.items() if v == command)
                    return ok(getattr(fake.live, name))
                return ok(fake.swarms[node.name])

            def close(self) -> None:
                with fake.lock:
                    fake.closed.append(node.name)

        conn = Conn()
        conn.node = node  # type: ignore[attr-defined]
        return conn


def test_every_node_is_asked_itself_once_in_parallel_over_one_connection_each(monkeypatch):
    live = in_sync()
    swarms = {
        "hug": {"LocalNodeState": "inactive"},  # left: the leader still lists it ready
        "lille": {"LocalNodeState": "active", "NodeID": "id-lille", "RemoteManagers": []},
    }
    fake = FakeHosts(live, swarms)
    monkeypatch.setattr(cli, "Connection", fake.connection)
    stack = settings()
    rows = [r for r in doctor.diagnose(stack, Access(stack.ssh, None)) if r.status != "OK"]
    assert [(r.check, r.subject, r.actual) for r in rows] == [
        ("swarm", "hug", "inactive (left the swarm)"),
        # a worker that lists no manager of this swarm is in another one
        ("swarm", "lille", "active in another swarm (other managers) as node id-lille"),
    ]
    assert sorted(fake.opened) == sorted(fake.closed) == ["chuv", "hug", "lille"]
    assert (
        fake.commands["hug"]
        == fake.commands["lille"]
        == [
            doctor.SWARM_COMMAND,
            doctor.CERTIFICATE_COMMAND,
        ]
    )


def test_unreachable_nodes_are_reported_per_node_within_one_timeout(monkeypatch):
    fake = FakeHosts(in_sync(), {}, down={"198.51.100.21", "lille-mip.example.org"})
    monkeypatch.setattr(cli, "Connection", fake.connection)
    stack = settings()
    started = time.monotonic()
    rows = doctor.diagnose(stack, Access(stack.ssh, None))
    assert time.monotonic() - started < 0.35  # two 0.2 s waits, side by side
    swarm_rows = [(r.subject, r.actual, r.status) for r in rows if r.check == "swarm"]
    assert swarm_rows[1:] == [
        ("hug", "unreachable over SSH (timed out)", "DRIFT"),
        ("lille", "unreachable over SSH (timed out)", "DRIFT"),
    ]
    assert sorted(fake.closed) == ["chuv", "hug", "lille"]


def test_a_listing_that_raced_with_a_change_is_read_again_once():
    live = in_sync()
    answers: dict[str, Result | list[Result]] = {doctor.SWARM_COMMAND: ok(live.swarm)}
    for name, command in doctor.LEADER_COMMANDS.items():
        answers[command] = ok(getattr(live, name))
    vanished = Result(1, "", "Error: No such service: abc")
    answers[doctor.LEADER_COMMANDS["tasks"]] = [vanished, ok(live.tasks)]
    assert doctor.read_live(FakeConnection(answers)).tasks == live.tasks  # type: ignore[arg-type]
    answers[doctor.LEADER_COMMANDS["tasks"]] = [vanished, vanished]
    with pytest.raises(DoctorError, match=r"reading the tasks failed \(exit 1\): Error: No such"):
        doctor.read_live(FakeConnection(answers))  # type: ignore[arg-type]
    answers[doctor.LEADER_COMMANDS["tasks"]] = Result(0, "WARNING: oops", "")
    with pytest.raises(DoctorError, match="reading the tasks printed no JSON"):
        doctor.read_live(FakeConnection(answers))  # type: ignore[arg-type]


def test_probe_runs_on_every_node_over_its_connection_and_the_verdict_on_the_leader(monkeypatch):
    swarms = {
        name: {
            "LocalNodeState": "active",
            "NodeID": f"id-{name}",
            "RemoteManagers": [{"NodeID": "id-chuv"}],
        }
        for name in ("hug", "lille")
    }
    fake = FakeHosts(in_sync(), swarms, down={"lille-mip.example.org"})
    fake.probe_lines = {
        "chuv": "chuv 192.0.2.10 ok 10.20.30.2",
        "hug": "hug 198.51.100.21 connect 10.20.30.2:8500 nc: timed out",
    }
    fake.verdict = (
        "chuv ok reaches exareme-keystore:8500 over mip-federation\n"
        "hug fail no TCP connection to exareme-keystore:8500: VXLAN, UDP 4789 (gossip works)\n"
    )
    monkeypatch.setattr(cli, "Connection", fake.connection)
    stack = settings()
    rows = doctor.diagnose(stack, Access(stack.ssh, None), probe_deadline=5)
    probes = [(r.subject, r.actual, r.status) for r in rows if r.check == "probe"]
    assert probes == [
        ("chuv", "reaches exareme-keystore:8500 over mip-federation", "OK"),
        (
            "hug",
            "no TCP connection to exareme-keystore:8500: VXLAN, UDP 4789 (gossip works)",
            "DRIFT",
        ),
        ("lille", "not probed: host unreachable over SSH (timed out)", "DRIFT"),
    ]
    assert all(
        r.expected == "reaches exareme-keystore:8500 over mip-federation"
        for r in rows
        if r.check == "probe"
    )
    # the verdict got both lines; one connection per node served every command
    assert fake.probe_lines["hug"] in fake.verdict_input
    assert sorted(fake.opened) == ["chuv", "hug", "lille"]
    assert fake.commands["hug"][:2] == [doctor.SWARM_COMMAND, doctor.CERTIFICATE_COMMAND]
    assert [c[:5] for c in fake.commands["hug"][2:]] == ["NODE="]


MANAGERS = ["chuv", "hug", "lille"]


def three_managers():
    nodes = [{**node, "role": "manager"} for node in NODES]
    return settings(nodes=nodes, swarm={"controlManager": "hug"})


def test_the_portal_is_read_on_the_leader_not_on_the_control_manager(monkeypatch):
    # The portal-docker provider puts the portal on the leader's engine; with
    # swarm.controlManager on another manager, the leader is still where it runs.
    fake = FakeHosts(in_sync(), {name: {"LocalNodeState": "active"} for name in MANAGERS})
    fake.control = "hug"
    monkeypatch.setattr(cli, "Connection", fake.connection)
    stack = three_managers()
    rows = doctor.diagnose(stack, Access(stack.ssh, None))
    portal_rows = [(r.check, r.actual, r.status) for r in rows if r.check.startswith("portal")]
    assert portal_rows == [
        ("portal", "running", "OK"),
        ("portal image", "hbpmip/portal-backend:2.5.4", "OK"),
    ]
    assert fake.commands["chuv"].count(doctor.PORTAL_COMMAND) == 1
    assert doctor.PORTAL_COMMAND not in fake.commands["hug"]


def test_an_unreachable_leader_leaves_the_portal_unknown_not_missing(monkeypatch):
    fake = FakeHosts(in_sync(), {"lille": {"LocalNodeState": "active"}}, down={"192.0.2.10"})
    fake.control = "hug"
    monkeypatch.setattr(cli, "Connection", fake.connection)
    stack = three_managers()
    rows = doctor.diagnose(stack, Access(stack.ssh, None))
    (portal_row,) = [r for r in rows if r.check == "portal"]
    assert portal_row.expected == "running" and portal_row.status == "DRIFT"
    assert portal_row.actual == ("unknown: chuv (192.0.2.10:22): unreachable over SSH (timed out)")


def test_every_reachable_node_reports_its_certificate_against_the_threshold(monkeypatch):
    fake = FakeHosts(in_sync(), {"lille": {"LocalNodeState": "active"}}, down={"198.51.100.21"})
    fake.certificates = {"lille": valid_pem(days=10)}
    monkeypatch.setattr(cli, "Connection", fake.connection)
    stack = settings()
    rows = doctor.diagnose(stack, Access(stack.ssh, None))
    certs = [
        (r.subject, r.actual.split(", ")[-1], r.status) for r in rows if r.check == "certificate"
    ]
    # hug is unreachable: its node and swarm rows say so, it has no certificate row
    assert certs == [("chuv", "89 days left", "OK"), ("lille", "9 days left", "WARN")]
    assert doctor.CERTIFICATE_COMMAND in fake.commands["chuv"]
    rows = doctor.diagnose(stack, Access(stack.ssh, None), cert_warn_days=90)
    assert [r.status for r in rows if r.check == "certificate"] == ["WARN", "WARN"]
