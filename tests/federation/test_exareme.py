"""Exareme services under mocks: placement, environment, restart policy, ports, networks."""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from federation.config import ConfigError
from federation.exareme import START_COMMAND, go_duration, short_duration
from federation.scripts import render
from tests.program import SECRET_MARK, evaluate

# Service fields the docker provider's Read writes back with its shortDur (Go's Duration.String
# without a trailing 0s/0m): restart policy, update/rollback config, healthcheck, grace period.
DURATION_FIELDS = {
    "delay",
    "window",
    "monitor",
    "interval",
    "timeout",
    "startPeriod",
    "stopGracePeriod",
}
GO_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9}
GO_UNITS["h"] = 60 * GO_UNITS["m"]


def env_of(ev, name):
    return ev.named(name).plain["taskSpec"]["containerSpec"]["env"]


def test_keystore_and_master_on_the_leader_workers_on_their_nodes(run, config):
    ev = run(config)
    assert sorted(s.name for s in ev.services) == sorted(
        ["exareme-keystore", "exareme-master"]
        + [f"exareme-worker-{n}" for n in ("hug", "brescia", "lille")]
    )
    placement = {s.name: s.plain["taskSpec"]["placement"]["constraints"] for s in ev.services}
    assert placement["exareme-keystore"] == ["node.role == manager", "node.labels.name == chuv"]
    assert placement["exareme-master"] == ["node.role == manager", "node.labels.name == chuv"]
    assert placement["exareme-worker-hug"] == ["node.role == worker", "node.labels.name == hug"]


def test_services_wait_for_their_node_label(run, config):
    ev = run(config)
    assert any(d.endswith("::node-hug") for d in ev.named("exareme-worker-hug").dependencies)
    # The leader's services wait for the query port's firewall, which waits for the leader's
    # node: the master's port is never published unfiltered (federation/firewall.py).
    assert any(d.endswith("::query-port-firewall") for d in ev.named("exareme-master").dependencies)
    assert any(d.endswith("::node-chuv") for d in ev.named("query-port-firewall").dependencies)


def test_keystore_is_consul_server_bootstrap_reachable_by_name(run, config):
    keystore = run(config).named("exareme-keystore").plain
    spec = keystore["taskSpec"]
    assert spec["containerSpec"]["image"] == "hashicorp/consul:1.15.4"
    assert "-server" in spec["containerSpec"]["args"]
    assert "-bootstrap" in spec["containerSpec"]["args"]
    assert spec["networksAdvanceds"] == [
        {"id": "overlay-network-id", "aliases": ["exareme-keystore"]}
    ]


def test_master_environment(run, config):
    env = env_of(run(config), "exareme-master")
    assert env["CONSULURL"] == "exareme-keystore:8500"
    assert env["MASTER_FLAG"] == "master"
    assert env["NODE_NAME"] == "chuv"
    assert env["EXA_WORKERS_WAIT"] == "3"
    assert env["MODE"] == "global"
    assert env["RAWHOST"] == "192.0.2.10"
    assert "RAWPASSWORD" not in env, "the password comes from the node's swarm secret"
    assert {k: env[k] for k in ("RAWENDPOINT", "RAWRESULTS", "RAWDATAKEY")} == {
        "RAWENDPOINT": "query",
        "RAWRESULTS": "all",
        "RAWDATAKEY": "output",
    }


def test_the_master_waits_only_for_workers_not_in_maintenance(run, config):
    config["nodes"][2]["maintenance"] = True
    assert env_of(run(config), "exareme-master")["EXA_WORKERS_WAIT"] == "2"


def test_worker_environment_uses_its_ldsm(run, config):
    config["nodes"][1]["ldsm"] = {"host": "198.51.100.22", "port": 31556, "database": "hugdb"}
    config["exareme"] = {"env": {"EXAREME_JAVA_OPTS": "-Xmx2g"}}
    env = env_of(run(config), "exareme-worker-hug")
    assert "MASTER_FLAG" not in env and "EXA_WORKERS_WAIT" not in env
    assert env["NODE_NAME"] == "hug"
    assert env["RAWHOST"] == "198.51.100.22"
    assert env["RAWPORT"] == "31556"
    assert env["RAWDB"] == "hugdb"
    assert env["RAWUSERNAME"] == "ldsm"
    assert env["EXAREME_JAVA_OPTS"] == "-Xmx2g"


TASKS = {
    "chuv": "exareme-master",
    **{n: f"exareme-worker-{n}" for n in ("hug", "brescia", "lille")},
}


