"""Swarm membership under mocks: init, joins, node roles/labels, token flow and removal steps."""

from __future__ import annotations

import copy
import json

import pytest

from tests.program import (
    LEADER_NODE_ID,
    MANAGER_TOKEN,
    SECRET_MARK,
    WORKER_TOKEN,
    is_secret_wrapper,
)


def test_one_manager_and_workers_graph(run, config):
    ev = run(config)
    names = sorted(c.name for c in ev.commands)
    assert names == sorted(
        ["swarm-init", "swarm-join-tokens"]
        + [f"join-{n}" for n in ("hug", "brescia", "lille")]
        + [f"node-{n}" for n in ("chuv", "hug", "brescia", "lille")]
        + [f"probe-{n}" for n in ("chuv", "hug", "brescia", "lille")]  # federation/probe.py
        + ["query-port-firewall"]  # federation/firewall.py
    )


def test_init_runs_on_leader_with_advertise_addr(run, config):
    init = run(config).named("swarm-init").plain
    assert init["connection"]["host"] == "192.0.2.10"
    assert "ADVERTISE_ADDR=192.0.2.10\n" in init["create"]
    assert 'docker swarm init --advertise-addr "$ADVERTISE_ADDR"' in init["create"]
    assert init["logging"] == "none"
    assert "docker swarm leave --force" in init["delete"]


def test_join_runs_on_its_node_and_takes_the_worker_token_on_stdin(run, config):
    ev = run(config)
    join = ev.named("join-hug")
    assert join.plain["connection"]["host"] == "198.51.100.21"
    assert is_secret_wrapper(join.inputs["stdin"]), "the join request must be a secret input"
    request = json.loads(join.plain["stdin"])
    assert request["JoinToken"] == WORKER_TOKEN
    assert request["RemoteAddrs"] == ["192.0.2.10:2377"]
    assert "MANAGER_ADDRS=192.0.2.10:2377\n" in join.plain["create"]
    assert request["AdvertiseAddr"] == "198.51.100.21"
    assert WORKER_TOKEN not in join.plain["create"] and WORKER_TOKEN not in join.plain["delete"]


def test_three_managers_join_with_the_manager_token(run, config):
    config["nodes"][1]["role"] = "manager"
    config["nodes"][2]["role"] = "manager"
    ev = run(config)
    assert json.loads(ev.named("join-hug").plain["stdin"])["JoinToken"] == MANAGER_TOKEN
    assert json.loads(ev.named("join-brescia").plain["stdin"])["JoinToken"] == MANAGER_TOKEN
    assert json.loads(ev.named("join-lille").plain["stdin"])["JoinToken"] == WORKER_TOKEN
    assert "ROLE=manager\n" in ev.named("node-hug").plain["create"]
    assert "ROLE=worker\n" in ev.named("node-lille").plain["create"]


def test_first_manager_leads_even_if_listed_after_workers(run, config):
    config["nodes"] = [config["nodes"][1], config["nodes"][0], *config["nodes"][2:]]
    ev = run(config)
    assert ev.named("swarm-init").plain["connection"]["host"] == "192.0.2.10"
    assert {c.name for c in ev.commands if c.name.startswith("join-")} == {
        "join-hug",
        "join-brescia",
        "join-lille",
    }


def test_labels_are_applied_on_the_leader_with_node_ids_from_joins(run, config):
    ev = run(config)
    for alias in ("chuv", "hug", "brescia", "lille"):
        node = ev.named(f"node-{alias}").plain
        assert node["connection"]["host"] == "192.0.2.10", "labels are applied on the leader"
        assert f"NODE={alias}\n" in node["create"]
        assert "AVAILABILITY=active\n" in node["create"]
        assert (
            'node_update --role "$ROLE" --availability "$AVAILABILITY" --label-add "name=$NODE"'
        ) in node["create"]
    assert f"NODE_ID={LEADER_NODE_ID}\n" in ev.named("node-chuv").plain["create"]
    assert "NODE_ID=nodeid-hug\n" in ev.named("node-hug").plain["create"]


