"""What a run that never works keeps (bench/evidence.py), against a stand-in Docker API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import evidence


class FakeApi:
    def __init__(self) -> None:
        self.closed = False

    def containers(self, all: bool, filters: dict[str, str]) -> list[dict[str, Any]]:
        service = filters["label"].split("=", 1)[1]
        return [{"Id": service, "Names": [f"/{service}.1"], "Status": "Up", "State": "running"}]

    def logs(self, container: str, timestamps: bool, tail: int) -> bytes:
        return f"log of {container}\n".encode()

    def exec_create(self, container: str, cmd: list[str]) -> dict[str, str]:
        assert container == "exareme-keystore" and "kv" in cmd[-1]
        return {"Id": "x"}

    def exec_start(self, exec_id: str) -> bytes:
        return b'[{"Key": "active_workers/hosp1"}]'

    def services(self) -> list[dict[str, Any]]:
        return [{"ID": "s1", "Spec": {"Name": "exareme-master"}}]

    def nodes(self) -> list[dict[str, Any]]:
        return [{"ID": "n1", "Description": {"Hostname": "lab1"}}]

    def tasks(self) -> list[dict[str, Any]]:
        status = {"State": "running", "Message": "started", "Timestamp": "t"}
        return [{"ServiceID": "s1", "NodeID": "n1", "DesiredState": "running",
                 "CreatedAt": "c", "Status": status}]  # fmt: skip


class FakeClient:
    def __init__(self) -> None:
        self.api = FakeApi()
        self.closed = False

    def close(self) -> None:
        self.closed = True


class FakeLab:
    def __init__(self) -> None:
        self.client = FakeClient()

    def docker(self, index: int) -> FakeClient:
        assert index == 1  # the leader
        return self.client


def test_the_evidence_is_written_and_the_client_closed(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(evidence, "exareme_check", lambda: None)
    lab = FakeLab()
    written = evidence.save(lab, tmp_path / "evidence-deploy")  # type: ignore[arg-type]
    assert written == ["master.log", "keystore.log", "keystore-keys.json", "tasks.json"]
    folder = tmp_path / "evidence-deploy"
    assert "log of exareme-master" in (folder / "master.log").read_text()
    assert "active_workers/hosp1" in (folder / "keystore-keys.json").read_text()
    tasks = json.loads((folder / "tasks.json").read_text())
    assert tasks == [
        {"service": "exareme-master", "node": "lab1", "desired": "running", "state": "running",
         "message": "started", "error": "", "timestamp": "t"}
    ]  # fmt: skip
    assert lab.client.closed


def test_what_cannot_be_read_is_written_as_its_error(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(evidence, "exareme_check", lambda: None)
    lab = FakeLab()

    def refused(*_: object, **__: object) -> list[dict[str, Any]]:
        raise OSError("connection refused")

    monkeypatch.setattr(lab.client.api, "tasks", refused)
    evidence.save(lab, tmp_path)  # type: ignore[arg-type]
    assert "could not read: connection refused" in (tmp_path / "tasks.json").read_text()
