"""Diff stability: each change to a stack touches exactly the resources it should.

Two evaluations of the real program are compared resource by resource, keyed by (type, name),
on everything Pulumi diffs: the inputs (secrets unwrapped, so a rotated key shows), the parent
(part of the URN) and the provider. Every scenario asserts the exact sets of added, removed and
changed resources, and for changed ones the exact input paths.

For the commands that an SSH change re-runs, "safe to re-run" is checked by running each one's
create script against a host that is already deployed (a stub `docker` and `curl` that record
every call): it must succeed, change nothing, and print what it printed the first time.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.program import ROOT, TEST_PRIVATE_KEY, evaluate_stack, load_stack_file

COMMAND = "command:remote:Command"
SERVICE = "docker:index/service:Service"
SECRET = "docker:index/secret:Secret"
PROVIDER = "pulumi:providers:docker"
Key = tuple[str, str]

OTHER_KEY = TEST_PRIVATE_KEY.replace("fake-test-key-material", "rotated-test-key-material")
ZURICH = {
    "name": "zurich",
    "host": "192.0.2.50",
    "role": "worker",
    "hostKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHZ1cmljaC1ob3N0LWtleS1mb3ItdGVzdHM",
}


@dataclass(frozen=True)
class Diff:
    added: set[Key]
    removed: set[Key]
    changed: dict[Key, set[str]]
    """Changed resources and the paths of their inputs (or `(parent)`/`(provider)`) that changed."""

    def names(self, which: set[Key] | dict[Key, set[str]]) -> set[str]:
        return {name for _, name in which}


def leaf_paths(before: Any, after: Any, prefix: str = "") -> set[str]:
    """The paths at which two values differ."""
    if isinstance(before, dict) and isinstance(after, dict):
        paths: set[str] = set()
        for key in before.keys() | after.keys():
            path = f"{prefix}.{key}" if prefix else key
            if key not in before or key not in after:
                paths.add(path)
            else:
                paths |= leaf_paths(before[key], after[key], path)
        return paths
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        paths = set()
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            paths |= leaf_paths(b, a, f"{prefix}[{i}]")
        return paths
    return set() if before == after else {prefix}


def without(inputs: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """`inputs` without the values at the dotted `paths`."""
    inputs = copy.deepcopy(inputs)
    for path in paths:
        *parents, last = path.split(".")
        target: Any = inputs
        for part in parents:
            target = target.get(part, {}) if isinstance(target, dict) else {}
        if isinstance(target, dict):
            target.pop(last, None)
    return inputs


def snapshot(config: dict[str, Any], secrets: dict[str, Any]) -> dict[Key, dict[str, Any]]:
    evaluation = evaluate_stack(config, secrets, stack="prod")
    return {
        (r.typ, r.name): {
            # Inputs under ignoreChanges are not diffed by Pulumi (the probes': connection, create).
            "inputs": without(r.plain, r.ignore_changes),
            "(parent)": r.parent,
            "(provider)": (r.provider or "").split("::")[-2:-1],
        }
        for r in evaluation.resources
    }


def compare(before: dict[Key, dict[str, Any]], after: dict[Key, dict[str, Any]]) -> Diff:
    changed = {}
    for key in before.keys() & after.keys():
        paths = leaf_paths(before[key], after[key])
        if paths:
            changed[key] = {p.removeprefix("inputs.") for p in paths}
    return Diff(set(after) - set(before), set(before) - set(after), changed)


@pytest.fixture
def prod() -> tuple[dict[str, Any], dict[str, Any]]:
    """The prod stack's config, with test secrets in place of its `secure:` values."""
    return load_stack_file(ROOT / "Pulumi.prod.yaml")


@pytest.fixture
def prod_with_key(prod) -> tuple[dict[str, Any], dict[str, Any]]:
    """The prod stack logging in with the secret sshPrivateKey (a stack deployed with one)."""
    config, secrets = copy.deepcopy(prod)
    secrets["sshPrivateKey"] = TEST_PRIVATE_KEY
    return config, secrets


def change(prod, edit) -> Diff:
    config, secrets = prod
    before = snapshot(config, secrets)
    config, secrets = copy.deepcopy(config), copy.deepcopy(secrets)
    edit(config, secrets)
    return compare(before, snapshot(config, secrets))


