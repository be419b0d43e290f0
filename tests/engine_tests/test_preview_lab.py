"""Previews, delete-before-replace with dependents, and refresh, against a real dockerd (and the
real program in the local lab).

Which steps a preview shows for Docker resources depends on the docker provider's Diff
(tests/engine/providers/docker_resources.py); the assertions are the real engine's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.engine import deploy, destroy, preview, refresh
from tests.engine.api import REPO_ROOT
from tests.engine.display import render_diff, render_json
from tests.engine_tests.labkit import IMAGE, PROGRAMS, Dockerd, Sshd, docker_config
from tests.lab.fixture import lab_fixture

pytestmark = pytest.mark.lab
PROGRAM = PROGRAMS / "preview"
PASSWORD = "pv-password-do-not-print"
IMAGE2 = "engine-test/busybox:2"


def _config(sshd: Sshd, **over: Any) -> tuple[dict[str, Any], list[str]]:
    config: dict[str, Any] = {
        **docker_config(sshd),
        "mip-federation:encrypted": False,
        "mip-federation:services": ["a", "b"],
        "mip-federation:password": PASSWORD,
    }
    for key, value in over.items():
        config[f"mip-federation:{key}"] = value
    return config, ["mip-federation:password"]


def _inspect(dockerd: Dockerd, kind: str, name: str) -> dict[str, Any]:
    return dict(json.loads(dockerd.cli(kind, "inspect", name))[0])


@pytest.fixture
def clean(dockerd: Dockerd) -> Dockerd:
    for name in ("pv-a", "pv-b", "pv-c"):
        dockerd.cli("service", "rm", name, check=False)
    for _ in range(30):  # the tasks of removed services leave the network first
        dockerd.cli("network", "rm", "pv-net", check=False)
        if "pv-net" not in dockerd.cli("network", "ls", "--format", "{{.Name}}"):
            break
        time.sleep(1)
    dockerd.cli("tag", IMAGE, IMAGE2)
    return dockerd


def test_preview_after_deploy_is_empty_and_an_image_bump_updates_services_only(
    clean: Dockerd, docker_sshd: Sshd, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    config, secrets = _config(docker_sshd)
    first = preview(PROGRAM, "test", config, secrets, state)
    assert first.ok, first.errors
    assert first.change_summary == {"create": 5}  # stack, provider, network, two services
    assert not state.exists(), "a preview saves nothing"
    assert "pv-net" not in clean.cli("network", "ls", "--format", "{{.Name}}")

    assert deploy(PROGRAM, "test", config, secrets, state).ok
    after = preview(PROGRAM, "test", config, secrets, state)
    assert after.ok, after.errors
    assert after.change_summary == {"same": 5}
    digest = json.loads(render_json(after.steps, after.change_summary))
    assert [s["op"] for s in digest["steps"]] == ["same"]  # only the root stack shows

    bumped, _ = _config(docker_sshd, image=IMAGE2)
    bump = preview(PROGRAM, "test", bumped, secrets, state)
    assert bump.ok, bump.errors
    assert bump.step_ops() == {
        "mip-federation-test": "same",
        "node": "same",
        "net": "same",
        "svc-a": "update",
        "svc-b": "update",
    }
    step = next(s for s in bump.steps if s["name"] == "svc-a")
    assert step["diffReasons"] == ["taskSpec"]
    assert step["detailedDiff"]["taskSpec.containerSpec.image"]["kind"] == "update"
    # The diff view renders the old OUTPUTS against the new inputs along the detailed-diff paths
    # (pulumi/pulumi pkg/engine/detailedDiff.go TranslateDetailedDiff: the bridge reports
    # inputDiff false), so the old side is the image Read stored (pinned to its digest when the
    # daemon resolved one), not the old input.
    saved = json.loads(state.read_text())
    stored = next(r for r in saved["resources"] if r["name"] == "svc-a")["outputs"]
    stored_image = stored["taskSpec"]["containerSpec"]["image"]
    text = render_diff(bump.steps, bump.change_summary, "test")
    image_lines = [line.strip() for line in text.splitlines() if "=>" in line and "image" in line]
    assert image_lines == [f'~ image: "{stored_image}" => "{IMAGE2}"'] * 2, text
    assert PASSWORD not in text and PASSWORD not in json.dumps(bump.steps)
    spec = _inspect(clean, "service", "pv-a")["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert spec["Image"].startswith(IMAGE), "the preview applied nothing"

    applied = deploy(PROGRAM, "test", bumped, secrets, state)
    assert applied.ok, applied.errors
    assert {o["name"]: o["op"] for o in applied.operations if o["op"] != "same"} == {
        "svc-a": "update",
        "svc-b": "update",
    }
    # The secret env var is secret in the state, its neighbours are not (annotateSecrets).
    saved = json.loads(state.read_text())
    svc = next(r for r in saved["resources"] if r["name"] == "svc-a")
    env = svc["outputs"]["taskSpec"]["containerSpec"]["env"]
    assert env["NODE_NAME"] == "a" and set(env["PASSWORD"]) == {"__secret__"}
    assert PASSWORD not in state.read_text()
    assert destroy("test", state).ok


def test_toggling_encryption_replaces_the_network_and_its_services_delete_first(
    clean: Dockerd, docker_sshd: Sshd, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    config, secrets = _config(docker_sshd)
    first = deploy(PROGRAM, "test", config, secrets, state)
    assert first.ok, first.errors
    old_service = _inspect(clean, "service", "pv-a")["ID"]

    encrypted, _ = _config(docker_sshd, encrypted=True)
    plan = preview(PROGRAM, "test", encrypted, secrets, state)
    assert plan.ok, plan.errors
    assert plan.step_ops() == {
        "mip-federation-test": "same",
        "node": "same",
        "net": "replace",
        "svc-a": "replace",
        "svc-b": "replace",
    }
    ops = [(s["op"], s["name"]) for s in plan.steps if not s["logical"]]
    assert ops[:3] == [
        ("delete-replaced", "svc-b"),
        ("delete-replaced", "svc-a"),
        ("delete-replaced", "net"),
    ] or ops[:3] == [
        ("delete-replaced", "svc-a"),
        ("delete-replaced", "svc-b"),
        ("delete-replaced", "net"),
    ]

    result = deploy(PROGRAM, "test", encrypted, secrets, state)
    assert result.ok, result.errors
    order = [(o["op"], o["name"]) for o in result.operations if o["op"] != "same"]
    # The services go first, then the network's replace (its delete, then its create), then
    # the services are created on the new network.
    net_replace = order.index(("replace", "net"))
    assert set(order[:net_replace]) == {("delete", "svc-a"), ("delete", "svc-b")}
    assert set(order[net_replace + 1 :]) == {("replace", "svc-a"), ("replace", "svc-b")}
    net = _inspect(clean, "network", "pv-net")
    assert net["Options"].get("encrypted") == "true"
    service = _inspect(clean, "service", "pv-a")
    assert service["ID"] != old_service
    assert service["Spec"]["TaskTemplate"]["Networks"][0]["Target"] == net["Id"]
    again = preview(PROGRAM, "test", encrypted, secrets, state)
    assert again.change_summary == {"same": 5}
    assert destroy("test", state).ok


def test_refresh_drops_what_is_gone(clean: Dockerd, docker_sshd: Sshd, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    config, secrets = _config(docker_sshd)
    assert deploy(PROGRAM, "test", config, secrets, state).ok
    clean.cli("service", "rm", "pv-b")
    refreshed = refresh("test", state)
    assert refreshed.ok, refreshed.errors
    names = {r["name"] for r in json.loads(state.read_text())["resources"]}
    assert "svc-b" not in names and "svc-a" in names
    plan = preview(PROGRAM, "test", config, secrets, state)
    assert plan.step_ops("create") == {"svc-b": "create"}
    again = deploy(PROGRAM, "test", config, secrets, state, refresh=True)
    assert again.ok, again.errors
    assert {o["name"] for o in again.ops("create")} == {"svc-b"}
    assert destroy("test", state).ok


# ---------------------------------------------------------------- the real program in the lab

preview_lab = lab_fixture(hosts=3, name="preview_lab")
NAMES = ["chuv", "hug", "bern"]


def _stack(lab: Any, names: list[str], tmp: Path) -> list[str]:
    """The stack file's path, and `--secrets` with an LDSM password per node (`up` needs one)."""
    document = lab.stack_config(names, managers=1, encrypted=False)
    stack_file = tmp / "Pulumi.pv.yaml"
    stack_file.write_text(yaml.safe_dump(document))
    secrets_file = tmp / f"secrets-{len(names)}.yaml"
    passwords = {name: f"ldsm-pw-{name}" for name in names}
    secrets_file.write_text(yaml.safe_dump({"mip-federation:ldsmPasswords": passwords}))
    return [str(stack_file), "--secrets", str(secrets_file)]


