"""Changing a live federation (issue 21): a hospital added, one removed, one drained for
maintenance and returned, while a client polls the master every 0.2 s. No poll fails, every other
worker is reachable in every answer, and no other service's task restarts."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.e2e.conftest import running_tasks, swarm_nodes, wait_for
from tests.lab.exareme_check import master_answer, reachable_workers, reports_all

pytestmark = pytest.mark.lab

NAMES = ["chuv", "hug", "bern", "zurich"]


def ldsm(config: dict[str, Any]) -> dict[str, Any]:
    return {"ldsmPasswords": {n["name"]: f"ldsm-pw-{n['name']}" for n in config["nodes"]}}


POLL_INTERVAL = 0.2


@dataclass
class Poller:
    """Polls the master's /mining/query every POLL_INTERVAL s in a thread while in a `with`."""

    lab: Any
    answers: list[dict[str, Any] | None] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _run(self) -> None:
        while not self._stop.wait(POLL_INTERVAL):
            self.answers.append(master_answer(self.lab, 1))

    def __enter__(self) -> Poller:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def check(self, always_reachable: set[str]) -> None:
        failed = sum(answer is None for answer in self.answers)
        missing = [
            sorted(always_reachable - reachable_workers(answer))
            for answer in self.answers
            if answer is not None and not always_reachable <= reachable_workers(answer)
        ]
        print(f"{len(self.answers)} polls, {failed} failed, {len(missing)} missing a worker")
        assert self.answers, "the poller never ran"
        assert failed == 0, f"{failed} of {len(self.answers)} polls got no answer"
        assert missing == [], f"polls that missed a worker: {missing[:5]}"


def tasks_of(lab: Any, services: set[str]) -> dict[str, tuple[str, str]]:
    tasks = running_tasks(lab)
    return {name: tasks[name] for name in services}


def others(*names: str) -> set[str]:
    return {"exareme-keystore", "exareme-master", *(f"exareme-worker-{n}" for n in names)}


def test_add_remove_and_maintenance_keep_the_federation_answering(federation):
    lab = federation.lab
    config = federation.config(NAMES[:3])
    config["portal"] = {"enabled": False}
    first = federation.deploy(config, ldsm(config))
    assert first.ok, first.errors
    wait_for(lambda: reports_all(master_answer(lab, 1), NAMES[:3]), 90, what="working")

    # Add zurich: only its resources are created; the others' tasks stay as they were.
    before = tasks_of(lab, others("hug", "bern"))
    grown = federation.config(NAMES)
    grown["portal"] = config["portal"]
    with Poller(lab) as added:
        result = federation.deploy(grown, ldsm(grown))
        assert result.ok, result.errors
        wait_for(lambda: reports_all(master_answer(lab, 1), NAMES), 90, what="zurich listed")
    added.check({"hug", "bern"})
    assert not result.ops("update") and not result.ops("replace")
    assert tasks_of(lab, set(before)) == before

    # Remove hug.
    before = tasks_of(lab, others("bern", "zurich"))
    smaller = dict(grown, nodes=[n for n in grown["nodes"] if n["name"] != "hug"])
    with Poller(lab) as removed:
        result = federation.deploy(smaller, ldsm(smaller))
        assert result.ok, result.errors
    removed.check({"bern", "zurich"})
    assert not result.ops("update") and not result.ops("replace")
    assert tasks_of(lab, set(before)) == before

    # bern in maintenance: drained, its worker stops, the master answers with zurich.
    before = tasks_of(lab, others("zurich"))
    drained = dict(
        smaller, nodes=[{**n, "maintenance": n["name"] == "bern"} for n in smaller["nodes"]]
    )
    with Poller(lab) as maintenance:
        result = federation.deploy(drained, ldsm(drained))
        assert result.ok, result.errors
        wait_for(
            lambda: (
                "exareme-worker-bern" not in running_tasks(lab)
                and "bern" not in reachable_workers(master_answer(lab, 1))
            ),
            60,
            what="bern's worker stopped",
        )
    maintenance.check({"zurich"})
    assert [o["name"] for o in result.ops("update")] == ["node-bern"]
    bern_host = lab.host(3).name
    assert swarm_nodes(lab)[bern_host]["availability"] == "drain"
    assert tasks_of(lab, set(before)) == before

    # Back from maintenance: active again, bern's worker rejoins the running federation.
    with Poller(lab) as back:
        result = federation.deploy(smaller, ldsm(smaller))
        assert result.ok, result.errors
        wait_for(lambda: reports_all(master_answer(lab, 1), ["bern", "zurich"]), 90, what="bern")
    back.check({"zurich"})
    assert [o["name"] for o in result.ops("update")] == ["node-bern"]
    assert swarm_nodes(lab)[bern_host]["availability"] == "active"
    assert tasks_of(lab, set(before)) == before
