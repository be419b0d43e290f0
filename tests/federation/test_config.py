"""Every validation rule: one test each, asserting the message names the config path and a fix."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
import yaml

from federation.config import (
    UNSET_DEFAULTS,
    ConfigError,
    known_keys,
    read_raw,
    secret_keys_of,
    validate,
)
from tests.program import ROOT, TEST_PRIVATE_KEY, Evaluation, evaluate


def logs(ev: Evaluation) -> list[str]:
    return list(ev.logs)


SECRET_KEYS = {"sshPrivateKey", "ldsmPasswords"}


def valid() -> dict[str, Any]:
    return {
        "sshPrivateKey": "KEY",
        "nodes": [
            {"name": "chuv", "host": "192.0.2.10", "role": "manager"},
            {"name": "hug", "host": "198.51.100.21", "role": "worker"},
            {"name": "bern", "host": "203.0.113.5", "role": "worker"},
        ],
    }


def problems(
    raw: dict[str, Any], stack: str = "test", secret_keys=SECRET_KEYS, allow_samples=False
) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        validate(raw, stack, set(secret_keys) & set(raw), allow_samples=allow_samples)
    return caught.value.problems


def only_problem(raw: dict[str, Any], **kwargs: Any) -> str:
    found = problems(raw, **kwargs)
    assert len(found) == 1, found
    return found[0]


def test_valid_config_passes_with_defaults():
    settings = validate(valid(), "test", {"sshPrivateKey"})
    assert settings.ssh.user == "root" and settings.ssh.port == 22
    assert str(settings.network.subnet) == "10.20.30.0/24"
    assert settings.network.encrypted is True
    assert settings.exareme.port == 9090 and settings.portal.port == 8080
    assert settings.nodes[1].ldsm.port == 31555


def test_no_manager():
    raw = valid()
    raw["nodes"][0]["role"] = "worker"
    message = only_problem(raw)
    assert message.startswith("nodes:") and "manager" in message


def test_even_number_of_managers():
    raw = valid()
    raw["nodes"][1]["role"] = "manager"
    message = only_problem(raw)
    assert message.startswith("nodes:") and "2 managers" in message and "odd" in message


def test_nine_managers_refused():
    raw = valid()
    raw["nodes"] = [
        {"name": f"m{i}", "host": f"192.0.2.{i + 1}", "role": "manager"} for i in range(9)
    ]
    assert "one of 1, 3, 5, 7" in only_problem(raw)


def test_empty_nodes():
    raw = valid()
    raw["nodes"] = []
    assert only_problem(raw).startswith("nodes: is empty")


def test_nodes_missing():
    raw = valid()
    del raw["nodes"]
    assert only_problem(raw) == "nodes: is required; add it to the stack configuration"


def test_duplicate_names():
    raw = valid()
    raw["nodes"][2]["name"] = "hug"
    message = only_problem(raw)
    assert message.startswith("nodes[2].name:") and "nodes[1]" in message


def test_duplicate_hosts():
    raw = valid()
    raw["nodes"][2]["host"] = "198.51.100.21"
    message = only_problem(raw)
    assert message.startswith("nodes[2].host:") and "198.51.100.21:22" in message


@pytest.mark.parametrize("name", ["CHUV", "1hug", "hug_2", "hug.ch", "-x", "a" * 49, "hug;rm"])
def test_names_are_lowercase_dns_labels(name):
    raw = valid()
    raw["nodes"][1]["name"] = name
    message = only_problem(raw)
    assert message.startswith("nodes[1].name:") and "lowercase DNS label" in message


def test_a_name_of_48_characters_fits_the_service_and_secret_names():
    """`exareme-worker-<name>` must fit Docker's 63 characters, `ldsm-<name>-<7 hex>` its 64."""
    raw = valid()
    raw["nodes"][1]["name"] = "h" * 48
    assert validate(raw, "test", {"sshPrivateKey"}).nodes[1].name == "h" * 48
    assert len(f"exareme-worker-{'h' * 48}") <= 63 and len(f"ldsm-{'h' * 48}-abcdef0") <= 64


@pytest.mark.parametrize(
    "host", ["bad host", "-x.example.org", "x..org", "host;id", "$(id)", "a" * 64 + ".org", ""]
)
def test_hosts_are_ips_or_rfc1123_names(host):
    raw = valid()
    raw["nodes"][1]["host"] = host
    message = only_problem(raw)
    assert message.startswith("nodes[1].host:") and "DNS name" in message


