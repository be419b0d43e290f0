"""What a run that never reached "working" leaves behind, read from the leader's dockerd (its unix
socket): the master's and the keystore's container logs, the keystore's keys (the Consul KV
listing, asked inside the keystore's container) and every task's state, with the master's last
answer. Saved into the run's directory so that the failure can be explained afterwards."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.endstate import exareme_check
from bench.spec import EXAREME_PORT, KEYSTORE, MASTER
from tests.lab import Lab

KV_LISTING = ["wget", "-q", "-O", "-", "http://127.0.0.1:8500/v1/kv/?recurse"]


def _containers(api: Any, service: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.containers(
        all=True, filters={"label": f"com.docker.swarm.service.name={service}"}
    )
    return sorted(found, key=lambda c: c.get("Created", 0))


def _logs(api: Any, service: str) -> str:
    parts = []
    for container in _containers(api, service):
        text = api.logs(container["Id"], timestamps=True, tail=2000).decode(errors="replace")
        parts.append(f"== {container['Names'][0]} ({container['Status']})\n{text}")
    return "\n".join(parts) or f"no container of {service} on the leader\n"


def _keys(api: Any) -> str:
    running = [c for c in _containers(api, KEYSTORE) if c.get("State") == "running"]
    if not running:
        return "the keystore has no running container on the leader\n"
    run = api.exec_create(running[-1]["Id"], KV_LISTING)
    return str(api.exec_start(run["Id"]).decode(errors="replace"))


def _tasks(api: Any) -> list[dict[str, Any]]:
    services = {s["ID"]: s["Spec"]["Name"] for s in api.services()}
    nodes = {n["ID"]: n["Description"]["Hostname"] for n in api.nodes()}
    return [
        {
            "service": services.get(t["ServiceID"], t["ServiceID"]),
            "node": nodes.get(t.get("NodeID", ""), t.get("NodeID", "")),
            "desired": t.get("DesiredState"),
            "state": t["Status"].get("State"),
            "message": t["Status"].get("Message", ""),
            "error": t["Status"].get("Err", ""),
            "timestamp": t["Status"].get("Timestamp", ""),
        }
        for t in sorted(api.tasks(), key=lambda t: t["CreatedAt"])
    ]


def save(lab: Lab, directory: Path) -> list[str]:
    """Write the evidence files into `directory`; returns the names written (what could not be
    read is written as the error that stopped it)."""
    directory.mkdir(parents=True, exist_ok=True)
    client = lab.docker(1)
    readers: dict[str, Callable[[], str]] = {
        "master.log": lambda: _logs(client.api, MASTER),
        "keystore.log": lambda: _logs(client.api, KEYSTORE),
        "keystore-keys.json": lambda: _keys(client.api),
        "tasks.json": lambda: json.dumps(_tasks(client.api), indent=1),
    }
    check = exareme_check()
    if check is not None:
        readers["master-answer.json"] = lambda: json.dumps(
            check.master_answer(lab, 1, EXAREME_PORT), indent=1
        )
    written = []
    try:
        for name, read in readers.items():
            try:
                text = read()
            except Exception as error:  # evidence is best effort: keep what can be read
                text = f"could not read: {error}\n"
            (directory / name).write_text(text)
            written.append(name)
    finally:
        client.close()
    return written
