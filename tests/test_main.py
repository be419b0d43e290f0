"""The whole program under mocks: stack files, outputs, invalid input, and secrets."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from typing import Any

import pytest

from federation.config import ConfigError
from tests.program import (
    MANAGER_TOKEN,
    ROOT,
    STACK_FILES,
    TEST_PRIVATE_KEY,
    WORKER_TOKEN,
    Evaluation,
    evaluate,
    evaluate_stack,
    load_stack_file,
    load_stack_file_as_is,
)


def test_prod_stack_file_exists():
    assert "Pulumi.prod.yaml" in {p.name for p in STACK_FILES}


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_stack_file_evaluates(path):
    config, secrets = load_stack_file(path)
    stack = path.name.split(".")[1]
    ev = evaluate_stack(config, secrets, stack=stack)
    nodes = config["nodes"]
    # init, tokens, joins, nodes, probes, the query port's firewall
    assert len(ev.commands) == 2 + 2 * (len(nodes) - 1) + 1 + len(nodes) + 1
    assert len(ev.services) == 2 + len(nodes) - 1
    assert [n["name"] for n in ev.outputs["nodes"]] == [n["name"] for n in nodes]


def test_prod_stack_is_encrypted_pinned_and_host_key_checked():
    config, secrets = load_stack_file(ROOT / "Pulumi.prod.yaml")
    ev = evaluate_stack(config, secrets, stack="prod")
    assert ev.named("overlay-network").plain["options"] == {
        "encrypted": "true",
        "com.docker.network.driver.overlay.vxlanid_list": "10203000",
    }
    for service in ev.services:
        assert "@sha256:" in service.plain["taskSpec"]["containerSpec"]["image"]
    for command in ev.commands:
        assert command.plain["connection"]["hostKey"].startswith("ssh-ed25519 ")
    assert ev.outputs["exaremeUrl"] == "http://192.0.2.10:9090/mining/query"
    assert ev.outputs["leaderAddress"] == "192.0.2.10"


def test_outputs(run, config):
    ev = run(config)
    assert ev.outputs == {
        "leaderAddress": "192.0.2.10",
        "swarmId": "swarmid0123456789",
        "exaremeUrl": "http://192.0.2.10:9090/mining/query",
        "portalUrl": "http://192.0.2.10:8080/",
        "nodes": [
            {"name": "chuv", "role": "manager", "host": "192.0.2.10"},
            {"name": "hug", "role": "worker", "host": "198.51.100.21"},
            {"name": "brescia", "role": "worker", "host": "203.0.113.31"},
            {"name": "lille", "role": "worker", "host": "203.0.113.41"},
        ],
    }
    assert not ev.secret_outputs


def test_invalid_config_registers_nothing(config, secrets):
    config["nodes"][0]["role"] = "worker"
    config["nodse"] = []
    evaluation = Evaluation()
    with pytest.raises(ConfigError) as caught:
        evaluate(config, secrets, into=evaluation)
    assert [r.typ for r in evaluation.resources] == []
    assert "nodse: unknown key" in str(caught.value)
    assert "nodes: no node has role: manager" in str(caught.value)


def secret_values(secrets: dict[str, Any]) -> list[str]:
    """The secrets, and each password as its swarm secret's `data` carries it (base64)."""
    passwords = list(secrets["ldsmPasswords"].values())
    return [
        WORKER_TOKEN,
        MANAGER_TOKEN,
        secrets["sshPrivateKey"],
        "fake-test-key-material",
        *passwords,
        *(base64.b64encode(p.encode()).decode() for p in passwords),
    ]


def test_secrets_never_appear_in_plain_inputs_commands_outputs_or_logs(run, config, secrets):
    config["nodes"][2]["role"] = "manager"
    config["nodes"][3]["role"] = "manager"
    ev = run(config, secrets)
    needles = secret_values(secrets)
    visible = json.dumps([r.visible for r in ev.resources], default=str)
    commands = json.dumps(
        [{k: c.plain.get(k) for k in ("create", "update", "delete")} for c in ev.commands]
    )
    exported = json.dumps(ev.outputs)
    for needle in needles:
        assert needle not in visible, "a secret is visible in a recorded input"
        assert needle not in commands, "a secret is in a command line"
        assert needle not in exported, "a secret is exported"
        assert not any(needle in line for line in ev.logs), "a secret is logged"
    # The secrets did reach the resources, as secrets:
    plain = json.dumps([r.plain for r in ev.resources], default=str)
    reached = [WORKER_TOKEN, MANAGER_TOKEN, "fake-test-key-material"]
    reached += [base64.b64encode(p.encode()).decode() for p in secrets["ldsmPasswords"].values()]
    assert all(needle in plain for needle in reached)