def test_dns_host_needs_advertise_addr():
    raw = valid()
    raw["nodes"][1]["host"] = "hug-mip.example.org"
    message = only_problem(raw)
    assert message.startswith("nodes[1].advertiseAddr:") and "DNS name" in message


def test_advertise_addr_must_be_ip():
    raw = valid()
    raw["nodes"][2]["advertiseAddr"] = "bern.example.org"
    message = only_problem(raw)
    assert message.startswith("nodes[2].advertiseAddr:") and "IP address" in message


def test_ipv6_and_dns_hosts_accepted():
    raw = valid()
    raw["nodes"][1]["host"] = "2001:db8::21"
    raw["nodes"][2]["host"] = "bern-mip.example.org"
    raw["nodes"][2]["advertiseAddr"] = "203.0.113.5"
    assert validate(raw, "test", {"sshPrivateKey"}).nodes[2].swarm_addr == "203.0.113.5"


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_ssh_port_range(port):
    raw = valid()
    raw["ssh"] = {"port": port}
    message = only_problem(raw)
    assert message.startswith("ssh.port:") and "1 and 65535" in message


@pytest.mark.parametrize(
    ("section", "field"), [("exareme", "port"), ("portal", "port")], ids=["exareme", "portal"]
)
def test_service_port_range(section, field):
    raw = valid()
    raw[section] = {field: 70000}
    assert only_problem(raw).startswith(f"{section}.{field}:")


def test_ldsm_port_range():
    raw = valid()
    raw["nodes"][1]["ldsm"] = {"port": 0}
    assert only_problem(raw).startswith("nodes[1].ldsm.port:")


def test_port_given_as_string_is_accepted():
    raw = valid()
    raw["ssh"] = {"port": "2222"}  # `pulumi config set --path ssh.port 2222` stores a string
    assert validate(raw, "test", {"sshPrivateKey"}).ssh.port == 2222


def test_both_key_sources(tmp_path):
    key = tmp_path / "key"
    key.write_text("k")
    raw = valid()
    raw["ssh"] = {"privateKeyFile": str(key)}
    message = only_problem(raw)
    assert message.startswith("ssh.privateKeyFile:") and "at most one" in message


def test_neither_key_source_means_the_ssh_agent():
    raw = valid()
    del raw["sshPrivateKey"]
    assert validate(raw, "test", set()).ssh_private_key is None


def test_private_key_file_must_exist(tmp_path):
    raw = valid()
    del raw["sshPrivateKey"]
    raw["ssh"] = {"privateKeyFile": str(tmp_path / "missing")}
    found = problems(raw)
    assert any(p.startswith("ssh.privateKeyFile:") and "does not exist" in p for p in found)


def test_plain_text_secret_refused():
    message = only_problem(valid(), secret_keys=set())
    assert message.startswith("sshPrivateKey:") and "--secret" in message
    assert "KEY" not in message


def test_plain_text_ldsm_passwords_refused():
    raw = valid()
    raw["ldsmPasswords"] = {"hug": "hunter2"}
    message = only_problem(raw, secret_keys={"sshPrivateKey"})
    assert message.startswith("ldsmPasswords:") and "hunter2" not in message


def test_password_for_unknown_node():
    raw = valid()
    raw["ldsmPasswords"] = {"hug": "pw", "zurich": "pw"}
    message = only_problem(raw)
    assert message.startswith("ldsmPasswords.zurich:") and "no node" in message


@pytest.mark.parametrize(
    ("raw_key", "path", "guess"),
    [("nodse", "nodse", "nodes"), ("netwrok", "netwrok", "network"), ("foo", "foo", None)],
)
def test_unknown_top_level_key(raw_key, path, guess):
    raw = valid()
    raw[raw_key] = {}
    message = only_problem(raw)
    assert message.startswith(f"{path}: unknown key")
    if guess:
        assert f"did you mean {guess!r}" in message


def test_unknown_nested_key():
    raw = valid()
    raw["nodes"][2]["advertise_addr"] = "203.0.113.5"
    message = only_problem(raw)
    assert message.startswith("nodes[2].advertise_addr: unknown key")
    assert "did you mean 'advertiseAddr'" in message


def test_unknown_ssh_key():
    raw = valid()
    raw["ssh"] = {"usr": "root"}
    assert "did you mean 'user'" in only_problem(raw)


