"""The control manager (swarm.controlManager) under mocks, and the engine double's model of a
docker provider whose host changes."""

from __future__ import annotations

import copy
import json
from typing import Any

from tests.engine.paths import diff_replaces
from tests.engine.providers import PulumiProviderHandler
from tests.engine.state import ResourceState

COMMAND = "command:remote:Command"
PROVIDER = "pulumi:providers:docker"


def three_managers(config: dict[str, Any]) -> dict[str, Any]:
    """chuv, hug, brescia managers; lille a worker."""
    config = copy.deepcopy(config)
    config["nodes"][1]["role"] = config["nodes"][2]["role"] = "manager"
    return config


def resources(run, config) -> dict[tuple[str, str], dict[str, Any]]:
    """Inputs by resource, as the engine diffs them: without the paths in ignoreChanges."""
    return {
        (r.typ, r.name): {k: v for k, v in r.plain.items() if k not in r.ignore_changes}
        for r in run(config).resources
    }


def test_by_default_pulumi_talks_to_the_first_manager(run, config):
    ev = run(three_managers(config))
    assert ev.named("leader-docker").plain["host"] == "ssh://mipadmin@192.0.2.10:22"
    for name in ("swarm-join-tokens", "node-chuv", "node-hug", "node-lille"):
        assert ev.named(name).plain["connection"]["host"] == "192.0.2.10", name


def test_joins_offer_every_manager_the_control_manager_first(run, config):
    config = three_managers(config)
    config["swarm"] = {"controlManager": "brescia"}
    join = run(config).named("join-lille").plain
    request = json.loads(join["stdin"])
    assert request["RemoteAddrs"] == ["203.0.113.31:2377", "192.0.2.10:2377", "198.51.100.21:2377"]
    # The script's list is in stack order: switching the control manager changes no join.
    assert (
        "MANAGER_ADDRS='192.0.2.10:2377 198.51.100.21:2377 203.0.113.31:2377'\n" in (join["create"])
    )


def test_switching_the_control_manager_moves_only_connections_and_the_swarm_provider(run, config):
    config = three_managers(config)
    config["swarm"] = {"autolock": True}
    before = resources(run, config)
    config["swarm"] = {"autolock": True, "controlManager": "hug"}
    after = resources(run, config)
    assert set(before) == set(after), "nothing added or removed"
    changed = {key for key in before if before[key] != after[key]}
    commands = {"swarm-join-tokens", "swarm-autolock"} | {
        f"node-{n}" for n in ("chuv", "hug", "brescia", "lille")
    }
    assert changed == {(COMMAND, name) for name in commands} | {(PROVIDER, "leader-docker")}
    for _, name in changed - {(PROVIDER, "leader-docker")}:
        old, new = before[(COMMAND, name)], after[(COMMAND, name)]
        assert old["connection"]["host"] == "192.0.2.10"
        assert new["connection"]["host"] == "198.51.100.21"
        moved = {k for k in old if old[k] != new[k]}
        if name.startswith("node-"):
            assert moved == {"connection"}, name
        else:  # their scripts name the node they run on (NODE=hug in messages)
            assert moved <= {"connection", "create", "update", "delete"}, name
            assert "triggers" not in moved, "a control change never rotates the tokens"
    provider = after[(PROVIDER, "leader-docker")]
    assert provider["host"] == "ssh://mipadmin@198.51.100.21:22"
    # The joins' stdin (RemoteAddrs, the control manager first) changed too, but it is in their
    # ignoreChanges: no join runs again.
    # swarm-init stays on the first manager, the portal's engine too; no join, network or
    # service changes (services keep their provider, whose id an update keeps).
    assert after[(COMMAND, "swarm-init")]["connection"]["host"] == "192.0.2.10"
    assert after[(PROVIDER, "portal-docker")]["host"] == "ssh://mipadmin@192.0.2.10:22"


def test_a_docker_provider_host_change_is_an_update_not_a_replacement():
    """What the real CLI does when `leader-docker`'s host changes, and the engine double with it.

    pulumi-terraform-bridge v3.136 pkg/tfbridge/provider.go, `configDiffer.DiffConfig`: the
    detailed diff of the old and new provider inputs becomes a replacement only for a key whose
    SchemaInfo sets `ForcesProviderReplace`; pulumi-docker (provider/resources.go, `Config`:
    `host`, `registry_auth`; provider/hybrid.go DiffConfig delegates to the bridge) sets none.
    So pulumi/pulumi pkg/resource/deploy/providers/registry.go `Diff` answers DiffSome without
    replace keys, and `Update` configures the provider under the same ID: the services keep their
    provider reference `leader-docker::ID`, step_generator.go `providerChanged` sees no change,
    and no service is replaced. (Even a *different* explicit provider resource would replace its
    resources only if that DiffConfig said so: step_generator.go providerChanged, since #18509.)
    The double: `PulumiProviderHandler` (no replace keys, update keeps the id)."""
    handler = PulumiProviderHandler(None)  # type: ignore[arg-type]
    old_inputs = {"host": "ssh://mipadmin@192.0.2.10:22", "sshOpts": '["-o", "A=1"]'}
    old = ResourceState(
        "urn:leader-docker", PROVIDER, "leader-docker", True, id="id-1", inputs=old_inputs
    )
    news = {"host": "ssh://mipadmin@198.51.100.21:22", "sshOpts": '["-o", "A=2"]'}
    diff = handler.diff(old, news, [])
    assert diff.changes and sorted(diff.diffs) == ["host", "sshOpts"]
    assert not diff_replaces(diff)
