"""Docker networks, services and containers (`docker:index/...`) applied for real through
their provider's host.

Lifecycle as in pulumi-docker (a bridge of terraform-provider-docker): Diff compares
the checked inputs with the state the provider's Read stored (docker_read), with the TF schema's
rules (docker_schema); outputs are what Read stores after create/update. A Container is replaced
delete-first (the provider sets DeleteBeforeReplace). Names that are not given are auto-named
`<resource name>-<7 hex>` and kept across updates.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any, ClassVar

import docker
import requests

from tests.engine.props import parse_duration_ns
from tests.engine.providers import (
    bridge,
    docker_create,
    docker_image,
    docker_read,
    docker_schema,
    state_change,
    tf_schema,
)
from tests.engine.providers.base import (
    DiffResult,
    Handler,
    HandlerContext,
    InitializationError,
    PropertyDiff,
    ProviderError,
    ResourceView,
    plain,
)
from tests.engine.providers.docker_conn import DockerConnectError, DockerConnections, DockerTarget
from tests.engine.state import ResourceState

# resource_docker_network_funcs.go: resourceDockerNetworkRead waits networkReadRefreshDelay (2 s)
# before its first inspect, on create as on refresh. A swarm network inspected at once can come
# back before the manager's allocator has run: no driver, no IPAM, no options, which the next
# `pulumi up` would read as a replacement.
NETWORK_READ_DELAY = 2.0
# resourceDockerNetworkDelete (networkRemoveRefresh*): refreshes at 2, 7, 17, 27 s, then a timeout.
NETWORK_REMOVE = state_change.StateChangeConf(
    pending=("pending",), target=("removed",), timeout=30.0, min_timeout=5.0, delay=2.0
)
# resourceDockerServiceRead: a refresh at 2 s (then 7, 17, 27 s while the endpoint spec is not
# exposed), after every create and update and on a refresh.
SERVICE_READ = state_change.StateChangeConf(
    pending=("pending",), target=("all_fields", "removed"), timeout=30.0, min_timeout=5.0, delay=2.0
)


class DockerHandler(Handler):
    def __init__(self, ctx: HandlerContext, connections: DockerConnections) -> None:
        super().__init__(ctx)
        self.connections = connections

    def target(self, provider_ref: str) -> DockerTarget:
        config = self.ctx.providers.get(provider_ref) if provider_ref else None
        if provider_ref and config is None:
            raise ProviderError(f"unknown provider {provider_ref}")
        return DockerTarget.from_provider(config)

    schema: ClassVar[dict[str, tf_schema.S]] = {}

    def check(self, res: ResourceView, old: ResourceState | None) -> dict[str, Any]:
        """Auto-name, then the TF schema's Defaults where the inputs have no value (the
        bridge's Check runs MakeTerraformInputs with defaults), but none that is false, 0 or
        empty (pulumi-terraform-bridge#2618)."""
        inputs = dict(res.inputs)
        if not inputs.get("name"):
            old_name = plain(old.inputs).get("name") if old else None
            inputs["name"] = old_name or f"{res.name}-{secrets.token_hex(4)[:7]}"
        tf = tf_schema.apply_defaults(
            tf_schema.to_tf(inputs, self.schema), self.schema, falsy=False
        )
        return {**inputs, **tf_schema.to_pulumi(tf, self.schema)}

    def diff(
        self, old: ResourceState, news: dict[str, Any], ignore_changes: list[str]
    ) -> DiffResult:
        """pulumi-terraform-bridge Diff: the TF diff of the news against the stored state."""
        state = tf_schema.to_tf(plain(old.outputs) or {}, self.schema)
        config = tf_schema.to_tf(news, self.schema)
        result = bridge.bridge_diff(self.schema, state, config, ignore_changes)
        return DiffResult(
            changes=result.changes,
            diffs=result.diffs,
            replaces=result.replaces,
            detailed_diff={path: PropertyDiff(kind) for path, kind in result.detailed.items()},
            delete_before_replace=self.delete_before_replace and bool(result.replaces),
        )

    def config(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """The TF config (defaults applied) of checked inputs."""
        return tf_schema.apply_defaults(tf_schema.to_tf(inputs, self.schema), self.schema)

    def planned(self, res: ResourceView, old: ResourceState) -> dict[str, Any]:
        """What an update sends: the TF config merged into the stored state as the SDK's
        ResourceData reads it in Update (tf_schema.planned_state), ignoreChanges included."""
        state = tf_schema.to_tf(plain(old.outputs) or {}, self.schema)
        config = self.config(res.inputs)
        ignored = bridge.ignore_keys(self.schema, state, config, res.ignore_changes)
        return tf_schema.planned_state(state, config, self.schema, ignored)

    def unchanged(self, res: ResourceView, old: ResourceState) -> bool:
        """pulumi-terraform-bridge provider.go Update: a nil TF diff returns the olds without
        calling the provider (the empty update of a resource with init errors, for one)."""
        return not self.diff(old, res.inputs, res.ignore_changes).changes

    def outputs(self, state: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
        """Pulumi outputs: the planned state (config) with what Read set over it."""
        merged = tf_schema.with_empty_collections({**config, **state}, self.schema)
        return tf_schema.to_pulumi(merged, self.schema)

    def call(self, provider_ref: str, action: Any) -> Any:
        """Run action(api) against the provider's daemon, with the provider's error texts."""
        try:
            with self.connections.client(self.target(provider_ref)) as api:
                return action(api)
        except DockerConnectError as exc:
            raise ProviderError(str(exc)) from exc
        except docker.errors.APIError as exc:
            raise ProviderError(_api_message(exc)) from exc


def _api_message(exc: docker.errors.APIError) -> str:
    explanation = exc.explanation or str(exc)
    code = exc.status_code
    return f"Error response from daemon: {explanation}" + (f" (status {code})" if code else "")


def _contains_ignorable(message: str, *ignorable: str) -> bool:
    """helpers.go containsIgnorableErrorMessage: a case-insensitive substring match."""
    return any(text.lower() in message.lower() for text in ignorable)


def _missing(exc: docker.errors.APIError) -> bool:
    return bool(exc.status_code == 404)


class NetworkHandler(DockerHandler):
    schema = docker_schema.NETWORK

    def create(self, res: ResourceView) -> tuple[str, dict[str, Any]]:
        config = self.config(res.inputs)
        body = docker_create.network_create_body(config)

        def action(api: docker.APIClient) -> tuple[str, dict[str, Any]]:
            created = api._result(api._post_json(api._url("/networks/create"), data=body), True)
            time.sleep(NETWORK_READ_DELAY)
            return created["Id"], api.inspect_network(created["Id"])

        network_id, info = self.call(res.provider, action)
        return network_id, self.outputs(docker_read.flatten_network(info), config)

    def read(self, old: ResourceState) -> dict[str, Any] | None:
        """resourceDockerNetworkReadRefreshFunc: any inspect error reads as removed."""

        def action(api: docker.APIClient) -> dict[str, Any] | None:
            time.sleep(NETWORK_READ_DELAY)
            try:
                return dict(api.inspect_network(old.id))
            except docker.errors.APIError:
                return None

        info = self.call(old.provider, action)
        if info is None:
            return None
        return self.outputs(
            docker_read.flatten_network(info),
            (plain(old.outputs) and tf_schema.to_tf(plain(old.outputs), self.schema)) or {},
        )

    def delete(self, old: ResourceState) -> None:
        """resourceDockerNetworkDelete: a StateChangeConf (Delay 2 s, MinTimeout 5 s, Timeout
        30 s) around inspect-then-remove; gone = removed; "has active endpoints" = pending;
        any other error fails."""
        self.call(old.provider, lambda api: remove_network(api, old.id))


def remove_network(
    api: docker.APIClient,
    network_id: str,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
) -> None:
    """resourceDockerNetworkDelete around resourceDockerNetworkRemoveRefreshFunc."""

    def refresh() -> tuple[None, str]:
        try:
            api.inspect_network(network_id)
        except docker.errors.APIError:
            return None, "removed"
        try:
            api.remove_network(network_id)
        except docker.errors.APIError as exc:
            if _contains_ignorable(str(exc), "has active endpoints"):
                return None, "pending"
            raise
        return None, "removed"

    state_change.wait_for_state(NETWORK_REMOVE, refresh, sleep, clock)


def _service_spec(config: dict[str, Any]) -> dict[str, Any]:
    """createServiceSpec with the image in its tagged form (imageWithTagString)."""
    spec = docker_create.service_spec(config)
    container = spec["TaskTemplate"]["ContainerSpec"]
    container["Image"] = docker_image.image_with_tag(container["Image"])
    return spec


class ServiceHandler(DockerHandler):
    schema = docker_schema.SERVICE

    def create(self, res: ResourceView) -> tuple[str, dict[str, Any]]:
        config = self.config(res.inputs)
        spec = _service_spec(config)
        container = spec["TaskTemplate"]["ContainerSpec"]

        def action(api: docker.APIClient) -> tuple[str, dict[str, Any]]:
            # QueryRegistry (client/service_create.go resolveContainerSpecImage): a failed
            # /distribution call only warns.
            try:
                response = api.get(api._url("/distribution/{0}/json", container["Image"]))
                answer = response.json() if response.status_code == 200 else None
            except (docker.errors.APIError, ValueError):
                answer = None
            pinned, platforms = docker_image.query_registry(answer, container["Image"])
            container["Image"] = pinned
            if platforms:
                spec["TaskTemplate"].setdefault("Placement", {})["Platforms"] = platforms
            created = api._result(api._post_json(api._url("/services/create"), data=spec), True)
            service_id = str(created["ID"])
            _converge(api, service_id, res.inputs.get("convergeConfig"))
            # Gone again before its Read: the daemon's answer to an inspect.
            info = read_service(api, service_id, config["name"])
            return service_id, info or dict(api.inspect_service(service_id))

        service_id, info = self.call(res.provider, action)
        return service_id, self.outputs(docker_read.flatten_service(info), config)

    def update(self, res: ResourceView, old: ResourceState) -> dict[str, Any]:
        """resourceDockerServiceUpdate: createServiceSpec(d) from the planned state (so the
        Optional+Computed values and ignored paths held in the state, such as the platforms
        Docker added, are sent again), no QueryRegistry."""
        if self.unchanged(res, old):
            return dict(plain(old.outputs))
        config = self.planned(res, old)
        spec = _service_spec(config)

        def action(api: docker.APIClient) -> dict[str, Any]:
            current = api.inspect_service(old.id)
            url = api._url("/services/{0}/update", old.id)
            params = {"version": current["Version"]["Index"]}
            api._raise_for_status(api._post_json(url, data=spec, params=params))
            _converge(api, old.id, res.inputs.get("convergeConfig"))
            return read_service(api, old.id, config["name"]) or dict(api.inspect_service(old.id))

        info = self.call(res.provider, action)
        return self.outputs(docker_read.flatten_service(info), config)

    def read(self, old: ResourceState) -> dict[str, Any] | None:
        """resourceDockerServiceRead: not listed = removed."""
        name = (plain(old.outputs) or {}).get("name") or ""
        info = self.call(old.provider, lambda api: read_service(api, old.id, name))
        if info is None:
            return None
        prior = tf_schema.to_tf(plain(old.outputs) or {}, self.schema)
        return self.outputs(docker_read.flatten_service(info), prior)

    def delete(self, old: ResourceState) -> None:
        """resourceDockerServiceDelete: deleteService."""
        props = plain(old.outputs) or {}
        grace = ((props.get("taskSpec") or {}).get("containerSpec") or {}).get("stopGracePeriod")
        self.call(
            old.provider,
            lambda api: delete_service(api, old.id, props.get("name") or "", grace or ""),
        )


def read_service(
    api: docker.APIClient,
    service_id: str,
    name: str,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
) -> dict[str, Any] | None:
    """resourceDockerServiceRead (resource_docker_service_funcs.go, v4.5.0), the end of every
    create and update and a refresh: resourceDockerServiceReadRefreshFunc on SERVICE_READ's
    schedule. fetchDockerService lists the services (by ID or by name; not listed = removed,
    None), then inspects; pending while neither the endpoint nor its spec has a mode."""

    def refresh() -> tuple[dict[str, Any] | None, str]:
        listed = next(
            (s for s in api.services() if s["ID"] == service_id or s["Spec"].get("Name") == name),
            None,
        )
        if listed is None:
            return None, "removed"
        try:
            info = dict(api.inspect_service(listed["ID"]))
        except docker.errors.APIError as exc:
            raise ProviderError(
                f"Error inspecting service {listed['ID']}: {_api_message(exc)}"
            ) from exc
        modes = (
            ((info.get("Endpoint") or {}).get("Spec") or {}).get("Mode"),
            ((info.get("Spec") or {}).get("EndpointSpec") or {}).get("Mode"),
        )
        return info, "all_fields" if any(modes) else "pending"

    return state_change.wait_for_state(SERVICE_READ, refresh, sleep, clock)


def delete_service(
    api: docker.APIClient, service_id: str, name: str, stop_grace_period: str
) -> None:
    """deleteService (resource_docker_service_funcs.go, v4.5.0). With a stop_grace_period other
    than "0s": before ServiceRemove, the containers of the service's tasks (TaskList by name,
    TaskInspect each) not shut down; after it, for each in turn, ContainerWait(removed) under a
    timeout of the grace period, then a forced ContainerRemove. The wait fails on anything but
    "No such container", which is what a container on another node's daemon answers."""
    waits = stop_grace_period not in ("", "0s")
    containers = _live_task_containers(api, name) if waits else []
    try:
        api.remove_service(service_id)
    except docker.errors.APIError as exc:
        raise ProviderError(
            f"Error deleting service with ID '{service_id}': {_api_message(exc)}"
        ) from exc
    grace_s = parse_duration_ns(stop_grace_period) / 1e9 if waits else 0.0
    for container_id in containers:
        _wait_removed(api, container_id, grace_s)
        try:
            api.remove_container(container_id, v=True, force=True)
        except docker.errors.APIError as exc:
            if not _contains_ignorable(str(exc), "No such container", "is already in progress"):
                raise ProviderError(
                    f"Error deleting container with ID '{container_id}': {_api_message(exc)}"
                ) from exc


def _live_task_containers(api: docker.APIClient, name: str) -> list[str]:
    """The container ids of the service's tasks not shut down; a task whose inspect fails
    counts as one without a container (its error is dropped)."""
    found = []
    for listed in api.tasks(filters={"service": name}):
        try:
            task = api.inspect_task(listed["ID"])
        except docker.errors.APIError:
            continue
        status = task.get("Status") or {}
        container_id = ((status.get("ContainerStatus") or {}).get("ContainerID") or "").strip()
        if container_id and status.get("State") != "shutdown":
            found.append(container_id)
    return found


def _wait_removed(api: docker.APIClient, container_id: str, grace_s: float) -> None:
    """ContainerWait(ctx with the grace period as timeout, WaitConditionRemoved)."""
    try:
        result = api.wait(container_id, timeout=grace_s, condition="removed")
    except docker.errors.APIError as exc:
        if not _contains_ignorable(str(exc), "No such container"):
            raise ProviderError(
                f"error on wait for container with ID '{container_id}': {_api_message(exc)}"
            ) from exc
        return
    except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as exc:
        # docker-py's read timeout is the Go client's context deadline.
        timed_out = isinstance(exc, requests.exceptions.Timeout) or "timed out" in str(exc)
        reason = "context deadline exceeded" if timed_out else str(exc)
        raise ProviderError(
            f"error on wait for container with ID '{container_id}': {reason}"
        ) from exc
    message = ((result or {}).get("Error") or {}).get("Message")
    if message and not _contains_ignorable(message, "No such container"):
        raise ProviderError(f"failed to wait for container with ID '{container_id}': '{message}'")


def _converge(api: docker.APIClient, service_id: str, config: dict[str, Any] | None) -> None:
    """With convergeConfig, wait until the desired number of tasks run (the provider's loop)."""
    if not config:
        return
    from tests.engine.props import parse_duration_ns

    delay = parse_duration_ns(str(config.get("delay") or "7s")) / 1e9
    timeout = parse_duration_ns(str(config.get("timeout") or "3m")) / 1e9
    deadline = time.monotonic() + timeout
    while True:
        spec = api.inspect_service(service_id)["Spec"]
        replicated = spec.get("Mode", {}).get("Replicated")
        tasks = api.tasks(filters={"service": service_id, "desired-state": "running"})
        running = [t for t in tasks if t.get("Status", {}).get("State") == "running"]
        wanted = replicated.get("Replicas", 1) if replicated else max(len(tasks), 1)
        if len(running) >= wanted:
            return
        if time.monotonic() > deadline:
            raise ProviderError(
                f"timeout while waiting for service {service_id} to converge: "
                f"{len(running)}/{wanted} tasks running"
            )
        time.sleep(delay)


class ContainerHandler(DockerHandler):
    schema = docker_schema.CONTAINER
    delete_before_replace = True

    def create(self, res: ResourceView) -> tuple[str, dict[str, Any]]:
        config = self.config(res.inputs)
        body = docker_create.container_create_body(config)
        image = config["image"]

        def action(api: docker.APIClient) -> dict[str, Any]:
            try:
                api.inspect_image(image)
            except docker.errors.APIError as exc:
                if not _missing(exc):
                    raise
                api.pull(image)
            created = api.post(
                api._url("/containers/create"), params={"name": config["name"]}, json=body
            )
            container_id = api._result(created, json=True)["Id"]
            # From here on the container exists (d.SetId): a failure leaves the planned state
            # with the id, which the bridge returns as an initializationError.
            try:
                for extra in (config.get("networks_advanced") or [])[1:]:
                    api.connect_container_to_network(
                        container_id, extra["name"], aliases=extra.get("aliases")
                    )
            except docker.errors.APIError as exc:
                raise self._partial(
                    f"Unable to connect to network: {_api_message(exc)}", container_id, config
                ) from exc
            if config.get("start", True):
                try:
                    api.start(container_id)
                except docker.errors.APIError as exc:
                    raise self._partial(
                        f"Unable to start container: {_api_message(exc)}", container_id, config
                    ) from exc
            return dict(api.inspect_container(container_id))

        info = self.call(res.provider, action)
        return str(info["Id"]), self.outputs(docker_read.flatten_container(info, config), config)

    def _partial(
        self, message: str, container_id: str, config: dict[str, Any]
    ) -> InitializationError:
        """resourceDockerContainerCreate failed after ContainerCreate: no Read ran, so the state
        is the planned one (computed values unset) with the id."""
        return InitializationError(
            message, container_id, self.outputs({"id": container_id}, config)
        )

    def update(self, res: ResourceView, old: ResourceState) -> dict[str, Any]:
        """resourceDockerContainerUpdate: start when must_run went false -> true; restart,
        max_retry_count and resources through ContainerUpdate. It ends without a Read, so the
        state is the planned one."""
        if self.unchanged(res, old):
            return dict(plain(old.outputs))
        config = self.config(res.inputs)
        prior = tf_schema.to_tf(plain(old.outputs) or {}, self.schema)

        def action(api: docker.APIClient) -> None:
            restart = prior.get("must_run") is False and config.get("must_run", True)
            if restart and config.get("start", True):
                api.start(old.id)
            keys = ("restart", "max_retry_count", "cpu_shares", "memory", "memory_reservation")
            if any(prior.get(k) != config.get(k) for k in (*keys, "cpu_set", "memory_swap")):
                body: dict[str, Any] = {
                    "RestartPolicy": {
                        "Name": config.get("restart") or "no",
                        "MaximumRetryCount": config.get("max_retry_count") or 0,
                    },
                    "CpuShares": config.get("cpu_shares") or 0,
                    "Memory": (config.get("memory") or 0) * 1024 * 1024,
                    "MemoryReservation": (config.get("memory_reservation") or 0) * 1024 * 1024,
                    "CpusetCpus": config.get("cpu_set") or "",
                }
                api._raise_for_status(
                    api._post_json(api._url("/containers/{0}/update", old.id), data=body)
                )

        self.call(res.provider, action)
        return self.outputs({**prior, "must_run": config.get("must_run", True)}, config)

    def read(self, old: ResourceState) -> dict[str, Any] | None:
        """fetchDockerContainer: not in the list of all containers = gone."""
        prior = tf_schema.to_tf(plain(old.outputs) or {}, self.schema)

        def action(api: docker.APIClient) -> dict[str, Any] | None:
            if not any(c["Id"] == old.id for c in api.containers(all=True)):
                return None
            return dict(api.inspect_container(old.id))

        info = self.call(old.provider, action)
        if info is None:
            return None
        return tf_schema.to_pulumi(docker_read.flatten_container(info, prior), self.schema)

    def delete(self, old: ResourceState) -> None:
        """resourceDockerContainerDelete: stop (destroy_grace_seconds), force-remove, wait;
        "No such container" and "is already in progress" are ignored."""
        props = tf_schema.to_tf(plain(old.outputs) or {}, self.schema)
        container_id = old.id

        def ignorable(exc: docker.errors.APIError) -> bool:
            text = str(exc).lower()
            return "no such container" in text or "is already in progress" in text

        def action(api: docker.APIClient) -> None:
            if not props.get("attach"):
                try:
                    api.stop(container_id, timeout=props.get("destroy_grace_seconds") or 0)
                except docker.errors.APIError as exc:
                    if "no such container" not in str(exc).lower():
                        raise ProviderError(
                            f"Error stopping container {container_id}: {_api_message(exc)}"
                        ) from exc
            try:
                api.remove_container(
                    container_id, force=True, v=props.get("remove_volumes", True) is not False
                )
            except docker.errors.APIError as exc:
                if not ignorable(exc):
                    raise ProviderError(
                        f"Error deleting container {container_id}: {_api_message(exc)}"
                    ) from exc

        self.call(old.provider, action)