def test_wrong_role():
    raw = valid()
    raw["nodes"][1]["role"] = "master"
    message = only_problem(raw)
    assert message.startswith("nodes[1].role:") and "'manager' or 'worker'" in message


def test_wrong_type_for_nodes():
    raw = valid()
    raw["nodes"] = "chuv,hug"
    assert only_problem(raw).startswith("nodes:")


def test_wrong_type_for_encrypted():
    raw = valid()
    raw["network"] = {"encrypted": "maybe"}
    assert only_problem(raw).startswith("network.encrypted:")


@pytest.mark.parametrize("subnet", ["10.20.30.1/24", "10.20.30.0", "10.20.300.0/24", "fe80::/64"])
def test_malformed_subnet(subnet):
    raw = valid()
    raw["network"] = {"subnet": subnet}
    found = problems(raw)
    assert any(p.startswith("network.subnet:") and "CIDR" in p for p in found), found


@pytest.mark.parametrize("subnet", ["10.21.0.0/24", "192.168.50.0/24", "10.0.0.0/8"])
def test_subnet_outside_exareme_range(subnet):
    raw = valid()
    raw["network"] = {"subnet": subnet, "gateway": subnet.replace(".0/", ".1/").split("/")[0]}
    found = problems(raw)
    assert any(p.startswith("network.subnet:") and "10.20.0.0/16" in p for p in found), found


def test_gateway_outside_subnet():
    raw = valid()
    raw["network"] = {"subnet": "10.20.30.0/24", "gateway": "10.20.31.1"}
    message = only_problem(raw)
    assert message.startswith("network.gateway:") and "10.20.30.254" in message


def test_gateway_malformed():
    raw = valid()
    raw["network"] = {"gateway": "10.20.30"}
    assert only_problem(raw).startswith("network.gateway:")


@pytest.mark.parametrize(
    "image", ["Hbpmip/Exareme:v5", "hbpmip/exareme:", "exareme:v5;id", "a b", "x@sha256:12"]
)
def test_malformed_image(image):
    raw = valid()
    raw["exareme"] = {"image": image}
    message = only_problem(raw)
    assert message.startswith("exareme.image:") and "image reference" in message


# valid()'s hosts and this repeating digest are sample values, which a prod `pulumi up` refuses
# (test_main.py): the digest rules below accept them as stand-ins (allow_samples).
DIGEST = "sha256:" + "ab" * 32
PINNED = {
    "image": f"hbpmip/exareme:v5@{DIGEST}",
    "keystoreImage": f"hashicorp/consul:1.15.4@{DIGEST}",
}


@pytest.mark.parametrize("image", ["hbpmip/exareme", "hbpmip/exareme:latest"])
def test_floating_exareme_image_refused_in_prod(image):
    raw = valid()
    raw["exareme"] = {**PINNED, "image": image}
    message = only_problem(raw, stack="prod", allow_samples=True)
    assert message.startswith("exareme.image:") and "@sha256:" in message


def test_floating_exareme_image_only_warns_elsewhere():
    raw = valid()
    raw["exareme"] = {"image": "hbpmip/exareme:latest"}
    assert validate(raw, "dev", {"sshPrivateKey"}).exareme.image.endswith(":latest")


def test_digest_pinned_image_accepted_in_prod():
    raw = valid()
    raw["exareme"] = {
        **PINNED,
        "image": "registry.example.org:5000/hbpmip/exareme@sha256:" + "a" * 64,
    }
    validate(raw, "prod", {"sshPrivateKey"}, allow_samples=True)


@pytest.mark.parametrize("stack", ["prod", "prod-eu"])
@pytest.mark.parametrize("field", ["image", "keystoreImage"])
def test_prod_requires_a_digest_naming_the_field_and_how_to_get_it(stack, field):
    raw = valid()
    raw["exareme"] = {**PINNED, field: "hbpmip/exareme:v5"}
    message = only_problem(raw, stack=stack, allow_samples=True)
    assert message.startswith(f"exareme.{field}: 'hbpmip/exareme:v5' has no digest")
    assert "'hbpmip/exareme:v5@sha256:<64 hex>'" in message
    assert "docker buildx imagetools inspect hbpmip/exareme:v5" in message
    assert "docker inspect --format '{{index .RepoDigests 0}}' hbpmip/exareme:v5" in message


