"""Reading the hosts, with a fake connection."""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any

import pytest

from federation import doctor
from federation.doctor import Access, DoctorError, Probe, Result, SshError, cli, hosts
from tests.federation.doctor.canned import in_sync, settings


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
    assert doctor.read_live(connection) == live  # type: ignore[arg-type]
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
def test_probe_reports_what_the_host_says(monkeypatch, answer, note):
    @contextmanager
    def fake_connect(node, access):
        yield FakeConnection({doctor.SWARM_COMMAND: answer})

    monkeypatch.setattr(hosts, "connect", fake_connect)
    stack = settings(ssh={"user": "mipadmin"})
    assert doctor.probe(stack.nodes[1], Access(stack.ssh, None)).note == note


def test_unreachable_or_untrusted_host_in_a_probe_and_unreachable_leader(monkeypatch):
    error = SshError("hug (198.51.100.21:22)", "host key mismatch: ...", refused=True)

    @contextmanager
    def failing_connect(node, access):
        raise error
        yield

    monkeypatch.setattr(hosts, "connect", failing_connect)
    monkeypatch.setattr(cli, "connect", failing_connect)
    stack = settings()
    access = Access(stack.ssh, None)
    assert doctor.probe(stack.nodes[1], access) == Probe(
        "host: host key mismatch: ...", refused=True
    )
    with pytest.raises(DoctorError, match=r"leader: hug \(198.51.100.21:22\): host key mismatch"):
        doctor.diagnose(stack, access)


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
