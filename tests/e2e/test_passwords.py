"""On the lab: LDSM passwords as swarm secrets. Every Exareme works from its secret, and changing
one hospital's password replaces its secret, updates its service only and leaves no old secret
behind."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import Federation, sh, wait_for
from tests.e2e.test_safety import assert_passwords_only_in_their_exareme
from tests.engine import preview
from tests.lab.exareme_check import is_working
from tests.program import ROOT

pytestmark = pytest.mark.lab

NAMES = ["chuv", "hug", "bern"]
HOSTS = {name: index for index, name in enumerate(NAMES, start=1)}


def planned(federation: Federation, config: dict[str, Any], secrets: dict[str, Any]):
    engine_config = {
        f"mip-federation:{k}": v if isinstance(v, str) else json.dumps(v)
        for k, v in {**config, **secrets}.items()
    }
    result = preview(
        ROOT,
        federation.stack,
        engine_config,
        [f"mip-federation:{k}" for k in secrets],
        state_file=federation.state_file,
    )
    assert result.ok, result.errors
    return result.step_ops()


def secrets_on_the_swarm(federation: Federation) -> dict[str, str]:
    """name -> id of every swarm secret."""
    out = sh(federation.lab, 1, "docker secret ls --format '{{.Name}} {{.ID}}'")
    return dict(line.split() for line in out.splitlines())


def service_versions(federation: Federation) -> dict[str, str]:
    out = sh(
        federation.lab,
        1,
        "docker service ls -q | xargs docker service inspect "
        "--format '{{.Spec.Name}} {{.Version.Index}}'",
    )
    return dict(line.split() for line in out.splitlines())


def test_rotating_one_password_updates_only_that_hospitals_service(federation):
    lab = federation.lab
    config = federation.config(NAMES)
    passwords = {name: f"first-{name}-pw" for name in NAMES}
    deployed = federation.deploy(config, {"ldsmPasswords": passwords})
    assert deployed.ok, deployed.errors
    wait_for(lambda: is_working(lab, 1, NAMES), timeout=90, what="a working federation")
    before = secrets_on_the_swarm(federation)
    assert sorted(name.rsplit("-", 1)[0] for name in before) == sorted(f"ldsm-{n}" for n in NAMES)
    versions = service_versions(federation)

    rotated_passwords = {**passwords, "hug": "second-hug-pw"}
    secrets = {"ldsmPasswords": rotated_passwords}
    plan = planned(federation, config, secrets)
    assert {name: op for name, op in plan.items() if op != "same"} == {
        "ldsm-hug": "replace",
        "exareme-worker-hug": "update",
    }

    rotated = federation.deploy(config, secrets)
    assert rotated.ok, rotated.errors
    changed = {(o["name"], o["op"]) for o in rotated.operations if o["op"] != "same"}
    assert {name for name, _ in changed} == {"ldsm-hug", "exareme-worker-hug"}, changed
    after = secrets_on_the_swarm(federation)
    old_hug = next(name for name in before if name.startswith("ldsm-hug-"))
    new_hug = next(name for name in after if name.startswith("ldsm-hug-"))
    assert new_hug != old_hug, "a new secret, under a new name"
    assert set(after) == set(before) - {old_hug} | {new_hug}, "the old secret is removed"
    spec = sh(
        lab,
        1,
        "docker service inspect exareme-worker-hug --format "
        "'{{json .Spec.TaskTemplate.ContainerSpec.Secrets}}'",
    )
    assert [ref["SecretID"] for ref in json.loads(spec)] == [after[new_hug]]
    now = service_versions(federation)
    assert {name for name in now if now[name] != versions[name]} == {"exareme-worker-hug"}

    wait_for(lambda: is_working(lab, 1, NAMES), timeout=90, what="working after the rotation")
    wait_for(
        lambda: _assert_quietly(lab, rotated_passwords),
        timeout=60,
        what="hug's new task running with its new password",
    )


def _assert_quietly(lab, passwords: dict[str, str]) -> bool:
    try:
        assert_passwords_only_in_their_exareme(lab, passwords, HOSTS)
    except AssertionError:
        return False
    return True