def test_tag_and_digest_reference_is_kept_as_given():
    raw = valid()
    raw["exareme"] = PINNED
    settings = validate(raw, "prod", {"sshPrivateKey"}, allow_samples=True)
    assert settings.exareme.image == PINNED["image"]
    assert settings.exareme.keystore_image == PINNED["keystoreImage"]


@pytest.mark.parametrize(
    "image", ["hbpmip/exareme:v5@sha256:" + "a" * 63, "hbpmip/exareme:v5@sha256:" + "A" * 64]
)
def test_malformed_digest_refused(image):
    raw = valid()
    raw["exareme"] = {**PINNED, "image": image}
    assert only_problem(raw, stack="prod", allow_samples=True).startswith("exareme.image:")


def test_undigested_images_warn_elsewhere_that_the_second_up_restarts_the_tasks(run, config):
    logs = run(config).logs
    for field, image in (
        ("exareme.image", "hbpmip/exareme:v5"),
        ("exareme.keystoreImage", "hashicorp/consul:1.15.4"),
    ):
        [warning] = [w for w in logs if w.startswith(f"{field}: ")]
        assert f"{image!r} has no digest" in warning
        assert "second pulumi up" in warning and "restarts its tasks" in warning
    config["exareme"] = PINNED
    assert not any("digest" in w for w in run(config).logs)


@pytest.mark.parametrize("name", ["NODE_NAME", "RAWPASSWORD", "MASTER_FLAG"])
def test_reserved_exareme_env_refused(name):
    raw = valid()
    raw["exareme"] = {"env": {name: "x"}}
    message = only_problem(raw)
    assert message.startswith("exareme.env:") and name in message


def test_bad_env_name_refused():
    raw = valid()
    raw["portal"] = {"env": {"A-B": "x"}}
    assert only_problem(raw).startswith("portal.env:")


def test_host_key_format():
    raw = valid()
    raw["nodes"][1]["hostKey"] = "not a key; rm -rf /"
    message = only_problem(raw)
    assert message.startswith("nodes[1].hostKey:") and "ssh-ed25519" in message


@pytest.mark.parametrize("key_type", ["ssh-rsa"])
def test_ssh_rsa_host_key_refused_with_how_to_get_the_ed25519_key(key_type):
    raw = valid()
    raw["nodes"][2]["hostKey"] = f"{key_type} AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 root@bern"
    message = only_problem(raw)
    assert message.startswith("nodes[2].hostKey: is an ssh-rsa key")
    assert "OpenSSH >= 8.8" in message
    assert "ssh-keyscan -t ed25519 HOST" in message
    assert "/etc/ssh/ssh_host_ed25519_key.pub" in message


@pytest.mark.parametrize("key_type", ["ssh-dss", "sk-ssh-ed25519@openssh.com", "ssh-foo"])
def test_other_host_key_types_refused(key_type):
    raw = valid()
    raw["nodes"][1]["hostKey"] = f"{key_type} AAAAB3NzaC1"
    message = only_problem(raw)
    assert message.startswith(f"nodes[1].hostKey: has key type {key_type!r}")
    assert "ssh-keyscan -t ed25519 HOST" in message


@pytest.mark.parametrize(
    "key_type",
    ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"],
)
def test_ed25519_and_ecdsa_host_keys_accepted(key_type):
    raw = valid()
    raw["nodes"][1]["hostKey"] = f"{key_type} AAAAE2VjZHNh"
    assert validate(raw, "test", {"sshPrivateKey"}).nodes[1].host_key == f"{key_type} AAAAE2VjZHNh"


def test_vxlan_id_default_is_far_from_dockers_auto_assigned_ids():
    settings = validate(valid(), "test", {"sshPrivateKey"})
    # Docker auto-assigns 4096, 4097, ... in sequence; the default is millions away from them.
    assert settings.network.vxlan_id == 10203000


@pytest.mark.parametrize("value", [1, 4096, 4400, 16777215, "5000"])
def test_vxlan_id_in_range_accepted(value):
    raw = valid()
    raw["network"] = {"vxlanId": value}
    assert validate(raw, "test", {"sshPrivateKey"}).network.vxlan_id == int(value)


@pytest.mark.parametrize("value", [0, -1, 16777216, True, 4400.5, "x", None])
def test_vxlan_id_out_of_range_refused(value):
    raw = valid()
    raw["network"] = {"vxlanId": value}
    message = only_problem(raw)
    assert message.startswith("network.vxlanId: must be a VXLAN id")
    assert "1 to 16777215" in message