def test_removal_steps(run, config):
    ev = run(config)
    worker = ev.named("node-hug").plain["delete"]
    assert "KEEP_NODE=no\n" in worker and "NODE_ID=nodeid-hug\n" in worker
    assert "--availability drain" in worker and "docker node rm --force" in worker
    assert "KEEP_NODE=yes\n" in ev.named("node-chuv").plain["delete"]
    leave = ev.named("join-hug").plain["delete"]
    assert "docker swarm leave --force" in leave and "NODE=hug\n" in leave


def test_ssh_connection_uses_key_host_key_and_bounded_dialing(run, config):
    config["nodes"][1]["hostKey"] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIaD"
    ev = run(config)
    join = ev.named("join-hug")
    assert join.visible["connection"] is SECRET_MARK, "the connection holds the private key"
    conn = join.plain["connection"]
    assert conn["user"] == "mipadmin" and conn["port"] == 22
    assert conn["hostKey"] == "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIaD"
    assert conn["dialErrorLimit"] * conn["perDialTimeout"] <= 60


def test_init_stdout_holding_tokens_is_a_secret_output(run, config):
    init = run(config).named("swarm-init")
    assert "stdout" in init.additional_secret_outputs


@pytest.mark.parametrize("role", ["worker", "manager"])
def test_swarm_id_output_is_plain_and_tokens_never_exported(run, config, role):
    if role == "manager":
        config["nodes"][1]["role"] = config["nodes"][2]["role"] = "manager"
    ev = run(config)
    assert ev.outputs["swarmId"] == "swarmid0123456789"
    dumped = json.dumps(ev.outputs)
    assert WORKER_TOKEN not in dumped and MANAGER_TOKEN not in dumped


# --- join tokens and their rotation --------------------------------------------------------------


def test_join_tokens_are_read_on_the_control_manager_secret_and_never_logged(run, config):
    ev = run(config)
    tokens = ev.named("swarm-join-tokens")
    assert tokens.plain["connection"]["host"] == "192.0.2.10"
    assert tokens.plain["logging"] == "none"
    assert "stdout" in tokens.additional_secret_outputs
    assert "ROTATE=no\n" in tokens.plain["create"] and "ROTATE=no\n" in tokens.plain["update"]
    assert tokens.plain["triggers"] == [""]
    assert "docker swarm join-token --rotate" in tokens.plain["create"]


def test_rotation_text_is_the_trigger_and_only_create_rotates(run, config):
    config["swarm"] = {"joinTokenRotation": "after hug left, 2026-12-01"}
    tokens = run(config).named("swarm-join-tokens").plain
    assert tokens["triggers"] == ["after hug left, 2026-12-01"]
    assert "ROTATE=yes\n" in tokens["create"]
    assert "ROTATE=no\n" in tokens["update"], "a connection change only reads the tokens"


def test_joins_ignore_their_stdin_so_a_rotation_never_reruns_a_member(run, config):
    ev = run(config)
    for alias in ("hug", "brescia", "lille"):
        join = ev.named(f"join-{alias}")
        assert join.ignore_changes == ["stdin", "create"]
        assert any(d.endswith("::swarm-join-tokens") for d in join.dependencies)


def test_a_rotation_changes_only_the_tokens_command(run, config):
    before = {(r.typ, r.name): r.plain for r in run(copy.deepcopy(config)).resources}
    config["swarm"] = {"joinTokenRotation": "2026-12-01"}
    after = {(r.typ, r.name): r.plain for r in run(config).resources}
    assert set(before) == set(after)
    changed = {key for key in before if before[key] != after[key]}
    assert changed == {("command:remote:Command", "swarm-join-tokens")}


# --- certificates: lifetime and CA rotation ----------------------------------------------------


def test_no_certificate_commands_unless_configured(run, config):
    names = {c.name for c in run(config).commands}
    assert not names & {"swarm-cert-expiry", "swarm-ca-rotation"}


