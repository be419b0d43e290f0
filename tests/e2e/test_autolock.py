"""On the lab: swarm.autolock. The unlock key is a secret stack output; a manager whose dockerd
restarts is locked; the documented command (key on stdin, over ssh) unlocks it; autolock turns
off again."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.e2e.conftest import Federation, swarm_nodes, swarm_state, wait_for
from tests.e2e.test_safety import argv_sampler
from tests.engine.state import load_state
from tests.program import unwrap

pytestmark = pytest.mark.lab


def show_secret_output(federation: Federation, name: str) -> Any:
    """`pulumi stack output --show-secrets NAME`, from the engine double's state."""
    state = load_state(federation.state_file, federation.stack, "mip-federation")
    return unwrap(state.outputs[name])


def unlock_over_ssh(federation: Federation, index: int, key: str) -> subprocess.CompletedProcess:
    """The README's command: pulumi stack output --show-secrets swarmUnlockKey |
    ssh USER@HOST docker swarm unlock (the key on stdin, never in argv)."""
    lab = federation.lab
    command = [
        "ssh",
        "-i",
        str(lab.key_file),
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        f"root@{lab.host(index).ip}",
        "docker swarm unlock",
    ]
    return subprocess.run(command, input=key + "\n", capture_output=True, text=True, timeout=60)


def test_autolock_locks_a_restarted_manager_the_key_on_stdin_unlocks_it_and_it_turns_off(
    federation,
):
    lab = federation.lab
    config = federation.config(["chuv", "hug"])
    config["swarm"] = {"autolock": True}
    deployed = federation.deploy(config)
    assert deployed.ok, deployed.errors
    assert deployed.outputs["swarmUnlockKey"] != show_secret_output(federation, "swarmUnlockKey")
    key = show_secret_output(federation, "swarmUnlockKey")
    assert key.startswith("SWMKEY-1-")
    state_text = federation.state_file.read_text()
    assert key not in state_text, "the key is encrypted in the state"
    spec = "{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}"
    assert lab.run(1, f"docker info --format '{spec}'").stdout.strip() == "true"
    assert key == lab.run(1, "docker swarm unlock-key -q").stdout.strip()

    # Another up: all same, and the key is the same (turning autolock on again keeps it).
    again = federation.deploy(config)
    assert again.ok and {o["op"] for o in again.operations} == {"same"}, again.operations
    assert show_secret_output(federation, "swarmUnlockKey") == key

    # The manager's dockerd restarts: it is locked; a worker's restart is not.
    lab.restart_dockerd(1)
    assert swarm_state(lab, 1) == "locked"
    lab.restart_dockerd(2)
    assert swarm_state(lab, 2) != "locked"

    # A deploy while locked fails on the manager, naming what to do.
    blocked = federation.deploy(dict(config, swarm={"autolock": True, "joinTokenRotation": "x"}))
    assert not blocked.ok
    assert "unlock" in str(blocked.errors) or "locked" in str(blocked.errors), blocked.errors

    # A wrong key is refused; the documented command with the right key unlocks it, and the key
    # never shows in any process's argv.
    wrong = unlock_over_ssh(federation, 1, "SWMKEY-1-" + "A" * 43)
    assert wrong.returncode != 0 and swarm_state(lab, 1) == "locked"
    with argv_sampler() as argv:
        unlocked = unlock_over_ssh(federation, 1, key)
    assert unlocked.returncode == 0, unlocked.stderr
    assert not any(key in line for line in argv)
    assert swarm_state(lab, 1) == "active"
    wait_for(
        lambda: all(n["state"] == "ready" for n in swarm_nodes(lab).values()),
        what="every node ready after the unlock",
    )
    clean = federation.deploy(config)
    assert clean.ok and {o["op"] for o in clean.operations} == {"same"}, clean.operations

    # Autolock off: the command runs again, the output is gone, a restart no longer locks.
    config["swarm"] = {"autolock": False}
    off = federation.deploy(config)
    assert off.ok, off.errors
    assert {o["name"] for o in off.operations if o["op"] != "same"} == {"swarm-autolock"}
    assert "swarmUnlockKey" not in off.outputs
    assert lab.run(1, f"docker info --format '{spec}'").stdout.strip() == "false"
    lab.restart_dockerd(1)
    assert swarm_state(lab, 1) == "active"

    # On again, then the key removed from the stack: the delete turns it off.
    config["swarm"] = {"autolock": True}
    assert federation.deploy(config).ok
    assert lab.run(1, "docker swarm unlock-key -q").stdout.strip().startswith("SWMKEY-1-")
    del config["swarm"]
    removed = federation.deploy(config)
    assert removed.ok and [o["name"] for o in removed.ops("delete")] == ["swarm-autolock"]
    lab.restart_dockerd(1)
    assert swarm_state(lab, 1) == "active"