def test_vxlan_id_below_4096_warns(run, config):
    config["network"] = {"vxlanId": 300}
    logs = run(config).logs
    assert any(w.startswith("network.vxlanId: 300 is below 4096") for w in logs)


def test_host_key_comment_is_dropped():
    raw = valid()
    raw["nodes"][1]["hostKey"] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIaD root@hug"
    node = validate(raw, "test", {"sshPrivateKey"}).nodes[1]
    assert node.host_key == "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIaD"


@pytest.mark.parametrize("user", ["Root", "mip admin", "x;id", ""])
def test_ssh_user_format(user):
    raw = valid()
    raw["ssh"] = {"user": user}
    assert only_problem(raw).startswith("ssh.user:")


@pytest.mark.parametrize(("field", "value"), [("database", "ldsm;drop"), ("user", "$(id)")])
def test_ldsm_identifiers(field, value):
    raw = valid()
    raw["nodes"][1]["ldsm"] = {field: value}
    assert only_problem(raw).startswith(f"nodes[1].ldsm.{field}:")


def test_duplicate_advertise_addresses():
    raw = valid()
    raw["nodes"][2]["advertiseAddr"] = "198.51.100.21"
    assert only_problem(raw).startswith("nodes[2].advertiseAddr:")


def test_all_problems_reported_together():
    raw = valid()
    raw["nodse"] = []
    raw["nodes"][0]["name"] = "CHUV"
    raw["nodes"][1]["host"] = "bad host"
    raw["network"] = {"subnet": "10.20.30.1/24"}
    found = problems(raw)
    paths = sorted(p.split(":")[0] for p in found)
    assert paths == ["network.subnet", "nodes[0].name", "nodes[1].host", "nodse"]


def test_secret_values_never_echoed():
    raw = valid()
    raw["sshPrivateKey"] = ["-----BEGIN OPENSSH " + "PRIVATE KEY----- secretmaterial"]
    raw["ldsmPasswords"] = {"hug": ["hunter2-secret"]}
    with pytest.raises(ConfigError) as caught:
        validate(raw, "test", {"sshPrivateKey", "ldsmPasswords"})
    text = str(caught.value)
    assert "sshPrivateKey" in text and "ldsmPasswords.hug" in text
    assert "secretmaterial" not in text and "hunter2" not in text
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


# --- env maps: numbers and booleans as `pulumi config set --path` stores them -------------------


def test_env_numbers_and_booleans_become_strings():
    raw = valid()
    raw["exareme"] = {"env": {"WORKERS": 4, "RATIO": 0.5, "DEBUG": True, "NAME": "x"}}
    raw["portal"] = {"env": {"VERBOSE": False, "PORT": 8081}}
    settings = validate(raw, "test", {"sshPrivateKey"})
    assert settings.exareme.env == {"WORKERS": "4", "RATIO": "0.5", "DEBUG": "true", "NAME": "x"}
    assert settings.portal.env == {"VERBOSE": "false", "PORT": "8081"}


def test_env_coercion_keeps_the_other_env_rules():
    raw = valid()
    raw["exareme"] = {"env": {"MODE": 1}}
    message = only_problem(raw)
    assert message.startswith("exareme.env:") and "MODE" in message and "remove it" in message
    raw["exareme"] = {"env": {"A": {"nested": 1}}}
    assert only_problem(raw).startswith("exareme.env.A:")


# --- preview: what only `pulumi up` needs is a warning --------------------------------------------


def test_no_key_source_is_no_warning_during_a_preview(monkeypatch):
    # The SSH agent logs in: a preview (CI) needs no key and says nothing about one.
    warnings: list[str] = []
    monkeypatch.setattr("pulumi.log.warn", lambda message, *a, **k: warnings.append(message))
    raw = valid()
    del raw["sshPrivateKey"]
    validate(raw, "test", set(), preview=True)
    assert not [w for w in warnings if "sshPrivateKey" in w or "privateKeyFile" in w]


def test_missing_key_file_is_a_warning_during_a_preview(monkeypatch, tmp_path):
    warnings: list[str] = []
    monkeypatch.setattr("pulumi.log.warn", lambda message, *a, **k: warnings.append(message))
    raw = valid()
    del raw["sshPrivateKey"]
    raw["ssh"] = {"privateKeyFile": str(tmp_path / "missing")}
    validate(raw, "test", set(), preview=True)
    assert any(w.startswith("ssh.privateKeyFile:") and "does not exist" in w for w in warnings)
    message = only_problem(raw)
    assert message.startswith("ssh.privateKeyFile:") and "does not exist here" in message


