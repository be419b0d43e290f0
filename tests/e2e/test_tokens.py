"""On the lab: rotating the join tokens (swarm.joinTokenRotation) leaves the members alone, refuses
the old token and lets a new hospital join with the new one."""

from __future__ import annotations

from typing import Any

import pytest

from federation.stackfile import config_text
from tests.e2e.conftest import (
    Federation,
    sh,
    swarm_nodes,
    swarm_state,
    wait_for,
    with_ldsm_passwords,
)
from tests.engine import preview
from tests.program import ROOT

pytestmark = pytest.mark.lab


def tokens(federation: Federation) -> tuple[str, str]:
    lab = federation.lab
    worker, manager = (sh(lab, 1, f"docker swarm join-token -q {r}") for r in ("worker", "manager"))
    assert worker.startswith("SWMTKN-") and manager.startswith("SWMTKN-")
    return worker, manager


def planned(federation: Federation, config: dict[str, Any]) -> dict[str, str]:
    """resource name -> the step a preview plans for it."""
    secrets = with_ldsm_passwords(config)  # as Federation.deploy gives them
    engine_config = {
        f"mip-federation:{k}": config_text(v) for k, v in {**config, **secrets}.items()
    }
    secret_keys = [f"mip-federation:{k}" for k in secrets]
    result = preview(
        ROOT, federation.stack, engine_config, secret_keys, state_file=federation.state_file
    )
    assert result.ok, result.errors
    return result.step_ops()


def member_ids(federation: Federation) -> dict[str, str]:
    return {host: node["id"] for host, node in swarm_nodes(federation.lab).items()}


def test_rotation_refuses_the_old_token_keeps_members_and_lets_a_new_hospital_join(federation):
    lab = federation.lab
    first, second, third = (lab.host(i) for i in (1, 2, 3))
    config = federation.config(["chuv", "hug"])
    assert federation.deploy(config).ok
    old_worker, old_manager = tokens(federation)
    members = member_ids(federation)

    # The plan of a rotation: only the tokens command is replaced; no join runs again.
    config["swarm"] = {"joinTokenRotation": "2026-12-01 hug's old key leaked"}
    plan = planned(federation, config)
    assert plan["swarm-join-tokens"] == "replace"
    assert plan["join-hug"] == plan["swarm-init"] == plan["node-hug"] == "same"
    assert {name for name, op in plan.items() if op != "same"} == {"swarm-join-tokens"}

    rotated = federation.deploy(config)
    assert rotated.ok, rotated.errors
    changed = {o["name"] for o in rotated.operations if o["op"] != "same"}
    assert changed == {"swarm-join-tokens"}, rotated.operations
    new_worker, new_manager = tokens(federation)
    assert new_worker != old_worker and new_manager != old_manager
    assert member_ids(federation) == members, "members are untouched"
    assert all(n["state"] == "ready" for n in swarm_nodes(lab).values())

    # A real `docker swarm join` with the old worker token is refused by the manager.
    refused = lab.run(
        3,
        f"timeout 60 docker swarm join --token {old_worker} {first.ip}:2377",
        check=False,
    )
    assert refused.returncode != 0, refused.stdout
    print("old token:", refused.stderr.strip())
    assert "token" in refused.stderr.lower(), refused.stderr
    assert second.name in swarm_nodes(lab) and third.name not in swarm_nodes(lab)
    wait_for(
        lambda: swarm_state(lab, 3) in ("inactive", "pending", "error"),
        what="the refused host out of any swarm",
    )

    # A new hospital joins with the new token; the others stay as they were.
    grown = dict(config, nodes=federation.config(["chuv", "hug", "bern"])["nodes"])
    joined = federation.deploy(grown)
    assert joined.ok, joined.errors
    assert {o["name"] for o in joined.ops("create")} >= {"join-bern", "node-bern"}
    # The master is left alone (EXA_WORKERS_WAIT counts only for the first bootstrap).
    assert not joined.ops("update")
    assert not joined.ops("replace")
    assert swarm_nodes(lab)[third.name]["state"] == "ready"
    assert {h: i for h, i in member_ids(federation).items() if h != third.name} == members

    # A further up is all same.
    again = federation.deploy(grown)
    assert again.ok and {o["op"] for o in again.operations} == {"same"}, again.operations
