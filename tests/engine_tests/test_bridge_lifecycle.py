"""What the bridged Docker provider and the engine do around a create or update: when the
daemon is first reached, what an update sends, what a create that fails half-way leaves, and
which defaults go into the inputs."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.engine.engine import Engine, plan_step
from tests.engine.oplog import OpLog
from tests.engine.providers import HandlerContext, Registry, ResourceView
from tests.engine.providers.base import Handler, InitializationError, ProviderError
from tests.engine.providers.docker_conn import DockerConnections
from tests.engine.providers.docker_resources import ContainerHandler, ServiceHandler
from tests.engine.providers.docker_schema import CONTAINER
from tests.engine.providers.tf_schema import apply_defaults, to_tf
from tests.engine.registration import Registration, ResourceError
from tests.engine.state import ResourceState, StackState
from tests.engine_tests.test_docker_schema import master_inputs, portal_inputs, service_state

DOCKER_PROVIDER = "urn:pulumi:s::p::pulumi:providers:docker::leader::0d2c"


class _Unreachable(DockerConnections):
    """Connections that fail the test if anything asks for a client."""

    def client(self, target: Any) -> Any:
        raise AssertionError(f"the daemon at {target.host} was reached")


def test_a_docker_provider_becoming_known_opens_no_connection() -> None:
    """pulumi-docker provider/provider.go `dockerNativeProvider.Configure` calls image.go
    `configureDockerClient(config, true)`, which skips the ping when the client's DaemonHost is
    connhelper's `http://docker.example.com` (an ssh:// host); terraform-provider-docker v4.5.0
    internal/provider/config.go `ProviderConfig.MakeClient` connects and pings at the first
    create, read, update or delete. So configuring the provider (every run, a preview or a
    no-change `up` included) starts no ssh."""
    ctx = HandlerContext()
    registry = Registry(ctx)
    ctx.providers.set(DOCKER_PROVIDER, {"host": "ssh://root@10.0.0.1:22", "sshOpts": []})
    assert registry.docker._bridges == {}
    assert registry.docker._sessions == {}
    registry.close()


def _service_old(outputs: dict[str, Any]) -> ResourceState:
    return ResourceState(
        urn="urn:master",
        type="docker:index/service:Service",
        name="master",
        custom=True,
        id="svc1",
        inputs=master_inputs(),
        outputs=outputs,
    )


def test_a_service_update_resends_the_platforms_kept_by_ignore_changes() -> None:
    """terraform-provider-docker v4.5.0 resource_docker_service_funcs.go
    `resourceDockerServiceUpdate` builds the spec with `createServiceSpec(d)`; in Update, the
    SDK's ResourceData (terraform-plugin-sdk v2 helper/schema/resource_data.go `Get`, over
    schema.go `schemaMap.Diff`) reads the state where the diff has no entry: the platforms,
    whose diff pulumi-terraform-bridge pkg/tfshim/sdk-v2/instance_diff.go
    `processIgnoreChanges` dropped, and every Optional+Computed value the config leaves out."""
    state = service_state()
    state["taskSpec"]["placement"]["platforms"] = [{"architecture": "amd64", "os": "linux"}]
    state["taskSpec"]["containerSpec"]["stopGracePeriod"] = "10s"
    handler = ServiceHandler(HandlerContext(), _Unreachable())
    news = master_inputs()
    news["taskSpec"]["containerSpec"]["env"]["MODE"] = "local"
    ignored = ["taskSpec.placement.platforms"]
    view = ResourceView("urn:master", "master", "t", news, ignore_changes=ignored)
    planned = handler.planned(view, _service_old(state))
    task = planned["task_spec"][0]
    assert task["placement"][0]["platforms"] == [{"architecture": "amd64", "os": "linux"}]
    assert task["placement"][0]["constraints"] == [
        "node.role == manager",
        "node.labels.name == chuv",
    ]
    assert task["container_spec"][0]["stop_grace_period"] == "10s"  # Optional+Computed
    assert task["container_spec"][0]["env"]["MODE"] == "local"  # the config wins
    # Without ignoreChanges the platforms (Optional, not Computed) are a removal.
    view.ignore_changes = []
    assert (
        "platforms"
        not in handler.planned(view, _service_old(state))["task_spec"][0]["placement"][0]
    )


def _container_old(init_errors: list[str]) -> ResourceState:
    config = apply_defaults(to_tf(portal_inputs(), CONTAINER), CONTAINER)
    handler = ContainerHandler(HandlerContext(), _Unreachable())
    return ResourceState(
        urn="urn:portal",
        type="docker:index/container:Container",
        name="portal",
        custom=True,
        id="c0ffee",
        inputs=portal_inputs(),
        outputs=handler.outputs({}, config),
        init_errors=init_errors,
    )


def test_an_unchanged_update_returns_the_olds_without_calling_the_provider() -> None:
    """pulumi-terraform-bridge v3.136.0 pkg/tfbridge/provider.go `Update`: `if diff == nil`
    it returns the olds (`UpdateResponse{Properties: req.GetOlds()}`); the TF resource's Update,
    which would start a stopped container, never runs."""
    old = _container_old(["creating urn:portal: Unable to start container: port in use"])
    handler = ContainerHandler(HandlerContext(), _Unreachable())
    view = ResourceView("urn:portal", "portal", old.type, handler.check(_view(), old))
    assert handler.update(view, old) == old.outputs


def _view() -> ResourceView:
    return ResourceView("urn:portal", "portal", "docker:index/container:Container", portal_inputs())


def _registration(replace_on_changes: list[str] | None = None) -> Registration:
    return Registration(
        urn="urn:portal",
        type="docker:index/container:Container",
        name="portal",
        custom=True,
        inputs=portal_inputs(),
        replace_on_changes=replace_on_changes or [],
    )


def test_an_unchanged_resource_with_init_errors_gets_an_empty_update() -> None:
    """pulumi/pulumi pkg/resource/deploy/step_generator.go `continueStepsFromDiff`: "If
    resource was unchanged, but there were initialization errors, generate an empty update
    step" (`hasInitErrors := len(old.InitErrors) > 0`); without init errors it is a same."""
    handler = ContainerHandler(HandlerContext(), _Unreachable())
    checked = handler.check(_view(), None)
    plan = plan_step(_container_old(["boom"]), _registration(), checked, handler)
    assert (plan.op, plan.changed, plan.replaces) == ("update", [], [])
    assert plan_step(_container_old([]), _registration(), checked, handler).op == "same"


