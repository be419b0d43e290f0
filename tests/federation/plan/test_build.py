"""Building a plan: the golden plan of every stack, what a plan shows and never shows."""

from __future__ import annotations

import difflib
import json
import os

import pytest

from federation.plan import SECRET, make_plan, render_json, render_table
from tests.federation.plan.stacks import PLANS, STACKS, refresh_hint


@pytest.mark.parametrize("stack", STACKS)
def test_golden_plan_is_up_to_date(stack):
    golden = PLANS / f"{stack}.txt"
    assert golden.is_file(), f"no golden plan for stack {stack}: run {refresh_hint(stack)}"
    expected = golden.read_text(encoding="utf-8")
    actual = render_table(make_plan(stack))
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                f"tests/plans/{stack}.txt",
                "plan now",
            )
        )
        pytest.fail(
            f"the plan of stack {stack} changed. If the change is intended, refresh the golden "
            f"file in the same commit so the pull request shows it:\n    {refresh_hint(stack)}\n"
            f"{diff}"
        )


def test_every_golden_plan_has_its_stack_file():
    stale = sorted(p.name for p in PLANS.glob("*.txt") if p.stem not in STACKS)
    assert stale == [], f"golden plans without a Pulumi.<stack>.yaml: {stale}; remove them"
    assert "prod" in STACKS


def test_plan_is_deterministic():
    first, second = make_plan("prod"), make_plan("prod")
    assert render_table(first) == render_table(second)
    assert render_json(first) == render_json(second)


def test_prod_plan_shows_nodes_placeholders_and_secrets():
    plan = make_plan("prod")
    by_name = {r.name: r for r in plan.resources}
    assert str(by_name["join-lille"].node) == "lille (lille-mip.example.org)"
    assert str(by_name["node-lille"].node) == "chuv (192.0.2.10)", "labels are set on the leader"
    assert str(by_name["exareme-worker-brescia"].node) == "brescia (203.0.113.31)"
    assert str(by_name["overlay-network"].node) == "chuv (192.0.2.10)"
    assert str(by_name["leader-docker"].node) == "chuv (192.0.2.10)"
    assert by_name["mip-federation"].node is None
    join = by_name["join-hug"].inputs
    assert join["stdin"] == SECRET
    assert "privateKey" not in join["connection"], "prod logs in through the agent"
    assert join["connection"]["user"] == "mipadmin"
    assert "NODE_ID='<join-hug.stdout>'" in by_name["node-hug"].inputs["create"]
    assert "NODE_ID='<swarm-init.stdout.nodeId>'" in by_name["node-chuv"].inputs["create"]
    env = by_name["exareme-worker-hug"].inputs["taskSpec"]["containerSpec"]["env"]
    assert "RAWPASSWORD" not in env and by_name["ldsm-hug"].inputs["data"] == SECRET
    assert env["RAWHOST"] == "198.51.100.21"
    network_id = by_name["exareme-master"].inputs["taskSpec"]["networksAdvanceds"][0]["id"]
    assert network_id == "<overlay-network.id>"
    assert plan.outputs["swarmId"] == "<swarm-init.stdout.swarmId>"


def test_plan_shows_delete_before_replace_and_ignored_changes():
    plan = make_plan("prod")
    network = next(r for r in plan.resources if r.name == "overlay-network")
    assert network.delete_before_replace and network.ignore_changes == []
    table = render_table(plan)
    assert "    (deleteBeforeReplace)" in table
    assert (
        "    (ignoreChanges)                              [taskSpec.placement.platforms]" in table
    )
    document = json.loads(render_json(plan))
    service = next(r for r in document["resources"] if r["name"] == "exareme-master")
    assert service["deleteBeforeReplace"] is True
    assert service["ignoreChanges"] == [
        "taskSpec.containerSpec.env.EXA_WORKERS_WAIT",
        "taskSpec.placement.platforms",
    ]


def test_an_agent_stack_is_planned_with_a_stand_in_agent_and_no_key(monkeypatch):
    """Pulumi.prod.yaml sets neither sshPrivateKey nor ssh.privateKeyFile: the program sends no
    privateKey and `pulumi up` wants a live agent, so the plan stands in an agent socket, not a
    key, and puts SSH_AUTH_SOCK back afterwards."""
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    plan = make_plan("prod")
    commands = [r for r in plan.resources if r.typ == "command:remote:Command"]
    assert commands
    assert all("privateKey" not in r.inputs["connection"] for r in commands)
    assert any("stand-in agent socket" in note for note in plan.notes)
    assert "SSH_AUTH_SOCK" not in os.environ