def test_each_password_is_a_swarm_secret_mounted_only_into_its_nodes_task(run, config):
    ev = run(config)
    secrets = {r.name: r for r in ev.resources if r.typ == "docker:index/secret:Secret"}
    assert set(secrets) == {f"ldsm-{node}" for node in TASKS}
    for node, service in TASKS.items():
        secret = secrets[f"ldsm-{node}"]
        # The data is the password, base64 (the provider decodes it), and a secret input.
        assert base64.b64decode(secret.plain["data"]).decode() == f"ldsm-password-of-{node}"
        assert secret.visible["data"] is SECRET_MARK
        # No name: the provider names it `ldsm-<node>-<7 random hex>`, nothing from the password.
        assert "name" not in secret.plain
        assert secret.parent.endswith("::exareme") and "leader-docker" in (secret.provider or "")
        spec = ev.named(service).plain["taskSpec"]["containerSpec"]
        assert spec["secrets"] == [
            {"secretId": f"ldsm-{node}-id", "fileName": "ldsm-password", "fileMode": 0o400}
        ]
        assert spec["commands"] == START_COMMAND
        assert not any(f"ldsm-password-of-{node}" in str(v) for v in spec["env"].values())
    assert "secrets" not in ev.named("exareme-keystore").plain["taskSpec"]["containerSpec"]


def test_only_its_nodes_service_takes_an_input_from_a_password_secret(run, config):
    # Whatever a password change replaces flows, through the new secret's id, into that one
    # service (the portal only waits for the Exareme component as a whole).
    ev = run(config)
    for node, service in TASKS.items():
        users = {
            r.name
            for r in ev.resources
            for urns in r.property_dependencies.values()
            if any(u.endswith(f"::ldsm-{node}") for u in urns)
        }
        assert users == {service}


def start(tmp_path: Path, password: bytes | None) -> subprocess.CompletedProcess[str]:
    """START_COMMAND's script, with the secret file and the image's workdir in tmp_path; the
    image's bootstrap.sh stands in as a script that prints what it got."""
    (tmp_path / "bootstrap.sh").write_text('printf "%s|%s" "$RAWPASSWORD" "$0"\n')
    if password is not None:
        (tmp_path / "secret").write_bytes(password)
    script = render("exareme_start", PASSWORD_FILE=str(tmp_path / "secret"))
    return subprocess.run(
        ["/bin/sh", "-c", script], cwd=tmp_path, capture_output=True, text=True, env={}
    )


def test_start_command_reads_the_secret_and_execs_the_images_bootstrap(tmp_path):
    assert START_COMMAND[:2] == ["/bin/sh", "-c"]
    assert "PASSWORD_FILE=/run/secrets/ldsm-password\n" in START_COMMAND[2]
    assert START_COMMAND[2].endswith("exec /bin/bash bootstrap.sh\n")
    done = start(tmp_path, b"pw with 'quotes' $(and) spaces")
    assert (done.returncode, done.stdout) == (0, "pw with 'quotes' $(and) spaces|bootstrap.sh")


def test_start_command_without_the_secret_file_fails_before_bootstrap(tmp_path):
    done = start(tmp_path, None)
    assert done.returncode != 0 and done.stdout == ""


def test_missing_ldsm_password_warns_in_preview_and_fails_up(config, secrets):
    del secrets["ldsmPasswords"]["hug"]
    ev = evaluate(config, secrets, preview=True)
    warning = next(line for line in ev.logs if line.startswith("ldsmPasswords.hug:"))
    assert "pulumi config set --secret --path 'ldsmPasswords.hug'" in warning
    assert base64.b64decode(ev.named("ldsm-hug").plain["data"]) == b""
    secrets["ldsmPasswords"]["brescia"] = ""
    with pytest.raises(ConfigError) as caught:
        evaluate(config, secrets)
    assert [p.split(":")[0] for p in caught.value.problems] == [
        "ldsmPasswords.hug",
        "ldsmPasswords.brescia",
    ]
    assert "node hug's Exareme exits at start" in caught.value.problems[0]


def test_master_publishes_its_port_in_host_mode_only(run, config):
    ev = run(config)
    master = ev.named("exareme-master").plain["endpointSpec"]
    assert master["ports"] == [
        {"targetPort": 9090, "publishedPort": 9090, "publishMode": "host", "protocol": "tcp"}
    ]
    assert master["mode"] == "dnsrr"
    assert "ports" not in ev.named("exareme-worker-hug").plain["endpointSpec"]


def test_restart_policy_and_network_by_id(run, config):
    for service in run(config).services:
        spec = service.plain["taskSpec"]
        # No limit (0): swarmkit never restarts a slot again once its attempts are used up.
        assert spec["restartPolicy"] == {
            "condition": "on-failure",
            "delay": "5s",
            "maxAttempts": 0,
            "window": "0s",  # what the provider's Read writes back for no window
        }
        assert spec["networksAdvanceds"][0]["id"] == "overlay-network-id"
        assert "leader-docker" in (service.provider or "")