def test_resource_names_do_not_depend_on_list_positions(run, config):
    before = {(r.typ, r.name): r.plain for r in run(config).resources}
    config["nodes"] = [config["nodes"][0], *reversed(config["nodes"][1:])]
    after = {(r.typ, r.name): r.plain for r in run(config).resources}
    assert set(after) == set(before)
    assert after == before


SAMPLE_HOSTS = [
    ("nodes[0].host", "192.0.2.10"),
    ("nodes[1].host", "198.51.100.21"),
    ("nodes[2].host", "203.0.113.31"),
    ("nodes[2].ldsm.host", "203.0.113.32"),
    ("nodes[3].host", "lille-mip.example.org"),
    ("nodes[3].advertiseAddr", "203.0.113.41"),
]
SAMPLE_IMAGES = ["exareme.image", "exareme.keystoreImage"]


def sample_problems(problems: list[str]) -> list[str]:
    return [p for p in problems if "sample" in p]


def assert_names_every_sample_value(messages: list[str]) -> None:
    """One message per sample value of Pulumi.prod.yaml, naming its field, the value and the fix."""
    found = sample_problems(messages)
    assert len(found) == len(SAMPLE_HOSTS) + len(SAMPLE_IMAGES), found
    for field, host in SAMPLE_HOSTS:
        [message] = [m for m in found if m.startswith(f"{field}: ")]
        assert f"{host} is a documentation address" in message
        assert "set the server's real address" in message
    for field in SAMPLE_IMAGES:
        [message] = [m for m in found if m.startswith(f"{field}: ")]
        assert "made-up sample digest" in message and "docker buildx imagetools inspect" in message


def test_prod_stack_file_as_is_previews_with_warnings():
    # Pulumi.prod.yaml holds no secret: `pulumi preview` runs, naming what `pulumi up` needs and
    # the sample values left (federation/samples.py). No key: the commands use the SSH agent.
    config, secrets = load_stack_file_as_is(ROOT / "Pulumi.prod.yaml")
    assert secrets == {}
    ev = evaluate(config, secrets, stack="prod", preview=True)
    assert len(ev.services) == 2 + len(config["nodes"]) - 1
    warnings = list(ev.logs)
    assert not any("sshPrivateKey" in w for w in warnings)
    for node in config["nodes"]:
        assert any(w.startswith(f"ldsmPasswords.{node['name']}: not set") for w in warnings)
    assert_names_every_sample_value(warnings)
    assert all(w.endswith("(pulumi up refuses it)") for w in sample_problems(warnings))
    for command in ev.commands:
        assert "privateKey" not in command.plain["connection"]


def test_prod_stack_file_as_is_fails_pulumi_up_naming_the_passwords_and_sample_values(
    monkeypatch,
):
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    config, secrets = load_stack_file_as_is(ROOT / "Pulumi.prod.yaml")
    evaluation = Evaluation()
    with pytest.raises(ConfigError) as caught:
        evaluate(config, secrets, stack="prod", into=evaluation)
    assert evaluation.resources == []
    # No key is needed (the agent logs in): the LDSM passwords are missing, the samples are left.
    passwords = [p for p in caught.value.problems if p.startswith("ldsmPasswords.")]
    assert passwords == [
        f"ldsmPasswords.{name}: not set or empty; node {name}'s Exareme exits at start "
        f"without it: pulumi config set --secret --path 'ldsmPasswords.{name}' PASSWORD"
        for name in (node["name"] for node in config["nodes"])
    ]
    assert_names_every_sample_value(caught.value.problems)
    assert len(caught.value.problems) == len(passwords) + len(SAMPLE_HOSTS) + len(SAMPLE_IMAGES)


def with_passwords(config):
    return {"ldsmPasswords": {n["name"]: f"pw-{n['name']}" for n in config["nodes"]}}


def test_pulumi_up_refuses_each_sample_value_before_any_resource(agent):
    config, _ = load_stack_file_as_is(ROOT / "Pulumi.prod.yaml")
    evaluation = Evaluation()
    with pytest.raises(ConfigError) as caught:
        evaluate(config, with_passwords(config), stack="prod", into=evaluation)
    assert evaluation.resources == []
    assert_names_every_sample_value(caught.value.problems)
    assert len(caught.value.problems) == len(SAMPLE_HOSTS) + len(SAMPLE_IMAGES)
    assert str(caught.value).startswith("invalid stack configuration (8 problem(s)); nothing")