def node_resources(alias: str) -> set[Key]:
    return {
        (COMMAND, f"join-{alias}"),
        (COMMAND, f"node-{alias}"),
        (COMMAND, f"probe-{alias}"),
        (SERVICE, f"exareme-worker-{alias}"),
        (SECRET, f"ldsm-{alias}"),
    }


@pytest.mark.parametrize("position", [1, 2, 4], ids=["first-worker", "middle", "last"])
def test_adding_a_hospital_adds_only_its_resources(prod, position):
    def add(config, secrets):
        config["nodes"].insert(position, dict(ZURICH))
        secrets["ldsmPasswords"]["zurich"] = "pw-zurich"

    diff = change(prod, add)
    assert diff.added == node_resources("zurich")
    assert diff.removed == set()
    # The master's EXA_WORKERS_WAIT is ignored after the first bootstrap: it is not updated.
    assert diff.changed == {}


@pytest.mark.parametrize("alias", ["hug", "brescia", "lille"])
def test_removing_a_hospital_removes_only_its_resources(prod, alias):
    def remove(config, secrets):
        config["nodes"] = [n for n in config["nodes"] if n["name"] != alias]
        del secrets["ldsmPasswords"][alias]

    diff = change(prod, remove)
    assert diff.added == set()
    assert diff.removed == node_resources(alias)
    assert diff.changed == {}


@pytest.mark.parametrize("alias", ["hug", "lille"])
def test_maintenance_changes_only_that_nodes_availability(prod, alias):
    def drain(config, secrets):
        next(n for n in config["nodes"] if n["name"] == alias)["maintenance"] = True

    diff = change(prod, drain)
    assert diff.added == diff.removed == set()
    # node-NAME sets the availability; the master is not updated (EXA_WORKERS_WAIT is ignored).
    assert diff.changed == {(COMMAND, f"node-{alias}"): {"create"}}


V6 = "hbpmip/exareme:v6@sha256:" + "6" * 64
CONSUL_1_16 = "hashicorp/consul:1.16.0@sha256:" + "16" * 32


def test_bumping_the_exareme_image_changes_only_its_services(prod):
    diff = change(prod, lambda config, _: config["exareme"].update(image=V6))
    assert diff.added == diff.removed == set()
    assert diff.changed == {
        (SERVICE, name): {"taskSpec.containerSpec.image"}
        for name in (
            "exareme-master",
            "exareme-worker-hug",
            "exareme-worker-brescia",
            "exareme-worker-lille",
        )
    }
    assert not any(typ == COMMAND for typ, _ in diff.changed)


def test_bumping_the_keystore_image_changes_only_the_keystore(prod):
    diff = change(prod, lambda config, _: config["exareme"].update(keystoreImage=CONSUL_1_16))
    assert diff.added == diff.removed == set()
    assert diff.changed == {(SERVICE, "exareme-keystore"): {"taskSpec.containerSpec.image"}}


def test_bumping_the_portal_image_changes_only_the_portal(prod):
    diff = change(
        prod, lambda config, _: config["portal"].update(image="hbpmip/portal-backend:2.5.5")
    )
    assert diff.changed == {("docker:index/container:Container", "portal-backend"): {"image"}}
    assert diff.added == diff.removed == set()


def test_setting_the_mtu_changes_only_the_network_options(prod):
    diff = change(prod, lambda config, _: config.setdefault("network", {}).update(mtu=1400))
    assert diff.added == diff.removed == set()
    # `options` is ForceNew (terraform-provider-docker resource_docker_network.go): a replacement.
    assert diff.changed == {
        ("docker:index/network:Network", "overlay-network"): {
            "options.com.docker.network.driver.mtu"
        }
    }


@pytest.mark.parametrize(
    ("setting", "resource"),
    [("certExpiry", "swarm-cert-expiry"), ("caRotation", "swarm-ca-rotation")],
)
def test_a_certificate_setting_adds_only_its_command(prod, setting, resource):
    value = "720h" if setting == "certExpiry" else "2026-12-01"
    diff = change(prod, lambda config, _: config.setdefault("swarm", {}).update({setting: value}))
    assert diff.added == {(COMMAND, resource)}
    assert diff.removed == set() and diff.changed == {}


