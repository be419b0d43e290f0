"""Bad input, table-driven, through the whole program: each config stops it before any resource
is registered (so nothing can reach a host), with a message naming the exact config path."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from federation.config import ConfigError
from tests.conftest import VALID_NODES, VALID_SECRETS
from tests.program import Evaluation, evaluate

Config = dict[str, Any]
NAMES = [n["name"] for n in VALID_NODES]


def base() -> tuple[Config, Config]:
    return {"ssh": {"user": "mipadmin"}, "nodes": copy.deepcopy(VALID_NODES)}, copy.deepcopy(
        VALID_SECRETS
    )


def node(i: int, **changes: Any) -> Callable[[Config, Config], None]:
    def change(config: Config, secrets: Config) -> None:
        for key, value in changes.items():
            if value is None:
                config["nodes"][i].pop(key, None)
            else:
                config["nodes"][i][key] = value

    return change


def key(name: str, value: Any) -> Callable[[Config, Config], None]:
    def change(config: Config, secrets: Config) -> None:
        config[name] = value

    return change


def secret(name: str, value: Any) -> Callable[[Config, Config], None]:
    def change(config: Config, secrets: Config) -> None:
        if value is None:
            secrets.pop(name, None)
        else:
            secrets[name] = value

    return change


def plain_secret(config: Config, secrets: Config) -> None:
    config["sshPrivateKey"] = secrets.pop("sshPrivateKey")


def plain_passwords(config: Config, secrets: Config) -> None:
    config["ldsmPasswords"] = secrets.pop("ldsmPasswords")


def both_key_sources(config: Config, secrets: Config) -> None:
    config["ssh"]["privateKeyFile"] = __file__


def managers(count: int) -> Callable[[Config, Config], None]:
    def change(config: Config, secrets: Config) -> None:
        for i, entry in enumerate(config["nodes"]):
            entry["role"] = "manager" if i < count else "worker"

    return change


def several(*changes: Callable[[Config, Config], None]) -> Callable[[Config, Config], None]:
    def change(config: Config, secrets: Config) -> None:
        for one in changes:
            one(config, secrets)

    return change


CASES: list[tuple[str, Callable[[Config, Config], None], list[str]]] = [
    ("missing nodes", lambda c, s: c.pop("nodes"), ["nodes"]),
    ("typo nodse", key("nodse", []), ["nodse"]),
    ("typo in ssh", key("ssh", {"usr": "root"}), ["ssh.usr"]),
    ("typo in node", node(2, advertise="203.0.113.9"), ["nodes[2].advertise"]),
    ("unknown network key", key("network", {"encrypt": True}), ["network.encrypt"]),
    ("nodes not a list", key("nodes", {"chuv": "192.0.2.10"}), ["nodes"]),
    ("port not a number", key("ssh", {"port": "twenty-two"}), ["ssh.port"]),
    ("encrypted not a bool", key("network", {"encrypted": "sometimes"}), ["network.encrypted"]),
    ("env not a map", key("exareme", {"env": ["A=1"]}), ["exareme.env"]),
    ("env value a list", key("portal", {"env": {"A": [1]}}), ["portal.env.A"]),
    ("zero managers", managers(0), ["nodes"]),
    ("two managers", managers(2), ["nodes"]),
    ("four managers", managers(4), ["nodes"]),
    ("empty nodes", key("nodes", []), ["nodes"]),
    ("duplicate name", node(3, name="hug"), ["nodes[3].name", "ldsmPasswords.lille"]),
    ("duplicate host", node(3, host="198.51.100.21"), ["nodes[3].host"]),
    ("uppercase name", node(1, name="HUG"), ["nodes[1].name"]),
    ("name with shell", node(1, name="hug;reboot"), ["nodes[1].name"]),
    ("host with space", node(2, host="203.0.113.31 -oProxyCommand=x"), ["nodes[2].host"]),
    ("host bad octet", node(2, host="203.0.113.310"), ["nodes[2].host"]),
    ("host empty", node(2, host=""), ["nodes[2].host"]),
    (
        "advertiseAddr a name",
        node(3, advertiseAddr="lille.example.org"),
        ["nodes[3].advertiseAddr"],
    ),
    (
        "advertiseAddr with port",
        node(3, advertiseAddr="203.0.113.41:2377"),
        ["nodes[3].advertiseAddr"],
    ),
    ("dns host no advertise", node(3, host="lille.example.org"), ["nodes[3].advertiseAddr"]),
    ("missing role", node(1, role=None), ["nodes[1].role"]),
    ("bad role", node(1, role="master"), ["nodes[1].role"]),
    ("ssh port 0", key("ssh", {"port": 0}), ["ssh.port"]),
    ("ssh port too big", key("ssh", {"port": 65536}), ["ssh.port"]),
    ("exareme port", key("exareme", {"port": -1}), ["exareme.port"]),
    ("ldsm port", node(1, ldsm={"port": 99999}), ["nodes[1].ldsm.port"]),
    ("ldsm host", node(1, ldsm={"host": "$(reboot)"}), ["nodes[1].ldsm.host"]),
    ("subnet host bits", key("network", {"subnet": "10.20.30.7/24"}), ["network.subnet"]),
    ("subnet garbage", key("network", {"subnet": "10.20.30.0/33"}), ["network.subnet"]),
    ("gateway outside", key("network", {"gateway": "10.20.31.254"}), ["network.gateway"]),
    ("gateway is network address", key("network", {"gateway": "10.20.30.0"}), ["network.gateway"]),
    ("image uppercase", key("exareme", {"image": "HBPMIP/exareme:v5"}), ["exareme.image"]),
    ("image with shell", key("exareme", {"image": "hbpmip/exareme:v5;id"}), ["exareme.image"]),
    (
        "keystore image bad digest",
        key("exareme", {"keystoreImage": "consul@sha256:xyz"}),
        ["exareme.keystoreImage"],
    ),
    ("portal image spaces", key("portal", {"image": "portal backend"}), ["portal.image"]),
    ("both key sources", both_key_sources, ["ssh.privateKeyFile"]),
    (
        "key file missing",
        several(secret("sshPrivateKey", None), key("ssh", {"privateKeyFile": "/nonexistent/key"})),
        ["ssh.privateKeyFile"],
    ),
    ("ssh key in plain text", plain_secret, ["sshPrivateKey"]),
    ("passwords in plain text", plain_passwords, ["ldsmPasswords"]),
    (
        "password for unknown node",
        secret("ldsmPasswords", {**VALID_SECRETS["ldsmPasswords"], "geneva": "y"}),
        ["ldsmPasswords.geneva"],
    ),
    (
        "password missing",
        secret(
            "ldsmPasswords", {k: v for k, v in VALID_SECRETS["ldsmPasswords"].items() if k != "hug"}
        ),
        ["ldsmPasswords.hug"],
    ),
    (
        "password empty",
        secret("ldsmPasswords", {**VALID_SECRETS["ldsmPasswords"], "chuv": ""}),
        ["ldsmPasswords.chuv"],
    ),
    ("no passwords", secret("ldsmPasswords", None), [f"ldsmPasswords.{n}" for n in NAMES]),
    ("reserved env", key("exareme", {"env": {"NODE_NAME": "x"}}), ["exareme.env"]),
    ("bad host key", node(1, hostKey="ssh-dss AAAA"), ["nodes[1].hostKey"]),
    ("bad ssh user", key("ssh", {"user": "root; id"}), ["ssh.user"]),
    (
        "several at once",
        several(node(0, name="CHUV"), node(2, host="bad host"), key("netwrok", {})),
        ["nodes[0].name", "nodes[2].host", "netwrok"],
    ),
]


def test_at_least_thirty_cases():
    assert len(CASES) >= 30


@pytest.mark.parametrize(("mutate", "paths"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_stops_before_any_resource(mutate, paths):
    config, secrets = base()
    mutate(config, secrets)
    evaluation = Evaluation()
    with pytest.raises(ConfigError) as caught:
        evaluate(config, secrets, stack="test", into=evaluation)
    assert evaluation.resources == [], "nothing may be registered for an invalid config"
    problems = caught.value.problems
    assert sorted(p.split(":")[0] for p in problems) == sorted(paths), problems
    for problem in problems:
        # Each names a path and says what to do about it.
        assert ": " in problem and len(problem.split(": ", 1)[1]) > 15, problem
