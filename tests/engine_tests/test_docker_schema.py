"""The docker provider model (tests/engine/providers/docker_schema.py, docker_read.py) against
canned inspect JSON captured from the lab's dockerd 20.10 (data/docker_inspect/)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tests.engine.props import UNKNOWN
from tests.engine.providers import docker_create, docker_image, docker_read, tf_schema
from tests.engine.providers.bridge import BridgeDiff, bridge_diff
from tests.engine.providers.docker_schema import CONTAINER, NETWORK, SERVICE
from tests.engine.providers.tf_schema import to_pulumi, to_tf

DATA = Path(__file__).parent / "data" / "docker_inspect"


def canned(name: str) -> dict[str, Any]:
    return dict(json.loads((DATA / f"{name}.json").read_text()))


def network_inputs(options: dict[str, str] | None) -> dict[str, Any]:
    """What federation/network.py registers (checked: ipamDriver default added)."""
    inputs: dict[str, Any] = {
        "name": "cap-net-old",
        "driver": "overlay",
        "attachable": True,
        "ipamConfigs": [
            {"subnet": "10.20.30.0/24", "ipRange": "10.20.30.0/24", "gateway": "10.20.30.254"}
        ],
        "ipamDriver": "default",
    }
    if options is not None:
        inputs["options"] = options
    return inputs


def stored(flat: dict[str, Any], config: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    return to_pulumi({**tf_schema.apply_defaults(config, schema), **flat}, schema)


def network_diff(options: dict[str, str] | None, inspect: str) -> BridgeDiff:
    news = network_inputs(options)
    flat = tf_schema.with_empty_collections(docker_read.flatten_network(canned(inspect)), NETWORK)
    state = stored(flat, to_tf(news, NETWORK), NETWORK)
    return bridge_diff(NETWORK, to_tf(state, NETWORK), to_tf(news, NETWORK))


def test_network_encrypted_empty_is_replaced_on_next_up() -> None:
    """terraform-provider-docker resource_docker_network.go (options Optional+Computed+
    ForceNew) and resource_docker_network_funcs.go resourceDockerNetworkReadRefreshFunc (stores
    the daemon's whole Options map, vxlanid_list included); terraform-plugin-sdk
    helper/schema/schema.go diffMap; pulumi-terraform-bridge v3.136.0 pkg/tfbridge/
    detailed_diff.go makeMapDiff: one entry for the key that goes, none for the map itself
    (makeDetailedDiffV2 has no collection-level entries)."""
    result = network_diff({"encrypted": ""}, "network_overlay_encrypted_empty")
    assert result.changes
    assert result.replaces == ["options"]
    assert result.detailed == {
        'options["com.docker.network.driver.overlay.vxlanid_list"]': "delete-replace",
    }


def test_network_with_vni_in_options_is_same() -> None:
    """resource_docker_network_funcs.go resourceDockerNetworkReadRefreshFunc: Options read back
    exactly as sent when the program sends encrypted=true and the vxlanid_list."""
    info = canned("network_overlay_encrypted_true_vni")
    options = dict(info["Options"])
    news = network_inputs(options) | {"name": info["Name"]}
    news["ipamConfigs"] = [
        {"subnet": "10.20.31.0/24", "ipRange": "10.20.31.0/24", "gateway": "10.20.31.254"}
    ]
    state = stored(docker_read.flatten_network(info), to_tf(news, NETWORK), NETWORK)
    result = bridge_diff(NETWORK, to_tf(state, NETWORK), to_tf(news, NETWORK))
    assert not result.changes, result.attributes


def test_network_without_options_keeps_computed_options() -> None:
    """terraform-plugin-sdk helper/schema/schema.go diffMap: an Optional+Computed map
    absent from the config keeps the state (`n == nil && schema.Computed`)."""
    assert not network_diff(None, "network_overlay_encrypted_empty").changes


def test_network_subnet_change_replaces_at_set_index() -> None:
    """resource_docker_network.go ipam_config (TypeSet, ForceNew); schema.go diffSet;
    pulumi-terraform-bridge pkg/tfbridge/diff.go makePropertyDiff (kinds by path)."""
    info = canned("network_overlay_encrypted_empty")
    news = network_inputs(dict(info["Options"]))
    state = stored(docker_read.flatten_network(info), to_tf(news, NETWORK), NETWORK)
    news["ipamConfigs"] = [
        {"subnet": "10.20.40.0/24", "ipRange": "10.20.40.0/24", "gateway": "10.20.40.254"}
    ]
    result = bridge_diff(NETWORK, to_tf(state, NETWORK), to_tf(news, NETWORK))
    assert result.replaces == ["ipamConfigs"]
    assert result.detailed["ipamConfigs[0].subnet"] == "update-replace"


# ---------------------------------------------------------------------- services


def master_inputs(**restart: Any) -> dict[str, Any]:
    """federation/exareme.py's service inputs for the captured spec."""
    return {
        "name": "cap-master",
        "taskSpec": {
            "containerSpec": {
                "image": "hbpmip/exareme:v5",
                "env": {"CONSULURL": "exareme-keystore:8500", "MODE": "global", "RAWPASSWORD": ""},
            },
            "placement": {"constraints": ["node.role == manager", "node.labels.name == chuv"]},
            "restartPolicy": {
                "condition": "on-failure",
                "delay": "5s",
                "maxAttempts": 3,
                "window": "120s",
                **restart,
            },
            "networksAdvanceds": [{"id": "nhalwr853bowczkzbbs3iin3f", "aliases": ["cap-master"]}],
        },
        "endpointSpec": {
            "mode": "dnsrr",
            "ports": [
                {
                    "targetPort": 9090,
                    "publishedPort": 9090,
                    "publishMode": "host",
                    "protocol": "tcp",
                }
            ],
        },
    }


def service_state(info: dict[str, Any] | None = None) -> dict[str, Any]:
    news = master_inputs()
    flat = docker_read.flatten_service(info or canned("service_created_tf_spec"))
    return stored(flat, to_tf(news, SERVICE), SERVICE)


def service_diff(
    news: dict[str, Any], info: dict[str, Any] | None = None, ignore: list[str] | None = None
) -> BridgeDiff:
    return bridge_diff(SERVICE, to_tf(service_state(info), SERVICE), to_tf(news, SERVICE), ignore)


def test_short_dur() -> None:
    """terraform-provider-docker resource_docker_service_structures.go shortDur (over
    Go's time.Duration.String)."""
    cases = {
        0: "0s",
        5_000_000_000: "5s",
        120_000_000_000: "2m",
        90_000_000_000: "1m30s",
        3_600_000_000_000: "1h",
        3_660_000_000_000: "1h1m",
        1_500_000_000: "1.5s",
        1_500_000: "1.5ms",
        7: "7ns",
    }
    assert {ns: docker_read.short_dur(ns) for ns in cases} == cases


def test_restart_window_120s_reads_back_2m_and_is_an_update() -> None:
    """resource_docker_service_structures.go flattenTaskRestartPolicy (shortDur of the daemon's
    nanoseconds); schema.go diffString: "2m" in state vs "120s" in the config differ, not
    ForceNew -> update."""
    state = service_state()
    assert state["taskSpec"]["restartPolicy"] == {
        "condition": "on-failure",
        "delay": "5s",
        "maxAttempts": 3,
        "window": "2m",
    }
    result = service_diff(master_inputs())
    assert result.changes and result.replaces == []
    assert result.detailed == {"taskSpec.restartPolicy.window": "update"}


def test_restart_window_2m_is_same() -> None:
    """resource_docker_service_structures.go flattenTaskRestartPolicy + schema.go diffString:
    the program sending "2m" matches what Read stored; every other field the program sets, and
    the computed blocks Read fills (resources, healthcheck, dns_config, mode, runtime, init,
    stop_grace_period, isolation default), give no diff."""
    result = service_diff(master_inputs(window="2m"))
    assert not result.changes, result.attributes


def test_service_network_alias_change_replaces() -> None:
    """resource_docker_service.go networks_advanced (aliases ForceNew) and schema.go diffSet."""
    news = master_inputs(window="2m")
    news["taskSpec"]["networksAdvanceds"][0]["aliases"] = ["other"]
    result = service_diff(news)
    assert result.replaces == ["taskSpec"]
    assert any(
        k.startswith("taskSpec.networksAdvanceds[0]") and v.endswith("replace")
        for k, v in result.detailed.items()
    )


def test_service_image_change_updates_in_place() -> None:
    """resource_docker_service.go container_spec.image (Required, not ForceNew)."""
    news = master_inputs(window="2m")
    news["taskSpec"]["containerSpec"]["image"] = "hbpmip/exareme:v6"
    result = service_diff(news)
    assert result.replaces == [] and result.detailed == {"taskSpec.containerSpec.image": "update"}


def test_service_name_force_new_but_replicas_update() -> None:
    """resource_docker_service.go: name is ForceNew; mode is ForceNew but its nested
    replicated.replicas is not, and schema.go diffList only passes ForceNew to primitive
    elements, so scaling is an in-place update (mode.# does not change)."""
    news = master_inputs(window="2m") | {"name": "renamed"}
    assert service_diff(news).replaces == ["name"]
    news = master_inputs(window="2m") | {"mode": {"replicated": {"replicas": 2}}}
    result = service_diff(news)
    assert result.replaces == [] and result.detailed == {"mode.replicated.replicas": "update"}


def test_query_registry_pins_image_and_platforms() -> None:
    """docker/docker client/service_create.go imageDigestAndPlatforms /
    imageWithDigestString / imageWithTagString: name:tag@digest, arch "arm" cleared, a failed
    call keeps the image."""
    answer = {
        "Descriptor": {"Digest": "sha256:" + "a" * 64},
        "Platforms": [
            {"architecture": "amd64", "os": "linux"},
            {"architecture": "arm", "os": "linux"},
        ],
    }
    pinned, platforms = docker_image.query_registry(answer, "hbpmip/exareme:v5")
    assert pinned == "hbpmip/exareme:v5@sha256:" + "a" * 64
    assert platforms == [
        {"Architecture": "amd64", "OS": "linux"},
        {"Architecture": "", "OS": "linux"},
    ]
    assert docker_image.query_registry(None, "hbpmip/exareme:v5") == ("hbpmip/exareme:v5", None)
    assert docker_image.image_with_tag("busybox") == "busybox:latest"
    assert docker_image.image_with_tag("docker.io/library/busybox:1") == "busybox:1"
    digest = "x@sha256:" + "b" * 64
    assert docker_image.image_with_digest(digest, "sha256:" + "c" * 64) == digest
    assert canned("distribution_no_registry")["status"] == 500


def test_pinned_image_and_platforms_diff_and_ignore_changes() -> None:
    """resource_docker_service.go placement.platforms (TypeSet, not Computed) and image; Read
    stores what QueryRegistry pinned, so the next diff shows them; pulumi-terraform-bridge
    pkg/tfshim/sdk-v2/instance_diff.go processIgnoreChanges drops ignored paths. The bridge
    v3.136.0 (pkg/tfshim/sdk-v2/provider2.go v2Provider.Diff always sets a
    DiffEqualDecisionOverride, so provider.go Diff takes makeDetailedDiffV2) compares the prior
    state with the planned one: the planned set is empty, MakeTerraformOutput makes it a nil
    list (not isPresent), and makeShortCircuitDiff gives one `platforms: delete`, with no
    entries for its elements' fields and none for the collection's count."""
    info = copy.deepcopy(canned("service_created_tf_spec"))
    template = info["Spec"]["TaskTemplate"]
    template["ContainerSpec"]["Image"] = "hbpmip/exareme:v5@sha256:" + "a" * 64
    template["Placement"]["Platforms"] = [{"Architecture": "amd64", "OS": "linux"}]
    result = service_diff(master_inputs(window="2m"), info)
    assert result.detailed == {
        "taskSpec.containerSpec.image": "update",
        "taskSpec.placement.platforms": "delete",
    }
    ignored = ["taskSpec.placement.platforms", "taskSpec.containerSpec.image"]
    assert not service_diff(master_inputs(window="2m"), info, ignored).changes


def test_ignore_changes_on_one_env_key_drops_only_that_key() -> None:
    """pulumi-terraform-bridge pkg/tfbridge/diff.go doIgnoreChanges: the visitor matches the
    Pulumi path `taskSpec.containerSpec.env.KEY` (MaxItems=1 blocks add no index, a map's keys
    stay raw) to the TF key `task_spec.0.container_spec.0.env.KEY`, and
    pkg/tfshim/sdk-v2/instance_diff.go processIgnoreChanges drops it; the map's other keys
    still diff."""
    info = copy.deepcopy(canned("service_created_tf_spec"))
    env = info["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"]
    info["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"] = [*env, "EXA_WORKERS_WAIT=3"]
    news = master_inputs(window="2m")
    news["taskSpec"]["containerSpec"]["env"]["EXA_WORKERS_WAIT"] = "4"
    ignored = ["taskSpec.containerSpec.env.EXA_WORKERS_WAIT"]
    assert service_diff(news, info).detailed == {
        "taskSpec.containerSpec.env.EXA_WORKERS_WAIT": "update"
    }
    assert not service_diff(news, info, ignored).changes
    news["taskSpec"]["containerSpec"]["env"]["MODE"] = "local"
    assert service_diff(news, info, ignored).detailed == {
        "taskSpec.containerSpec.env.MODE": "update"
    }


def test_keystore_service_with_args_is_same() -> None:
    """flattenContainerSpec args/image, flattenServiceEndpoint with no ports (dnsrr)."""
    info = canned("service_keystore_tf_spec")
    news = {
        "name": "cap-keystore",
        "taskSpec": {
            "containerSpec": {"image": "hashicorp/consul:1.15.4", "args": ["agent", "-server"]},
            "placement": {"constraints": ["node.role == manager", "node.labels.name == chuv"]},
            "restartPolicy": {
                "condition": "on-failure",
                "delay": "5s",
                "maxAttempts": 3,
                "window": "2m",
            },
            "networksAdvanceds": [{"id": "nhalwr853bowczkzbbs3iin3f", "aliases": ["cap-keystore"]}],
        },
        "endpointSpec": {"mode": "dnsrr"},
    }
    state = stored(docker_read.flatten_service(info), to_tf(news, SERVICE), SERVICE)
    result = bridge_diff(SERVICE, to_tf(state, SERVICE), to_tf(news, SERVICE))
    assert not result.changes, result.attributes


def test_service_spec_sends_what_the_provider_sends() -> None:
    """resource_docker_service_structures.go createServiceSpec/createContainerSpec: zero-valued
    blocks are sent (StopGracePeriod 0, Healthcheck {}, DNSConfig {}, Init false, Isolation
    default, Resources {}) -- the spec the lab capture was created from."""
    config = tf_schema.apply_defaults(to_tf(master_inputs(), SERVICE), SERVICE)
    spec = docker_create.service_spec(config)
    captured = canned("service_created_tf_spec")["Spec"]
    cs = spec["TaskTemplate"]["ContainerSpec"]
    assert cs["StopGracePeriod"] == 0 and cs["Healthcheck"] == {} and cs["DNSConfig"] == {}
    assert cs["Init"] is False and cs["Isolation"] == "default"
    assert spec["TaskTemplate"]["RestartPolicy"] == captured["TaskTemplate"]["RestartPolicy"]
    assert spec["EndpointSpec"] == captured["EndpointSpec"]
    assert spec["Mode"] == {}


def test_service_spec_sends_empty_resources_placement_and_restart_policy() -> None:
    """resource_docker_service_structures.go createTaskSpec: createResources, createPlacement and
    createServiceRestartPolicy return non-nil pointers even when the config has no such block,
    and Go's omitempty sends a non-nil pointer to an empty struct as {}. The daemon then keeps
    them, Read stores one (empty) element for these Optional+Computed blocks, and a second
    deploy is same; without them SDK v2's diffList records a computed count (`.#`) diff."""
    inputs = {
        "name": "bare",
        "taskSpec": {"containerSpec": {"image": "busybox:1"}},
    }
    config = tf_schema.apply_defaults(to_tf(inputs, SERVICE), SERVICE)
    template = docker_create.service_spec(config)["TaskTemplate"]
    assert template["Resources"] == {}
    assert template["Placement"] == {}
    assert template["RestartPolicy"] == {}


# ---------------------------------------------------------------------- containers


def portal_inputs() -> dict[str, Any]:
    return {
        "name": "cap-portal",
        "image": "hbpmip/portal-backend:2.5.4",
        "envs": ["EXAREME_URL=http://10.231.20.11:9090/mining/query"],
        "ports": [{"internal": 8080, "external": 8080}],
        "restart": "unless-stopped",
    }


def container_state(info: dict[str, Any]) -> dict[str, Any]:
    config = tf_schema.apply_defaults(to_tf(portal_inputs(), CONTAINER), CONTAINER)
    flat = tf_schema.with_empty_collections(docker_read.flatten_container(info, config), CONTAINER)
    return to_pulumi(flat, CONTAINER)


def test_container_portal_is_same() -> None:
    """resource_docker_container_funcs.go resourceDockerContainerRead (ports from the
    bindings, env not read back, hostname/log_driver/shm_size computed) + schema defaults
    (ports.ip 0.0.0.0, protocol tcp, network_mode bridge)."""
    state = container_state(canned("container_portal"))
    assert state["ports"] == [
        {"internal": 8080, "external": 8080, "ip": "0.0.0.0", "protocol": "tcp"}  # noqa: S104
    ]
    result = bridge_diff(CONTAINER, to_tf(state, CONTAINER), to_tf(portal_inputs(), CONTAINER))
    assert not result.changes, result.attributes


def test_container_ipv6_binding_replaces() -> None:
    """resourceDockerContainerRead/flattenContainerPorts keep one entry per binding; a second
    (IPv6) binding changes ports.# and suppressIfPortsDidNotChangeForMigrationV0ToV1 does not
    suppress a count change: ForceNew -> replace (captured binding, second one added)."""
    info = copy.deepcopy(canned("container_portal"))
    info["NetworkSettings"]["Ports"]["8080/tcp"].append({"HostIp": "::", "HostPort": "8080"})
    state = container_state(info)
    result = bridge_diff(CONTAINER, to_tf(state, CONTAINER), to_tf(portal_inputs(), CONTAINER))
    assert result.replaces == ["ports"]


def test_container_env_change_replaces() -> None:
    """resource_docker_container.go env (TypeSet, ForceNew): a new EXAREME_URL replaces."""
    state = container_state(canned("container_portal"))
    news = portal_inputs() | {"envs": ["EXAREME_URL=http://other:9090/mining/query"]}
    result = bridge_diff(CONTAINER, to_tf(state, CONTAINER), to_tf(news, CONTAINER))
    assert result.replaces == ["envs"]


def test_container_stopped_reads_must_run_false_and_updates() -> None:
    """resourceDockerContainerRead: a stopped container with must_run sets must_run=false in
    state, which the next diff shows as an in-place update (not ForceNew)."""
    info = copy.deepcopy(canned("container_portal"))
    info["State"]["Running"] = False
    state = container_state(info)
    assert state["mustRun"] is False
    result = bridge_diff(
        CONTAINER, to_tf(state, CONTAINER), to_tf(portal_inputs() | {"mustRun": True}, CONTAINER)
    )
    assert result.detailed == {"mustRun": "update"} and result.replaces == []


def test_captured_errors() -> None:
    """resource_docker_service_funcs.go deleteService wraps the daemon's answer to a second
    remove (404 `service ... not found`); container delete ignores `No such container`."""
    assert "not found" in canned("service_remove_missing")["body"]
    assert "No such container" in canned("container_remove_missing")["body"]


def test_unknown_task_spec_is_an_update_of_the_whole_block() -> None:
    """helper/schema/schema.go (SDK v2) diffList: a computed list records only `task_spec.#` as
    NewComputed with RequiresNew = the list's own ForceNew (false for task_spec), and the bridge
    reports it as an update of `taskSpec` (pkg/tfbridge/provider.go Diff, makeDetailedDiff).
    So the engine's dependent-replacement check (taskSpec unknown because the network it names
    is replaced) finds no replacement unless the resource's replaceOnChanges covers it."""
    state = {
        "name": "svc",
        "taskSpec": {
            "containerSpec": {"image": "x:1"},
            "networksAdvanceds": [{"id": "net1", "driverOpts": []}],
        },
        "endpointSpec": {"mode": "dnsrr"},
    }
    news = {"name": "svc", "taskSpec": UNKNOWN, "endpointSpec": {"mode": "dnsrr"}}
    result = bridge_diff(SERVICE, to_tf(state, SERVICE), to_tf(news, SERVICE))
    assert result.changes
    assert result.detailed == {"taskSpec": "update"}
    assert result.replaces == []


def test_query_registry_reads_the_lower_case_oci_descriptor() -> None:
    """moby client/service_create.go imageDigestAndPlatforms decodes /distribution's answer with
    encoding/json, whose key matching is case-insensitive: the daemon's lower-case OCI
    descriptor ("digest") pins the image, and each platform is taken (arch "arm" cleared)."""
    digest = "sha256:" + "ab" * 32
    answer = {
        "Descriptor": {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest,
            "size": 1,
        },
        "Platforms": [
            {"architecture": "amd64", "os": "linux"},
            {"architecture": "arm", "os": "linux"},
        ],
    }
    pinned, platforms = docker_image.query_registry(answer, "hbpmip/exareme:v5")
    assert pinned == f"hbpmip/exareme:v5@{digest}"
    assert platforms == [
        {"Architecture": "amd64", "OS": "linux"},
        {"Architecture": "", "OS": "linux"},
    ]


class _AllocatingDaemon:
    """A manager whose allocator fills the network in 1 s after its create, as swarmkit's does
    asynchronously: inspected earlier, the network has no driver, IPAM or options."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.created_at = 0.0

    def _url(self, path: str) -> str:
        return path

    def _post_json(self, url: str, data: Any) -> dict[str, Any]:
        self.created_at = self.clock[0]
        return {"Id": "net1"}

    def _result(self, response: dict[str, Any], json: bool) -> dict[str, Any]:
        return response

    def inspect_network(self, network_id: str) -> dict[str, Any]:
        allocated = self.clock[0] - self.created_at >= 1.0
        return {
            "Name": "mip-federation",
            "Id": network_id,
            "Scope": "swarm",
            "Driver": "overlay" if allocated else "",
            "Attachable": True,
            "IPAM": {
                "Driver": "default" if allocated else "",
                "Config": [{"Subnet": "10.20.30.0/24", "Gateway": "10.20.30.254"}]
                if allocated
                else [],
            },
            "Options": {"encrypted": "true"} if allocated else {},
        }


def test_network_read_waits_before_its_first_inspect(monkeypatch: Any) -> None:
    # kreuzwerker/terraform-provider-docker resource_docker_network_funcs.go
    # resourceDockerNetworkRead: StateChangeConf{Delay: networkReadRefreshDelay (2 s)} before
    # resourceDockerNetworkReadRefreshFunc's inspect; resourceDockerNetworkCreate ends with it.
    from tests.engine.providers import docker_resources
    from tests.engine.providers.base import HandlerContext, ResourceView
    from tests.engine.state import ResourceState

    clock = [0.0]
    daemon = _AllocatingDaemon(clock)
    monkeypatch.setattr(
        docker_resources.time, "sleep", lambda s: clock.__setitem__(0, clock[0] + s)
    )
    handler = docker_resources.NetworkHandler(HandlerContext(), connections=None)  # type: ignore[arg-type]
    monkeypatch.setattr(handler, "call", lambda provider, action: action(daemon))
    inputs = {
        "name": "mip-federation",
        "driver": "overlay",
        "attachable": True,
        "options": {"encrypted": "true"},
        "ipamConfigs": [{"subnet": "10.20.30.0/24", "gateway": "10.20.30.254"}],
    }
    view = ResourceView("urn:net", "overlay-network", "docker:index/network:Network", inputs)
    network_id, outputs = handler.create(view)
    assert docker_resources.NETWORK_READ_DELAY == 2.0
    assert outputs["driver"] == "overlay" and outputs["ipamDriver"] == "default"
    assert outputs["ipamConfigs"][0]["subnet"] == "10.20.30.0/24"
    assert outputs["options"] == {"encrypted": "true"}

    daemon.created_at = clock[0]  # a refresh right after another create: Read waits as well
    old = ResourceState(urn="urn:net", type=view.type, name=view.name, custom=True, id=network_id)
    old.outputs = outputs
    read = handler.read(old)
    assert read is not None and read["driver"] == "overlay"