def test_init_errors_under_replace_on_changes_star_replace_the_resource() -> None:
    """step_generator.go `applyReplaceOnChanges`: with init errors, a replaceOnChanges path
    containing `initErrorSpecialKey` ("#initerror"; `*` contains every key) adds it to the
    replace keys, with an update-replace detailed diff (InputDiff false), and the changes
    become DiffSome."""
    handler = ContainerHandler(HandlerContext(), _Unreachable())
    checked = handler.check(_view(), None)
    plan = plan_step(_container_old(["boom"]), _registration(["*"]), checked, handler)
    assert plan.op == "replace"
    assert plan.replaces == ["#initerror"]
    assert plan.detailed_diff["#initerror"].kind == "update-replace"
    assert plan.detailed_diff["#initerror"].input_diff is False
    assert plan_step(_container_old([]), _registration(["*"]), checked, handler).op == "same"


class _HalfCreated(Handler):
    """A create that makes the object, then fails; updates are recorded."""

    def __init__(self, ctx: HandlerContext) -> None:
        super().__init__(ctx)
        self.updates: list[str] = []
        self.lock = threading.Lock()

    def create(self, res: ResourceView) -> tuple[str, dict[str, Any]]:
        raise InitializationError("Unable to start container: port is already allocated", "c1", {})

    def update(self, res: ResourceView, old: ResourceState) -> dict[str, Any]:
        with self.lock:
            self.updates.append(old.id)
        return {"started": True}


class _Registry:
    def __init__(self, handler: Handler) -> None:
        self._handler = handler

    def handler(self, type_: str) -> Handler:
        return self._handler


def _engine(prior: StackState, handler: Handler) -> Engine:
    engine = Engine(prior, OpLog(quiet=True), handler.ctx, None, 4)  # type: ignore[arg-type]
    engine.registry = _Registry(handler)  # type: ignore[assignment]
    return engine


def test_a_create_that_fails_after_the_object_exists_keeps_it_and_the_next_run_updates_it() -> None:
    """pulumi-terraform-bridge v3.136.0 pkg/tfbridge/provider.go `Create`: a TF Apply that
    returns a state with an ID and an error answers `initializationError(id, props, reasons)`;
    the engine keeps the resource with those InitErrors and fails the step, and on the next run
    step_generator.go `continueStepsFromDiff` (hasInitErrors) updates it; a successful update
    clears them."""
    handler = _HalfCreated(HandlerContext())
    first = _engine(StackState("s", "p", []), handler)
    with pytest.raises(ResourceError, match="Unable to start container"):
        first.register(_registration())
    state = first.final_state(False)
    [entry] = state.resources
    assert entry.id == "c1"
    assert entry.init_errors == [
        "creating urn:portal: Unable to start container: port is already allocated"
    ]
    assert first.errors == [("portal", "Unable to start container: port is already allocated")]

    second = _engine(state, handler)
    second.register(_registration())
    assert handler.updates == ["c1"]
    [entry] = second.final_state(True).resources
    assert entry.init_errors == []
    assert entry.outputs == {"started": True}


def test_a_container_whose_start_fails_is_a_partial_create() -> None:
    """terraform-provider-docker v4.5.0 resource_docker_container_funcs.go
    `resourceDockerContainerCreate`: `d.SetId(retContainer.ID)` after ContainerCreate, then
    `ContainerStart` fails with `Unable to start container: ...` and no Read runs."""
    handler = ContainerHandler(HandlerContext(), _Unreachable())
    config = apply_defaults(to_tf(portal_inputs(), CONTAINER), CONTAINER)
    error = handler._partial("Unable to start container: x", "c2", config)
    assert isinstance(error, ProviderError)
    assert error.resource_id == "c2"
    assert error.outputs["mustRun"] is True
    assert error.outputs["ports"][0]["external"] == 8080
    assert "exitCode" not in error.outputs


def test_check_writes_no_false_or_zero_default_into_the_inputs() -> None:
    """pulumi-terraform-bridge v3.136.0 pkg/tfbridge/schema.go: a Default from the TF schema
    that `shouldSuppressTFSchemaDefaultValue` (false, 0, "") is not added to the checked
    inputs (pulumi-terraform-bridge#2618); other defaults still are. The SDK's own config reader
    still sees every Default (the differ and the create body are unchanged)."""
    container = ContainerHandler(HandlerContext(), _Unreachable())
    checked = container.check(_view(), None)
    for absent in ("rm", "tty", "memoryReservation", "attach", "logs", "wait", "readOnly"):
        assert absent not in checked
    assert checked["mustRun"] is True
    assert checked["start"] is True
    assert checked["networkMode"] == "bridge"
    assert container.config(checked)["rm"] is False

    service = ServiceHandler(HandlerContext(), _Unreachable())
    inputs = {**master_inputs(), "mode": {"replicated": {}}}
    view = ResourceView("urn:master", "master", "t", inputs)
    mode = service.check(view, None)["mode"]
    assert "global" not in mode
    assert mode["replicated"] == {"replicas": 1}