def test_both_key_sources_fail_even_during_a_preview(tmp_path):
    key = tmp_path / "id"
    key.write_text("k")
    raw = valid()
    raw["ssh"] = {"privateKeyFile": str(key)}
    with pytest.raises(ConfigError, match="at most one"):
        validate(raw, "test", {"sshPrivateKey"}, preview=True)


# --- Pulumi.yaml declares every key ------------------------------------------------------------

DECLARED_TYPES = {"string", "integer", "boolean", "array", "object"}


def project_config() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]


def test_pulumi_yaml_declares_every_key_with_type_and_description():
    declared = project_config()
    assert set(declared) == set(known_keys())
    for key, spec in declared.items():
        assert spec.get("type") in DECLARED_TYPES, key
        assert isinstance(spec.get("description"), str) and len(spec["description"]) > 20, key
        # The CLI refuses a plain default for a secret key: the program checks secrets itself.
        assert not (spec.get("secret") and "default" in spec), key
    assert declared["nodes"]["type"] == "array"
    assert declared["nodes"]["items"] == {"type": "object"}
    assert declared["sshPrivateKey"]["type"] == "string"
    assert "--secret" in declared["sshPrivateKey"]["description"]


def test_only_nodes_is_mandatory():
    # A declared key with neither default nor value is mandatory for every pulumi command.
    mandatory = {k for k, spec in project_config().items() if not {"default", "value"} & set(spec)}
    assert mandatory == {"nodes"}


def test_defaults_match_their_declared_types():
    python_types = {"string": str, "object": dict, "array": list}
    for key, spec in project_config().items():
        if "default" in spec:
            assert isinstance(spec["default"], python_types[spec["type"]]), key
            assert spec["default"] == UNSET_DEFAULTS[key], key
    assert set(UNSET_DEFAULTS) == {k for k, s in project_config().items() if "default" in s}


def test_program_treats_the_declared_defaults_as_not_set(config):
    # The CLI writes each declared default into the stack config when the key is absent.
    defaults = {k: s["default"] for k, s in project_config().items() if "default" in s}
    secret_defaults = {"sshPrivateKey", "ldsmPasswords"}
    plain = {**{k: v for k, v in defaults.items() if k not in secret_defaults}, **config}
    plain["ssh"] = {}
    plain["nodes"] = config["nodes"]
    # Defaults are plain values, which the program refuses for a secret key unless unset.
    plain.update({k: defaults[k] for k in secret_defaults})
    ev = evaluate(plain, {}, preview=True)
    assert not [line for line in logs(ev) if "plain text" in line or "sshPrivateKey" in line]
    # The defaults mean "log in through the SSH agent": no command is given a key.
    assert all("privateKey" not in c.plain["connection"] for c in ev.commands)
    names = [n["name"] for n in config["nodes"]]
    # With the secrets set, the default-valued keys give the built-in defaults.
    with_key = {k: v for k, v in plain.items() if k not in secret_defaults}
    passwords = {name: f"pw-{name}" for name in names}
    ev = evaluate(with_key, {"sshPrivateKey": TEST_PRIVATE_KEY, "ldsmPasswords": passwords})
    network = ev.named("overlay-network").plain
    assert network["ipamConfigs"][0]["subnet"] == "10.20.30.0/24"


def test_read_raw_drops_defaults_and_reads_through_the_public_api(monkeypatch):
    config = {
        "mip-federation:ssh": "{}",
        "mip-federation:sshPrivateKey": "",
        "mip-federation:nodes": '[{"name": "chuv"}]',
        "mip-federation:exareme": '{"port": 9091}',
        "mip-federation:nodse": "[]",
        "other:key": "x",
    }
    pulumi.runtime.set_all_config(config, ["mip-federation:sshPrivateKey"])
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config))
    assert read_raw() == {"nodes": [{"name": "chuv"}], "exareme": {"port": 9091}, "nodse": []}
    assert secret_keys_of(["sshPrivateKey", "nodes"]) == {"sshPrivateKey"}
    pulumi.runtime.set_all_config({}, [])


# --- swarm: join-token rotation, autolock, control manager ------------------------------------