ALL_COMMANDS = {
    (COMMAND, name)
    for name in (
        "swarm-init",
        "swarm-join-tokens",
        *(f"join-{a}" for a in ("hug", "brescia", "lille")),
        *(f"node-{a}" for a in ("chuv", "hug", "brescia", "lille")),
        "query-port-firewall",
    )
}


def ssh_user_change(config, _secrets):
    config["ssh"]["user"] = "mipops"


def key_rotation(_config, secrets):
    secrets["sshPrivateKey"] = OTHER_KEY


def test_changing_the_ssh_user_changes_every_command_connection_and_the_provider(prod):
    diff = change(prod, ssh_user_change)
    assert diff.added == diff.removed == set()
    assert diff.changed == {
        **{key: {"connection.user"} for key in ALL_COMMANDS},
        (PROVIDER, "leader-docker"): {"host"},
        (PROVIDER, "portal-docker"): {"host"},
    }


def test_rotating_the_ssh_key_secret_changes_only_the_command_connections(prod_with_key):
    diff = change(prod_with_key, key_rotation)
    assert diff.added == diff.removed == set()
    # The docker provider takes the key from the SSH agent: nothing of it is in its inputs.
    assert diff.changed == {key: {"connection.privateKey"} for key in ALL_COMMANDS}


def with_key_file(path: Path):
    def use_file(config, secrets):
        secrets.pop("sshPrivateKey", None)
        config["ssh"]["privateKeyFile"] = str(path)

    return use_file


def test_rotating_a_key_file_in_place_changes_only_the_command_connections(prod, tmp_path):
    key_file = tmp_path / "mip_fed"
    key_file.write_text(TEST_PRIVATE_KEY)
    config, secrets = copy.deepcopy(prod)
    with_key_file(key_file)(config, secrets)
    before = snapshot(config, secrets)
    key_file.write_text(OTHER_KEY)
    diff = compare(before, snapshot(config, secrets))
    assert diff.changed == {key: {"connection.privateKey"} for key in ALL_COMMANDS}


def test_moving_the_key_file_also_changes_the_provider_ssh_options(prod, tmp_path):
    old, new = tmp_path / "old_key", tmp_path / "new_key"
    old.write_text(TEST_PRIVATE_KEY)
    new.write_text(OTHER_KEY)
    config, secrets = copy.deepcopy(prod)
    with_key_file(old)(config, secrets)
    before = snapshot(config, secrets)
    with_key_file(new)(config, secrets)
    diff = compare(before, snapshot(config, secrets))
    assert diff.changed == {
        **{key: {"connection.privateKey"} for key in ALL_COMMANDS},
        (PROVIDER, "leader-docker"): {"sshOpts"},
        (PROVIDER, "portal-docker"): {"sshOpts"},
    }


@pytest.mark.parametrize("alias", ["chuv", "hug"])
def test_a_password_change_touches_that_nodes_secret_and_nothing_else(prod, alias):
    """Only the secret's `data` differs. `data` forces a replacement (resource_docker_secret.go:
    ForceNew), and the one service that takes the secret's id follows it with an update
    (tests/engine_tests/test_docker_secret.py, and the lab's rotation test, show that chain)."""

    def rotate(config, secrets):
        secrets["ldsmPasswords"][alias] = "a-new-password"

    diff = change(prod, rotate)
    assert diff == Diff(set(), set(), {(SECRET, f"ldsm-{alias}"): {"data"}})
    config, secrets = prod
    users = {
        r.name
        for r in evaluate_stack(config, secrets, stack="prod").resources
        for urns in r.property_dependencies.values()
        if any(u.endswith(f"::ldsm-{alias}") for u in urns)
    }
    assert users == {"exareme-master" if alias == "chuv" else f"exareme-worker-{alias}"}


@pytest.mark.parametrize(
    "order",
    [
        ["chuv", "lille", "brescia", "hug"],
        ["hug", "chuv", "lille", "brescia"],
        ["lille", "hug", "brescia", "chuv"],
    ],
    ids=["workers-reversed", "worker-before-leader", "leader-last"],
)
def test_reordering_the_workers_changes_nothing(prod, order):
    def reorder(config, _secrets):
        by_name = {n["name"]: n for n in config["nodes"]}
        config["nodes"] = [by_name[name] for name in order]

    diff = change(prod, reorder)
    assert diff == Diff(set(), set(), {})


