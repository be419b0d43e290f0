"""On the lab: swarm.autolock. The unlock key is a secret stack output; a manager whose dockerd
restarts is locked; the documented command (key on stdin, over ssh) unlocks it; autolock turns
off again."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import pytest
import yaml

from federation import doctor
from tests.e2e.conftest import Federation, swarm_nodes, swarm_state, wait_for
from tests.e2e.test_safety import argv_sampler
from tests.engine.state import load_state
from tests.program import unwrap

pytestmark = pytest.mark.lab

NAMES = ["chuv", "hug"]
# The Exareme image (and its lab stand-in) exits at start without its LDSM password.
LDSM = {"ldsmPasswords": {name: f"ldsm-pw-{name}" for name in NAMES}}


def doctor_rows(federation: Federation, swarm: dict[str, Any]) -> list[Any]:
    """The doctor's rows that are not OK."""
    document = federation.lab.stack_config(NAMES, encrypted=False)
    document["config"]["mip-federation:swarm"] = swarm
    path = federation.state_file.parent / "Pulumi.e2e.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    _, rows = doctor.report("e2e", path, None, 2.0)
    return [r for r in rows if r.status != "OK"]


def show_secret_output(federation: Federation, name: str) -> Any:
    """`pulumi stack output --show-secrets NAME`, from the engine double's state."""
    state = load_state(federation.state_file, federation.stack, "mip-federation")
    return unwrap(state.outputs[name])


def unlock_over_ssh(federation: Federation, index: int, key: str) -> subprocess.CompletedProcess:
    """docs/operations.md's command: pulumi stack output --show-secrets swarmUnlockKey |
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
    config = federation.config(NAMES)
    config["swarm"] = {"autolock": True}
    deployed = federation.deploy(config, LDSM)
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
    again = federation.deploy(config, LDSM)
    assert again.ok and {o["op"] for o in again.operations} == {"same"}, again.operations
    assert show_secret_output(federation, "swarmUnlockKey") == key

    # The manager's dockerd restarts: it is locked; a worker's restart is not.
    lab.restart_dockerd(1)
    assert swarm_state(lab, 1) == "locked"
    lab.restart_dockerd(2)
    assert swarm_state(lab, 2) != "locked"
    rows = doctor_rows(federation, {"autolock": True})
    print("doctor while locked:", [(r.check, r.subject, r.actual, r.fix) for r in rows])
    assert any(r.subject.startswith("chuv") and r.actual == "locked" for r in rows), rows

    # A deploy while locked fails on the manager, naming what to do.
    blocked = federation.deploy(
        dict(config, swarm={"autolock": True, "joinTokenRotation": "x"}), LDSM
    )
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
    clean = federation.deploy(config, LDSM)
    assert clean.ok and {o["op"] for o in clean.operations} == {"same"}, clean.operations
    deadline = time.monotonic() + 120
    while (rows := doctor_rows(federation, {"autolock": True})) and time.monotonic() < deadline:
        time.sleep(1)
    assert rows == [], rows

    # Autolock off: the command runs again, the output is gone, a restart no longer locks.
    config["swarm"] = {"autolock": False}
    off = federation.deploy(config, LDSM)
    assert off.ok, off.errors
    assert {o["name"] for o in off.operations if o["op"] != "same"} == {"swarm-autolock"}
    assert "swarmUnlockKey" not in off.outputs
    assert lab.run(1, f"docker info --format '{spec}'").stdout.strip() == "false"
    lab.restart_dockerd(1)
    assert swarm_state(lab, 1) == "active"

    # On again, then the key removed from the stack: the delete turns it off.
    config["swarm"] = {"autolock": True}
    assert federation.deploy(config, LDSM).ok
    assert lab.run(1, "docker swarm unlock-key -q").stdout.strip().startswith("SWMKEY-1-")
    del config["swarm"]
    removed = federation.deploy(config, LDSM)
    assert removed.ok and [o["name"] for o in removed.ops("delete")] == ["swarm-autolock"]
    lab.restart_dockerd(1)
    assert swarm_state(lab, 1) == "active"
