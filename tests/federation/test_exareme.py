"""Exareme services under mocks: placement, environment, restart policy, ports, networks."""

from __future__ import annotations

from tests.program import SECRET_MARK


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
    assert any(d.endswith("::node-chuv") for d in ev.named("exareme-master").dependencies)


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
    assert env["RAWPASSWORD"] == "ldsm-password-of-chuv"
    assert {k: env[k] for k in ("RAWENDPOINT", "RAWRESULTS", "RAWDATAKEY")} == {
        "RAWENDPOINT": "query",
        "RAWRESULTS": "all",
        "RAWDATAKEY": "output",
    }


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


def test_ldsm_password_is_a_secret_input(run, config):
    ev = run(config)
    visible = ev.named("exareme-worker-hug").visible
    env = visible["taskSpec"]
    assert env is SECRET_MARK or env["containerSpec"]["env"]["RAWPASSWORD"] is SECRET_MARK


def test_missing_ldsm_password_warns(run, config, secrets):
    del secrets["ldsmPasswords"]["hug"]
    ev = run(config, secrets)
    assert env_of(ev, "exareme-worker-hug")["RAWPASSWORD"] == ""
    assert any("ldsmPasswords.hug" in line for line in ev.logs)


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
        assert spec["restartPolicy"] == {
            "condition": "on-failure",
            "delay": "5s",
            "maxAttempts": 3,
            "window": "120s",
        }
        assert spec["networksAdvanceds"][0]["id"] == "overlay-network-id"
        assert "leader-docker" in (service.provider or "")


def test_image_change_updates_services_and_leaves_every_command_identical(run, config):
    before = run(config)
    config["exareme"] = {"image": "hbpmip/exareme:v6"}
    after = run(config)
    assert {c.name: c.plain for c in before.commands} == {c.name: c.plain for c in after.commands}
    changed = {
        s.name
        for s in after.services
        if s.plain != next(b for b in before.services if b.name == s.name).plain
    }
    workers = {f"exareme-worker-{n}" for n in ("hug", "brescia", "lille")}
    assert changed == {"exareme-master"} | workers