def real_looking(config: dict[str, Any]) -> dict[str, Any]:
    """The prod stack with the values an operator puts in place of the samples."""
    config = copy.deepcopy(config)
    nodes = config["nodes"]
    for i, node in enumerate(nodes):
        node["host"] = f"10.40.{i}.10"
    nodes[2]["ldsm"]["host"] = "10.40.2.11"
    nodes[3]["host"] = "mip.lille-hospital.fr"
    nodes[3]["advertiseAddr"] = "10.40.3.10"
    for key in SAMPLE_IMAGES:
        field = key.split(".")[1]
        repository = config["exareme"][field].split("@")[0]
        digest = hashlib.sha256(repository.encode()).hexdigest()
        config["exareme"][field] = f"{repository}@sha256:{digest}"
    return config


def test_pulumi_up_accepts_real_looking_values_without_a_sample_warning(agent):
    config, _ = load_stack_file_as_is(ROOT / "Pulumi.prod.yaml")
    ev = evaluate(real_looking(config), with_passwords(config), stack="prod")
    assert ev.commands and ev.services
    assert sample_problems(ev.logs) == []
    assert ev.outputs["leaderAddress"] == "10.40.0.10"


def test_only_the_harness_accepts_the_sample_values(monkeypatch, agent):
    # The tools that evaluate the sample stack as an `up` (stack plans, tests) pass
    # allow_samples; it warns instead. No environment variable or stack key turns it on.
    config, _ = load_stack_file_as_is(ROOT / "Pulumi.prod.yaml")
    ev = evaluate(config, with_passwords(config), stack="prod", allow_samples=True)
    assert_names_every_sample_value(ev.logs)
    for name in ("MIP_ALLOW_SAMPLES", "PULUMI_ALLOW_SAMPLES", "ALLOW_SAMPLES"):
        monkeypatch.setenv(name, "true")
    config["allowSamples"] = True
    with pytest.raises(ConfigError) as caught:
        evaluate(config, with_passwords(config), stack="prod")
    assert any(p.startswith("allowSamples: unknown key") for p in caught.value.problems)
    assert_names_every_sample_value(caught.value.problems)


def test_prod_stack_fails_pulumi_up_without_an_agent(monkeypatch):
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    config, _ = load_stack_file_as_is(ROOT / "Pulumi.prod.yaml")
    evaluation = Evaluation()
    with pytest.raises(ConfigError) as caught:
        evaluate(config, with_passwords(config), stack="prod", into=evaluation, allow_samples=True)
    assert evaluation.resources == []
    [problem] = caught.value.problems
    assert problem.startswith("ssh: no SSH key is configured")
    assert "SSH_AUTH_SOCK is not set" in problem and "ssh-add" in problem


def test_pulumi_up_refuses_a_dead_agent_socket(monkeypatch, tmp_path):
    monkeypatch.setenv("SSH_AUTH_SOCK", str(tmp_path / "gone"))
    config, _ = load_stack_file_as_is(ROOT / "Pulumi.prod.yaml")
    with pytest.raises(ConfigError, match="is not a socket"):
        evaluate(config, with_passwords(config), stack="prod", allow_samples=True)


def test_missing_key_file_warns_in_preview_and_fails_up(config, secrets, tmp_path):
    del secrets["sshPrivateKey"]
    missing = str(tmp_path / "no-such-key")
    config["ssh"]["privateKeyFile"] = missing
    ev = evaluate(config, secrets, preview=True)
    assert any(w.startswith("ssh.privateKeyFile:") and "does not exist" in w for w in ev.logs)
    assert ev.commands, "the preview goes on"
    with pytest.raises(ConfigError) as caught:
        evaluate(config, secrets)
    [problem] = caught.value.problems
    assert problem.startswith("ssh.privateKeyFile: file ") and "does not exist here" in problem


def test_secret_key_never_in_a_preview_warning(config, secrets):
    ev = evaluate(config, secrets, preview=True)
    assert not any(TEST_PRIVATE_KEY.strip() in w for w in ev.logs)
    assert not any(w.startswith(("sshPrivateKey:", "ssh.privateKeyFile:")) for w in ev.logs)