def test_cert_expiry_is_set_on_the_control_manager_and_reset_by_its_delete(run, config):
    config["swarm"] = {"certExpiry": "720h"}
    expiry = run(config).named("swarm-cert-expiry")
    assert expiry.plain["connection"]["host"] == "192.0.2.10"
    assert "EXPIRY=720h0m0s\n" in expiry.plain["create"]
    assert "EXPIRY=2160h0m0s\n" in expiry.plain["delete"], "removed: Docker's 90 days again"
    assert 'docker swarm update --cert-expiry "$EXPIRY"' in expiry.plain["create"]
    assert {d.rsplit("::", 1)[1] for d in expiry.dependencies} >= {"node-chuv", "node-lille"}


def test_ca_rotation_text_is_the_trigger_and_only_create_rotates(run, config):
    config["swarm"] = {"caRotation": "2026-12-01", "certExpiry": "720h"}
    rotation = run(config).named("swarm-ca-rotation")
    assert rotation.plain["triggers"] == ["2026-12-01"]
    assert "ROTATE=yes\n" in rotation.plain["create"]
    assert "ROTATE=no\n" in rotation.plain["update"], "a connection change only checks"
    assert "docker swarm ca --rotate" in rotation.plain["create"]
    # The new certificates get the configured lifetime: the rotation runs after it is set.
    assert any(d.endswith("::swarm-cert-expiry") for d in rotation.dependencies)


@pytest.mark.parametrize(
    ("before", "after", "changed"),
    [
        ({"caRotation": "a"}, {"caRotation": "b"}, "swarm-ca-rotation"),
        ({"certExpiry": "720h"}, {"certExpiry": "1440h"}, "swarm-cert-expiry"),
    ],
)
def test_a_certificate_change_changes_only_its_command(run, config, before, after, changed):
    first = {(r.typ, r.name): r.plain for r in run(dict(config, swarm=before)).resources}
    second = {(r.typ, r.name): r.plain for r in run(dict(config, swarm=after)).resources}
    assert set(first) == set(second)
    assert {key for key in first if first[key] != second[key]} == {
        ("command:remote:Command", changed)
    }


# --- autolock ----------------------------------------------------------------------------------


def test_no_autolock_resource_or_output_unless_configured(run, config):
    ev = run(config)
    assert "swarm-autolock" not in {c.name for c in ev.commands}
    assert "swarmUnlockKey" not in ev.outputs


def test_autolock_on_exports_the_unlock_key_as_a_secret_output(run, config):
    config["swarm"] = {"autolock": True}
    ev = run(config)
    autolock = ev.named("swarm-autolock")
    assert autolock.plain["connection"]["host"] == "192.0.2.10"
    assert "AUTOLOCK=true\n" in autolock.plain["create"]
    assert "AUTOLOCK=false\n" in autolock.plain["delete"], "removing the key turns it off"
    assert 'docker swarm update --autolock="$AUTOLOCK"' in autolock.plain["create"]
    assert autolock.plain["logging"] == "none"
    assert "stdout" in autolock.additional_secret_outputs
    assert "swarmUnlockKey" in ev.secret_outputs
    assert {d.rsplit("::", 1)[1] for d in autolock.dependencies} >= {"node-chuv", "node-hug"}


def test_autolock_off_turns_it_off_and_exports_no_key(run, config):
    config["swarm"] = {"autolock": False}
    ev = run(config)
    assert "AUTOLOCK=false\n" in ev.named("swarm-autolock").plain["create"]
    assert "swarmUnlockKey" not in ev.outputs


def test_a_node_in_maintenance_is_drained_and_set_back_to_active(run, config):
    config["nodes"][2]["maintenance"] = True
    ev = run(config)
    assert "AVAILABILITY=drain\n" in ev.named("node-brescia").plain["create"]
    assert "AVAILABILITY=active\n" in ev.named("node-hug").plain["create"]
    config["nodes"][2]["maintenance"] = False
    assert "AVAILABILITY=active\n" in run(config).named("node-brescia").plain["create"]