def three_managers() -> dict[str, Any]:
    raw = valid()
    raw["nodes"].insert(1, {"name": "bale", "host": "192.0.2.11", "role": "manager"})
    raw["nodes"].insert(2, {"name": "vaud", "host": "192.0.2.12", "role": "manager"})
    return raw


def test_swarm_defaults_control_manager_is_the_first_manager():
    settings = validate(three_managers(), "test", {"sshPrivateKey"})
    assert settings.swarm.join_token_rotation is None
    assert settings.swarm.autolock is None
    assert settings.control_manager.name == "chuv" == settings.leader.name
    assert [n.name for n in settings.managers] == ["chuv", "bale", "vaud"]
    assert [n.name for n in settings.non_leaders] == ["bale", "vaud", "hug", "bern"]


def test_the_leader_is_the_first_manager_wherever_it_is_listed():
    raw = valid()
    raw["nodes"][0]["role"] = "worker"
    raw["nodes"][1]["role"] = "manager"
    settings = validate(raw, "test", {"sshPrivateKey"})
    assert settings.leader.name == "hug" == settings.control_manager.name
    assert [n.name for n in settings.non_leaders] == ["chuv", "bern"]


def test_control_manager_names_another_manager():
    raw = three_managers()
    raw["swarm"] = {"controlManager": "bale", "joinTokenRotation": "2026-12-01", "autolock": True}
    settings = validate(raw, "test", {"sshPrivateKey"})
    assert settings.control_manager.name == "bale" and settings.leader.name == "chuv"
    assert settings.swarm.join_token_rotation == "2026-12-01"
    assert settings.swarm.autolock is True


def test_control_manager_naming_a_worker_is_refused():
    raw = three_managers()
    raw["swarm"] = {"controlManager": "hug"}
    message = only_problem(raw)
    assert message.startswith("swarm.controlManager:") and "'hug' is a worker" in message
    assert "chuv, bale, vaud" in message


def test_control_manager_naming_an_unknown_node_is_refused():
    raw = three_managers()
    raw["swarm"] = {"controlManager": "zurich"}
    message = only_problem(raw)
    assert message.startswith("swarm.controlManager:") and "no node is named 'zurich'" in message
    assert "remove the key" in message


@pytest.mark.parametrize("value", ["", "  ", "a\nb"])
def test_join_token_rotation_must_be_one_line_of_text(value):
    raw = valid()
    raw["swarm"] = {"joinTokenRotation": value}
    message = only_problem(raw)
    assert message.startswith("swarm.joinTokenRotation:") and "rotate" in message


@pytest.mark.parametrize(
    ("value", "stored"), [("2160h", "2160h0m0s"), ("1h", "1h0m0s"), ("90h30m", "90h30m0s")]
)
def test_cert_expiry_is_stored_as_docker_prints_it(value, stored):
    raw = valid()
    raw["swarm"] = {"certExpiry": value}
    assert validate(raw, "test", {"sshPrivateKey"}).swarm.cert_expiry == stored


@pytest.mark.parametrize("value", ["", "59m", "90d", "2160", "175201h", 3600, "1h 2m", "-1h"])
def test_cert_expiry_outside_docker_range_is_refused_with_the_fix(value):
    raw = valid()
    raw["swarm"] = {"certExpiry": value}
    message = only_problem(raw)
    assert message.startswith("swarm.certExpiry:"), message
    assert "from 1h to 175200h" in message and "e.g. 2160h" in message


@pytest.mark.parametrize("value", ["", "  ", "a\nb"])
def test_ca_rotation_must_be_one_line_of_text(value):
    raw = valid()
    raw["swarm"] = {"caRotation": value}
    message = only_problem(raw)
    assert message.startswith("swarm.caRotation:") and "rotate the swarm's CA" in message


@pytest.mark.parametrize("value", [1280, 1400, "1450", 9000])
def test_network_mtu_in_range_is_kept(value):
    raw = valid()
    raw["network"] = {"mtu": value}
    assert validate(raw, "test", {"sshPrivateKey"}).network.mtu == int(value)


@pytest.mark.parametrize("value", [1279, 9001, 0, True, "big", 1400.5])
def test_network_mtu_outside_its_range_is_refused_with_the_fix(value):
    raw = valid()
    raw["network"] = {"mtu": value}
    message = only_problem(raw)
    assert message.startswith("network.mtu:"), message
    assert "from 1280 to 9000" in message and "docs/hosts.md" in message