def _cli(*args: str, env: dict[str, str] | None = None, wrap: list[str] | None = None) -> Any:
    command = [*(wrap or []), sys.executable, "-m", "tests.engine", *args]
    return subprocess.run(
        command,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_adding_a_hospital_previews_only_its_resources(preview_lab: Any, tmp_path: Path) -> None:
    preview_lab.reset()
    state = tmp_path / "state.json"
    two = _stack(preview_lab, NAMES[:2], tmp_path)
    common = ["--state", str(state), "--program-dir", str(REPO_ROOT)]
    up = _cli("deploy", *two, *common)
    assert up.returncode == 0, up.stderr[-3000:]
    empty = _cli("preview", *two, "--json", *common)
    assert empty.returncode == 0, empty.stderr[-3000:]
    digest = json.loads(empty.stdout)
    assert set(digest["changeSummary"]) == {"same"}, [
        (s["urn"], s.get("diffReasons"), s["detailedDiff"]) for s in digest["steps"][1:]
    ]

    three = _stack(preview_lab, NAMES, tmp_path)
    shown = _cli("preview", *three, "--json", *common)
    assert shown.returncode == 0, shown.stderr[-3000:]
    digest = json.loads(shown.stdout)
    changed = {s["urn"].rsplit("::", 1)[1]: s["op"] for s in digest["steps"]}
    changed.pop("mip-federation-pv")
    assert changed == {
        "join-bern": "create",
        "node-bern": "create",
        "exareme-worker-bern": "create",
        "ldsm-bern": "create",
        "probe-bern": "create",  # the new node's data-plane proof (federation/probe.py)
    }
    diff = _cli("preview", *three, "--diff", *common)
    assert diff.returncode == 0, diff.stderr[-3000:]
    assert "+ command:remote:Command: (create)" in diff.stdout
    assert "EXA_WORKERS_WAIT" not in diff.stdout, "the master is not updated by an add"
    assert "Resources:" in diff.stdout


def test_destroy_from_a_machine_that_never_ran_up(preview_lab: Any, tmp_path: Path) -> None:
    """`pulumi destroy` works from any machine: run the worker with an empty /root (OpenSSH
    takes `~` from the passwd entry, not $HOME), as on a machine that never ran `up`."""
    preview_lab.reset()
    state = tmp_path / "state.json"
    two = _stack(preview_lab, NAMES[:2], tmp_path)
    common = ["--state", str(state), "--program-dir", str(REPO_ROOT)]
    up = _cli("deploy", *two, *common)
    assert up.returncode == 0, up.stderr[-3000:]
    # Keep the interpreter (under /root/.pyenv here) reachable: bind it back over the tmpfs.
    keep = tmp_path / "pyenv"
    keep.mkdir()
    script = (
        'if [ -d /root/.pyenv ]; then mount --bind /root/.pyenv "$0"; fi; '
        "mount -t tmpfs tmpfs /root && "
        'if [ -n "$(ls -A "$0")" ]; then mkdir /root/.pyenv && mount --bind "$0" /root/.pyenv; fi; '
        'test ! -e /root/.ssh && exec "$@"'
    )
    fresh = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, str(keep)]
    gone = _cli("destroy", *two, *common, wrap=fresh)
    assert gone.returncode == 0, gone.stderr[-3000:]
    assert json.loads(state.read_text())["resources"] == []
    services = preview_lab.run(1, "docker service ls -q", check=False).stdout.strip()
    assert services == ""