def test_renaming_a_hospital_replaces_only_its_resources(prod):
    def rename(config, secrets):
        node = next(n for n in config["nodes"] if n["name"] == "hug")
        node["name"] = "geneva"
        secrets["ldsmPasswords"]["geneva"] = secrets["ldsmPasswords"].pop("hug")

    diff = change(prod, rename)
    assert diff.removed == node_resources("hug")
    assert diff.added == node_resources("geneva")
    assert diff.changed == {}


def test_resource_names_are_made_of_node_names_only(prod):
    config, secrets = prod
    names = {name for _, name in snapshot(config, secrets)}
    aliases = {n["name"] for n in config["nodes"]}
    per_node = {n for n in names if n.startswith(("join-", "node-", "exareme-worker-", "ldsm-"))}
    assert {n.split("-", 1)[1].removeprefix("worker-") for n in per_node} <= aliases
    assert not any(ch.isdigit() for name in names for ch in name)


# --- re-running the commands an SSH change updates ---------------------------------------------

FAKE_DOCKER = r"""#!/bin/sh
echo "docker $*" >> "$FAKE_DIR/calls"
case "$*" in
  "info --format {{.Swarm.LocalNodeState}}") cat "$FAKE_DIR/state" ;;
  "info --format {{.Swarm.ControlAvailable}}") cat "$FAKE_DIR/control" ;;
  "info --format {{.Swarm.NodeAddr}}") cat "$FAKE_DIR/addr" ;;
  "info --format {{range .Swarm.RemoteManagers}} {{.Addr}}{{end}}")
    printf ' %s:2377\n' "$(cat "$FAKE_DIR/leader")" ;;
  "info --format {{.Swarm.Cluster.ID}}") echo swarm-1 ;;
  "info --format {{.Swarm.NodeID}}") cat "$FAKE_DIR/nodeid" ;;
  "swarm join-token -q worker") echo SWMTKN-1-stub-worker ;;
  "swarm join-token -q manager") echo SWMTKN-1-stub-manager ;;
  "node inspect --format {{.Spec.Role}} {{index .Spec.Labels \"name\"}} {{.Spec.Availability}} "*)
    cat "$FAKE_DIR/role_label" ;;
  "node update --role "*) ;;
  *) echo "fake docker: unexpected call: $*" >&2; exit 99 ;;
esac
"""
# iptables as a host where firewall.sh already ran answers it: every rule checked (-C) is there.
FAKE_IPTABLES = """#!/bin/sh
echo "$(basename "$0") $*" >> "$FAKE_DIR/calls"
case "$(basename "$0")" in *-restore) cat >/dev/null ;; esac
"""
FAKE_CURL = """#!/bin/sh
echo "curl $*" >> "$FAKE_DIR/calls"
exit 99
"""
READ_ONLY = ("docker info ", "docker swarm join-token -q ", "docker node inspect ")
IPTABLES = ("iptables", "ip6tables", "iptables-restore", "ip6tables-restore")


def deployed_host(
    tmp_path: Path, *, addr: str, leader: str, manager: bool, role_label: str = ""
) -> dict[str, str]:
    """A host as the first deployment left it, with stub docker and curl on PATH; `role_label`:
    what `docker node inspect` reports for the node a node-NAME command sets."""
    bin_dir, fake, home = tmp_path / "bin", tmp_path / "fake", tmp_path / "home"
    for directory in (bin_dir, fake, home):
        directory.mkdir(parents=True)
    fakes = [("docker", FAKE_DOCKER), ("curl", FAKE_CURL)]
    fakes += [(name, FAKE_IPTABLES) for name in IPTABLES]
    fakes += [("sudo", '#!/bin/sh\nshift\nexec "$@"\n')]  # `sudo -n`, when not run as root
    for name, text in fakes:
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    for name, value in {
        "state": "active",
        "control": "true" if manager else "false",
        "addr": addr,
        "leader": leader,
        "nodeid": f"id-of-{addr}",
        "role_label": role_label,
        "calls": "",
    }.items():
        (fake / name).write_text(value + "\n" if value else "")
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "FAKE_DIR": str(fake),
    }


PREFETCH = "docker pull -q "