def test_image_change_updates_services_and_leaves_every_command_identical(run, config):
    before = run(config)
    config["exareme"] = {"image": "hbpmip/exareme:v6@sha256:" + "6" * 64}
    after = run(config)

    def diffed(evaluation):  # what Pulumi compares: inputs under ignoreChanges are not
        return {
            c.name: {k: v for k, v in c.plain.items() if k not in c.ignore_changes}
            for c in evaluation.commands
        }

    assert diffed(before) == diffed(after)
    # A node added later still pulls the image it will run, while it joins.
    assert "hbpmip/exareme:v6@sha256:" in after.named("join-hug").plain["create"]
    assert "hbpmip/exareme:v6@sha256:" in after.named("swarm-init").plain["create"]
    changed = {
        s.name
        for s in after.services
        if s.plain != next(b for b in before.services if b.name == s.name).plain
    }
    workers = {f"exareme-worker-{n}" for n in ("hug", "brescia", "lille")}
    assert changed == {"exareme-master"} | workers


def parse_go_duration(text: str) -> int:
    """Nanoseconds of a Go duration string (time.ParseDuration), for positive durations."""
    parts = re.findall(r"([0-9]+(?:\.[0-9]*)?)(ns|us|µs|ms|s|m|h)", text)
    assert parts and "".join(n + u for n, u in parts) == text, f"not a Go duration: {text!r}"
    total = 0
    for number, unit in parts:
        whole, _, frac = number.partition(".")
        total += int(whole) * GO_UNITS[unit]
        if frac:
            total += int(frac) * GO_UNITS[unit] // 10 ** len(frac)
    return total


def durations(value: Any, path: str = "") -> list[tuple[str, Any]]:
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if key in DURATION_FIELDS and not isinstance(item, dict | list):
                found.append((where, item))
            else:
                found += durations(item, where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += durations(item, f"{path}[{i}]")
    return found


@pytest.mark.parametrize(
    ("seconds", "go", "short"),
    [
        (5, "5s", "5s"),
        (120, "2m0s", "2m"),
        (90, "1m30s", "1m30s"),
        (3600, "1h0m0s", "1h"),
        (3660, "1h1m0s", "1h1m"),
        (3605, "1h0m5s", "1h0m5s"),
        (1.5, "1.5s", "1.5s"),
        (0.5, "500ms", "500ms"),
        (0, "0s", "0s"),
    ],
)
def test_short_duration_is_the_providers_short_dur(seconds, go, short):
    assert go_duration(round(seconds * 10**9)) == go
    assert short_duration(seconds) == short


def test_every_duration_sent_is_already_in_the_form_read_writes_back(run, config):
    seen = []
    for service in run(config).services:
        for path, value in durations(service.plain):
            seen.append(path)
            assert isinstance(value, str), f"{service.name} {path}: {value!r}"
            nanoseconds = parse_go_duration(value)
            assert value == short_duration(nanoseconds / 10**9), (
                f"{service.name} {path}: {value!r} reads back as "
                f"{short_duration(nanoseconds / 10**9)!r}: every later pulumi up would update it"
            )
    assert "taskSpec.restartPolicy.window" in seen and "taskSpec.restartPolicy.delay" in seen


def test_services_are_deleted_before_replacement_and_ignore_registry_platforms(run, config):
    services = run(config).services
    assert len(services) == 5
    for service in services:
        # Fixed names: a replacement created first would collide with the old service's name.
        assert service.delete_before_replace is True, service.name
        # Docker fills the platforms in from the registry (QueryRegistry), not the program; the
        # master's EXA_WORKERS_WAIT counts only for the first bootstrap.
        waits = ["taskSpec.containerSpec.env.EXA_WORKERS_WAIT"]
        assert service.ignore_changes == [
            "taskSpec.placement.platforms",
            *(waits if service.name == "exareme-master" else []),
        ], service.name
        assert "platforms" not in service.plain["taskSpec"]["placement"]


def test_a_digest_pinned_image_is_sent_as_given(run, config):
    image = "hbpmip/exareme:v5@sha256:" + "a1" * 32
    config["exareme"] = {"image": image}
    ev = run(config)
    assert ev.named("exareme-master").plain["taskSpec"]["containerSpec"]["image"] == image
    assert ev.named("exareme-worker-hug").plain["taskSpec"]["containerSpec"]["image"] == image


def test_services_are_replaced_with_the_network(run, config):
    # `mode` (ForceNew) comes from the network's id: when the network is replaced, Pulumi's
    # dependent-replacement check sees an unknown mode and deletes the services first (an unknown
    # task spec would only be an update, and Docker refuses to delete a network in use).
    for service in run(config).services:
        assert service.plain["mode"] == {"replicated": {"replicas": 1}}
        network = [u for u in service.property_dependencies["mode"] if "overlay-network" in u]
        assert network, service.name


def test_every_service_has_a_stop_grace_period(run, config):
    """terraform-provider-docker v4.5.0 resource_docker_service_funcs.go deleteService waits for
    a service's containers on the provider's daemon only when stop_grace_period is set (and not
    0s): without it, a replaced network's leader-local copy outlives its delete and the new
    network's create collides on the name."""
    for service in run(config).services:
        grace = service.plain["taskSpec"]["containerSpec"].get("stopGracePeriod")
        assert grace not in (None, "0s"), service.name
