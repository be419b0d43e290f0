"""On the lab: nothing leaks, injected metacharacters stay inert, host keys are enforced."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    Federation,
    sh,
    swarm_nodes,
    swarm_state,
    wait_for,
    with_ldsm_passwords,
)
from tests.lab.exareme_check import is_working
from tests.program import evaluate

pytestmark = pytest.mark.lab

NAMES = ["chuv", "hug", "bern"]
CANARY = "mip-injection-canary"
INJECTIONS = [
    f"$(touch /tmp/{CANARY})",
    f"`touch /tmp/{CANARY}`",
    f"'; touch /tmp/{CANARY}; '",
    f'"; touch /tmp/{CANARY}; "',
    f"x\ntouch /tmp/{CANARY}",
    f"a;touch /tmp/{CANARY}",
    "--force",
    "-rf /",
]


@contextmanager
def argv_sampler(interval: float = 0.01) -> Iterator[set[str]]:
    """Samples the command line of every process on the machine (every lab host's processes are
    visible from the root pid namespace) while the block runs."""
    seen: set[str] = set()
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for entry in os.scandir("/proc"):
                if entry.name.isdigit():
                    with suppress(OSError):
                        seen.add(Path(entry.path, "cmdline").read_bytes().decode(errors="replace"))
            stop.wait(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()


def key_material(federation: Federation) -> list[str]:
    lines = Path(federation.lab.key_file).read_text().splitlines()
    return [line for line in lines if len(line) > 20 and "PRIVATE KEY" not in line]


def assert_nowhere(needles: list[str], **haystacks: str) -> None:
    for where, text in haystacks.items():
        for needle in needles:
            assert needle not in text, f"a secret ({needle[:6]}...) leaked into {where}"


def test_no_secret_in_state_outputs_logs_errors_or_argv(federation, capfd):
    lab = federation.lab
    passwords = {name: f"ldsm-secret-{name}-Zq9" for name in NAMES}
    config = federation.config(NAMES)
    with argv_sampler() as argv:
        result = federation.deploy(config, {"ldsmPasswords": passwords})
    assert result.ok, result.errors
    tokens = [sh(lab, 1, f"docker swarm join-token -q {role}") for role in ("worker", "manager")]
    assert len(argv) > 50, "the sampler saw the deploy's processes"

    # A join-token rotation, and autolock: the old and the new tokens and the unlock key pass
    # through the control manager's command output; none may show anywhere.
    config = dict(config, swarm={"joinTokenRotation": "leak scan", "autolock": True})
    with argv_sampler() as argv_rotation:
        rotated = federation.deploy(config, {"ldsmPasswords": passwords})
    assert rotated.ok, rotated.errors
    new_tokens = [sh(lab, 1, f"docker swarm join-token -q {r}") for r in ("worker", "manager")]
    assert set(new_tokens).isdisjoint(tokens), "the rotation changed both tokens"
    tokens += new_tokens
    unlock_key = sh(lab, 1, "docker swarm unlock-key -q")
    assert unlock_key.startswith("SWMKEY-1-") and rotated.outputs["swarmUnlockKey"] != unlock_key
    tokens.append(unlock_key)
    needles = tokens + list(passwords.values()) + key_material(federation)

    # A deploy that fails on purpose mid-way: one worker is unreachable, the rest goes on.
    lab.link_down(3)
    config_failing = dict(config, nodes=[*config["nodes"], _extra_node(federation, 3)])
    with argv_sampler() as argv_failing:
        failed = federation.deploy(config_failing, {"ldsmPasswords": passwords})
    lab.link_up(3)
    assert not failed.ok
    captured = capfd.readouterr()

    assert_nowhere(
        needles,
        state=federation.state_file.read_text(),
        oplog=federation.state_file.with_suffix(".ops.jsonl").read_text(),
        outputs=json.dumps([result.outputs, rotated.outputs, failed.outputs]),
        operations=json.dumps([result.operations, rotated.operations, failed.operations]),
        errors=json.dumps(failed.errors),
        printed=captured.out + captured.err,
        argv="\n".join(argv | argv_rotation | argv_failing),
    )
    # The join token did reach the hosts (through stdin), and the secrets are in the state,
    # encrypted: the search above was looking in the right places.
    assert len(swarm_nodes(lab)) == 3
    assert "secret" in federation.state_file.read_text()
    # Tokens travel on stdin; no file is left behind on any host.
    for index in (1, 2, 3):
        assert sh(lab, index, "ls -A /tmp") == ""


def _extra_node(federation: Federation, index: int) -> dict[str, str]:
    """A node entry for lab host `index` under a new name (a second entry would collide)."""
    host = federation.lab.host(index)
    return {
        "name": "extra",
        "host": host.ip,
        "role": "worker",
        "hostKey": federation.lab.host_key(index),
    }


def test_injected_metacharacters_are_refused_or_inert(federation):
    lab = federation.lab
    config = federation.config(NAMES)

    # Strings that could reach a shell on a host are validated: refused before anything runs.
    for path, value in [
        ("name", f"hug;touch /tmp/{CANARY}"),
        ("host", f"{lab.host(2).ip};touch /tmp/{CANARY}"),
        ("advertiseAddr", f"$(touch /tmp/{CANARY})"),
    ]:
        bad = json.loads(json.dumps(config))
        bad["nodes"][1][path] = value
        refused = federation.deploy(bad)
        assert not refused.ok and refused.operations == []
        assert f"nodes[1].{path}" in json.dumps(refused.errors)
    for section, field in [("exareme", "image"), ("portal", "image")]:
        refused = federation.deploy(dict(config, **{section: {field: f"x;touch /tmp/{CANARY}"}}))
        assert not refused.ok and refused.operations == []

    # Free-form values (environment, LDSM password) are accepted and must arrive verbatim.
    env = {f"INJ{i}": value for i, value in enumerate(INJECTIONS)}
    passwords = {name: INJECTIONS[i % len(INJECTIONS)] for i, name in enumerate(NAMES)}
    deployed = federation.deploy(
        dict(config, exareme={"env": env}, portal={"env": env}), {"ldsmPasswords": passwords}
    )
    assert deployed.ok, deployed.errors
    spec = json.loads(
        sh(
            lab,
            1,
            "docker service inspect exareme-worker-hug --format "
            "'{{json .Spec.TaskTemplate.ContainerSpec.Env}}'",
        )
    )
    for name, value in env.items():
        assert f"{name}={value}" in spec
    assert not any(item.startswith("RAWPASSWORD=") for item in spec)
    # The password reaches hug's Exareme verbatim, through its swarm secret.
    wait_for(
        lambda: any(
            f"RAWPASSWORD={passwords['hug']}\0" in environ and "NODE_NAME=hug\0" in environ
            for environ, _, _ in processes().values()
        ),
        timeout=90,
        what="hug's Exareme with its password",
    )
    portal_env = json.loads(
        sh(lab, 1, "docker inspect mip-federation-portal --format '{{json .Config.Env}}'")
    )
    assert all(f"{name}={value}" in portal_env for name, value in env.items())

    for index in (1, 2, 3):
        found = lab.run(index, f"find / -xdev -name {CANARY} 2>/dev/null; ls /tmp", check=False)
        assert CANARY not in found.stdout, f"canary created on host {index}"
    assert not list(Path("/tmp").glob(CANARY))


def test_wrong_pinned_host_key_is_refused_before_any_command(federation):
    lab = federation.lab
    config = federation.config(NAMES)
    config["nodes"][1]["hostKey"] = lab.host_key(3)  # hug's pin is bern's key
    result = federation.deploy(config)
    assert not result.ok
    errors = dict(result.errors)
    assert "join-hug" in errors and "host key mismatch" in errors["join-hug"]
    assert set(errors) == {"join-hug"}, "only the node with the wrong pin fails"
    assert swarm_state(lab, 2) == "inactive"
    assert sh(lab, 2, "ls -A /root/.mip-federation 2>/dev/null || true") == ""
    assert set(swarm_nodes(lab)) == {lab.host(1).name, lab.host(3).name}


def test_docker_provider_ssh_uses_the_same_pinned_keys(federation, tmp_path):
    lab = federation.lab
    config = federation.config(NAMES)
    key = tmp_path / "id"
    key.write_text(Path(lab.key_file).read_text())
    key.chmod(0o600)
    config["ssh"]["privateKeyFile"] = str(key)

    def provider_ssh(pin: str) -> subprocess.CompletedProcess[str]:
        config["nodes"][0]["hostKey"] = pin
        provider = evaluate(config, with_ldsm_passwords(config)).named("leader-docker").plain
        opts = json.loads(provider["sshOpts"])
        target = provider["host"].removeprefix("ssh://").rsplit(":", 1)[0]
        # What pulumi-docker runs: ssh [ssh_opts] -T -- user@host docker system dial-stdio
        command = [
            "ssh",
            *opts,
            "-T",
            "--",
            target,
            "docker version --format '{{.Server.Version}}'",
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=30)

    # The wrong pin first: a multiplexing master opened by the good one would be reused.
    bad = provider_ssh(lab.host_key(2))
    assert bad.returncode != 0
    assert "Host key verification failed" in bad.stderr or "HOST IDENTIFICATION" in bad.stderr
    good = provider_ssh(lab.host_key(1))
    assert good.returncode == 0, good.stderr


# --- where a running federation could show an LDSM password ------------------------------------


def processes() -> dict[int, tuple[str, str, str]]:
    """pid -> (environ, cmdline, cgroup) of every process on the machine: every lab host's
    processes (its dockerd's containers too) are visible from the root pid namespace."""
    found = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with suppress(OSError):
                found[int(entry.name)] = tuple(
                    Path(entry.path, part).read_bytes().decode(errors="replace")
                    for part in ("environ", "cmdline", "cgroup")
                )
    return found  # type: ignore[return-value]


def exareme_containers(lab, hosts: dict[str, int]) -> dict[str, set[str]]:
    """node -> the ids of its Exareme task's containers, on its own host."""
    found = {}
    for node, index in hosts.items():
        service = "exareme-master" if index == 1 else f"exareme-worker-{node}"
        out = sh(
            lab,
            index,
            f"docker ps -aq --no-trunc --filter label=com.docker.swarm.service.name={service}",
        )
        found[node] = set(out.split())
    return found


def assert_passwords_only_in_their_exareme(lab, passwords: dict[str, str], hosts) -> None:
    """No password in any service spec, container inspect or container log on any host, nor in
    any process's argv; in a process environment only inside that node's own Exareme task
    (its bootstrap and what it starts), where it must be, as RAWPASSWORD."""
    encoded = [base64.b64encode(p.encode()).decode() for p in passwords.values()]
    needles = list(passwords.values()) + encoded
    specs = sh(lab, 1, "docker service ls -q | xargs -r docker service inspect")
    assert "ldsm-password" in specs, "the services reference their secret"
    inspects, logs = {}, {}
    for index in sorted(set(hosts.values())):
        inspects[index] = sh(lab, index, "docker ps -aq | xargs -r docker inspect")
        logs[index] = lab.run(
            index, 'for c in $(docker ps -aq); do docker logs "$c" 2>&1; done', check=False
        ).stdout
    assert_nowhere(
        needles,
        service_specs=specs,
        **{f"container_inspect_host{i}": text for i, text in inspects.items()},
        **{f"container_logs_host{i}": text for i, text in logs.items()},
    )
    containers = exareme_containers(lab, hosts)
    carriers: dict[str, int] = dict.fromkeys(passwords, 0)
    for pid, (environ, cmdline, cgroup) in processes().items():
        assert_nowhere(needles, **{f"argv of pid {pid}": cmdline})
        for node, password in passwords.items():
            if password in environ or encoded[list(passwords).index(node)] in environ:
                assert any(cid in cgroup for cid in containers[node]), (
                    f"{node}'s password is in the environment of pid {pid} ({cmdline[:60]!r}), "
                    "outside its Exareme task"
                )
                assert f"RAWPASSWORD={password}\0" in environ
                carriers[node] += 1
    assert all(carriers.values()), f"each Exareme got its RAWPASSWORD: {carriers}"


def test_no_password_in_specs_inspects_logs_argv_or_other_processes(federation):
    lab = federation.lab
    passwords = {name: f"ldsm-secret-{name}-Xk3" for name in NAMES}
    config = federation.config(NAMES)
    result = federation.deploy(config, {"ldsmPasswords": passwords})
    assert result.ok, result.errors
    wait_for(lambda: is_working(lab, 1, NAMES), timeout=90, what="a working federation")
    hosts = {name: index for index, name in enumerate(NAMES, start=1)}
    assert_passwords_only_in_their_exareme(lab, passwords, hosts)
    encoded = [base64.b64encode(p.encode()).decode() for p in passwords.values()]
    assert_nowhere(
        list(passwords.values()) + encoded,
        state=federation.state_file.read_text(),
        oplog=federation.state_file.with_suffix(".ops.jsonl").read_text(),
    )
    assert sh(lab, 1, "docker secret ls --format '{{.Name}}' | wc -l") == str(len(NAMES))