def test_unknown_swarm_key_suggests_the_right_one():
    raw = valid()
    raw["swarm"] = {"autoLock": True}
    message = only_problem(raw)
    assert message.startswith("swarm.autoLock: unknown key") and "'autolock'" in message


def test_autolock_must_be_a_boolean():
    raw = valid()
    raw["swarm"] = {"autolock": "sometimes"}
    assert only_problem(raw).startswith("swarm.autolock:")


def test_a_worker_can_be_put_in_maintenance():
    raw = valid()
    raw["nodes"][2]["maintenance"] = True
    settings = validate(raw, "test", {"sshPrivateKey"})
    assert [n.maintenance for n in settings.nodes] == [False, False, True]


def test_the_leader_cannot_be_put_in_maintenance():
    raw = valid()
    raw["nodes"][0]["maintenance"] = True
    message = only_problem(raw)
    assert message.startswith("nodes[0].maintenance: 'chuv' is the leader")
    assert "Exareme master and keystore" in message and "set maintenance: false" in message


def test_the_leader_is_found_after_workers_listed_first():
    raw = valid()
    raw["nodes"] = [raw["nodes"][1], {**raw["nodes"][0], "maintenance": True}, raw["nodes"][2]]
    assert only_problem(raw).startswith("nodes[1].maintenance: 'chuv' is the leader")


def test_maintenance_must_be_a_boolean():
    raw = valid()
    raw["nodes"][1]["maintenance"] = "soon"
    assert only_problem(raw).startswith("nodes[1].maintenance:")


# --- ssh.proxy and nodes[i].proxy: the jump host ----------------------------------------------

JUMP_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIaDrR4cx4ULDw7x3pzPZtQlsbTQbRngPFi+GtSps6td"


def test_a_jump_host_applies_to_every_node_unless_one_overrides_it():
    raw = valid()
    raw["ssh"] = {"proxy": {"host": "bastion.example.org", "hostKey": f"{JUMP_KEY} root@b"}}
    raw["nodes"][1]["proxy"] = {
        "host": "192.0.2.99",
        "port": 2222,
        "user": "jump",
        "hostKey": JUMP_KEY,
    }
    raw["nodes"][2]["proxy"] = False
    settings = validate(raw, "test", {"sshPrivateKey"})
    default = settings.ssh.proxy
    assert default is not None and default.host_key == JUMP_KEY  # the comment dropped
    assert default.port == 22 and default.user is None  # None: ssh.user
    chuv, hug, bern = settings.nodes
    assert chuv.jump_host(default) == default
    assert (hug.jump_host(default).host, hug.jump_host(default).port) == ("192.0.2.99", 2222)
    assert bern.jump_host(default) is None


def test_the_jump_hosts_key_must_be_pinned():
    raw = valid()
    raw["ssh"] = {"proxy": {"host": "192.0.2.99"}}
    message = only_problem(raw)
    assert message.startswith("ssh.proxy.hostKey: is required: the jump host's key must be pinned")
    assert "ssh-keyscan -t ed25519 JUMPHOST" in message


@pytest.mark.parametrize(
    ("proxy", "expected"),
    [
        ({"host": "bad host", "hostKey": JUMP_KEY}, "nodes[1].proxy.host: must be the jump host's"),
        (
            {"host": "192.0.2.99", "hostKey": "ssh-rsa AAAA"},
            "nodes[1].proxy.hostKey: is an ssh-rsa",
        ),
        ({"host": "192.0.2.99", "hostKey": JUMP_KEY, "port": 0}, "nodes[1].proxy.port: must be a"),
        ({"host": "192.0.2.99", "hostKey": JUMP_KEY, "user": "Root;"}, "nodes[1].proxy.user: must"),
        ({"host": "192.0.2.99", "hostkey": JUMP_KEY}, "nodes[1].proxy.hostkey: unknown key; did"),
        (
            True,
            "nodes[1].proxy: must be this node's jump host {host, hostKey, port, user}, or false",
        ),
        ("192.0.2.99", "nodes[1].proxy: must be this node's jump host"),
    ],
)
def test_a_nodes_jump_host_is_validated(proxy, expected):
    raw = valid()
    raw["nodes"][1]["proxy"] = proxy
    found = problems(raw)
    assert any(p.startswith(expected) for p in found), found
    assert len(found) <= 2, found  # the missing hostKey of the unknown-key case