def run_create(
    command: dict[str, Any], env: dict[str, str], script: str = "create"
) -> tuple[str, list[str]]:
    calls = Path(env["FAKE_DIR"]) / "calls"
    calls.write_text("")
    result = subprocess.run(
        ["sh", "-c", command[script]],
        input=command.get("stdin", ""),
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    # The background pulls a join or init starts (scripts/prefetch.sh) log whenever they run, if
    # the script has not returned first: best effort by design, and a pull changes no host.
    return result.stdout, [c for c in calls.read_text().splitlines() if not c.startswith(PREFETCH)]


@pytest.mark.parametrize("scenario", [ssh_user_change, key_rotation], ids=["ssh-user", "ssh-key"])
def test_every_command_an_ssh_change_updates_is_safe_to_rerun(prod_with_key, scenario, tmp_path):
    prod = prod_with_key
    config, secrets = copy.deepcopy(prod)
    diff = change(prod, scenario)
    scenario(config, secrets)
    after = evaluate_stack(config, secrets, stack="prod")
    leader = after.named("swarm-init").plain["connection"]["host"]
    rerun = {name for typ, name in diff.changed if typ == COMMAND}
    assert rerun == {name for _, name in ALL_COMMANDS}
    for name in sorted(rerun):
        command = after.named(name).plain
        # No `update` script: pulumi-command runs `create` again; no trigger, so no replacement
        # and no `delete` runs. swarm-join-tokens has an `update` (it reads the tokens, never
        # rotates) and a trigger (swarm.joinTokenRotation) that an SSH change leaves as it was;
        # query-port-firewall's `update` is its `create` (it re-applies the same rules).
        with_update = ("swarm-join-tokens", "query-port-firewall")
        script = "update" if name in with_update else "create"
        if name == "query-port-firewall":
            assert command["update"] == command["create"] and "triggers" not in command
        elif name == "swarm-join-tokens":
            assert diff.changed[(COMMAND, name)] == diff.changed[(COMMAND, "swarm-init")]
        else:
            assert "update" not in command and "triggers" not in command, name
        host = command["connection"]["host"]
        node = next(n for n in config["nodes"] if n["host"] == host)
        addr = node.get("advertiseAddr", host)
        labelled = next((n for n in config["nodes"] if name == f"node-{n['name']}"), None)
        role_label = f"{labelled['role']} {labelled['name']} active" if labelled else ""
        env = deployed_host(
            tmp_path / name,
            addr=addr,
            leader=leader,
            manager=node["role"] == "manager",
            role_label=role_label,
        )
        first_out, first_calls = run_create(command, env, script)
        second_out, second_calls = run_create(command, env, script)
        assert (first_out, first_calls) == (second_out, second_calls), f"{name} is not repeatable"
        writes = [c for c in first_calls if not c.startswith(READ_ONLY)]
        if name == "query-port-firewall":
            # The chain's rules replaced by the same rules in one transaction; no jump added twice.
            restores = [c for c in writes if c.split()[0].endswith("-restore")]
            assert restores and all(c.endswith(" -w --noflush") for c in restores), writes
            assert not [c for c in writes if " -I " in c or " -A " in c], writes
        else:
            # node-NAME reads the role and label first: `docker node update` with the same
            # values still bumps the node's version (tests/e2e/test_agent.py shows none on the lab).
            assert writes == [], f"{name} changed a deployed host: {writes}"
        if labelled:  # a node not yet labelled as configured is updated
            fresh = deployed_host(
                tmp_path / f"{name}-unlabelled", addr=addr, leader=leader, manager=True
            )
            _, calls = run_create(command, fresh, script)
            updates = [c for c in calls if not c.startswith(READ_ONLY)]
            assert len(updates) == 1 and updates[0].startswith("docker node update --role "), name
        if name == "swarm-join-tokens":
            assert json.loads(first_out)["workerToken"] == "SWMTKN-1-stub-worker"


def test_opening_the_query_port_to_an_address_updates_only_the_firewall(prod):
    def allow(config, _secrets):
        config.setdefault("exareme", {})["allowFrom"] = ["192.0.2.77"]

    diff = change(prod, allow)
    assert diff.added == diff.removed == set()
    assert diff.changed == {(COMMAND, "query-port-firewall"): {"create", "update"}}
