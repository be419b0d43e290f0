"""Docker networks, services and containers (`docker:index/...`) applied for real through
their provider's host.

Lifecycle as in pulumi-docker 5.x: every Network change replaces; a Service is replaced only
when `name`, `mode` or `auth` changes and otherwise updated in place; a Container is replaced on
any change, deleting the old one first (the provider sets DeleteBeforeReplace). Names that are
not given are auto-named `<resource name>-<7 hex>` and kept across updates.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import docker

from tests.engine.providers import docker_spec
from tests.engine.providers.base import Handler, HandlerContext, ProviderError, ResourceView, plain
from tests.engine.providers.docker_conn import DockerConnectError, DockerConnections, DockerTarget
from tests.engine.state import ResourceState

REMOVE_WAIT = 60.0


class DockerHandler(Handler):
    def __init__(self, ctx: HandlerContext, connections: DockerConnections) -> None:
        super().__init__(ctx)
        self.connections = connections

    def target(self, provider_ref: str) -> DockerTarget:
        config = self.ctx.providers.get(provider_ref) if provider_ref else None
        if provider_ref and config is None:
            raise ProviderError(f"unknown provider {provider_ref}")
        return DockerTarget.from_provider(config)

    def check(self, res: ResourceView, old: ResourceState | None) -> dict[str, Any]:
        if res.inputs.get("name"):
            return res.inputs
        old_name = plain(old.inputs).get("name") if old else None
        name = old_name or f"{res.name}-{secrets.token_hex(4)[:7]}"
        return {**res.inputs, "name": name}

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


def _missing(exc: docker.errors.APIError) -> bool:
    return bool(exc.status_code == 404)


class NetworkHandler(DockerHandler):
    replace_keys = None

    def create(self, res: ResourceView) -> tuple[str, dict[str, Any]]:
        kwargs = docker_spec.network_create_kwargs(res.inputs)

        def action(api: docker.APIClient) -> tuple[str, dict[str, Any]]:
            created = api.create_network(**kwargs)
            info = api.inspect_network(created["Id"])
            return created["Id"], info

        network_id, info = self.call(res.provider, action)
        outputs = {
            **res.inputs,
            "driver": res.inputs.get("driver") or info.get("Driver"),
            "scope": info.get("Scope"),
            "ipamDriver": res.inputs.get("ipamDriver") or (info.get("IPAM") or {}).get("Driver"),
        }
        return network_id, outputs

    def delete(self, old: ResourceState) -> None:
        network_id = old.id

        def action(api: docker.APIClient) -> None:
            deadline = time.monotonic() + REMOVE_WAIT
            while True:
                try:
                    api.remove_network(network_id)
                    return
                except docker.errors.APIError as exc:
                    if _missing(exc):
                        return
                    # Tasks of a just-removed service may still be leaving the network.
                    if "active endpoints" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(1)

        self.call(old.provider, action)


class ServiceHandler(DockerHandler):
    replace_keys = frozenset({"name", "mode", "auth"})

    def create(self, res: ResourceView) -> tuple[str, dict[str, Any]]:
        kwargs = docker_spec.service_kwargs(res.inputs)

        def action(api: docker.APIClient) -> str:
            created = api.create_service(**kwargs)
            service_id = str(created["ID"])
            _converge(api, service_id, res.inputs.get("convergeConfig"))
            return service_id

        service_id = self.call(res.provider, action)
        return service_id, dict(res.inputs)

    def update(self, res: ResourceView, old: ResourceState) -> dict[str, Any]:
        kwargs = docker_spec.service_kwargs(res.inputs)

        def action(api: docker.APIClient) -> None:
            current = api.inspect_service(old.id)
            api.update_service(old.id, current["Version"]["Index"], **kwargs)
            _converge(api, old.id, res.inputs.get("convergeConfig"))

        self.call(res.provider, action)
        return dict(res.inputs)

    def delete(self, old: ResourceState) -> None:
        service_id = old.id

        def action(api: docker.APIClient) -> None:
            try:
                tasks = api.tasks(filters={"service": service_id})
                api.remove_service(service_id)
            except docker.errors.APIError as exc:
                if _missing(exc):
                    return
                raise
            # Like the provider, wait until the service's containers on this daemon are gone.
            containers = [
                t["Status"]["ContainerStatus"]["ContainerID"]
                for t in tasks
                if t.get("Status", {}).get("ContainerStatus", {}).get("ContainerID")
            ]
            deadline = time.monotonic() + REMOVE_WAIT
            for container_id in containers:
                while time.monotonic() < deadline:
                    try:
                        api.inspect_container(container_id)
                    except docker.errors.APIError as exc:
                        if _missing(exc):
                            break
                        raise
                    time.sleep(0.5)

        self.call(old.provider, action)


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
    replace_keys = None
    delete_before_replace = True

    def create(self, res: ResourceView) -> tuple[str, dict[str, Any]]:
        inputs = res.inputs
        body = docker_spec.container_create_body(inputs)

        def action(api: docker.APIClient) -> tuple[str, dict[str, Any]]:
            try:
                api.inspect_image(inputs["image"])
            except docker.errors.APIError as exc:
                if not _missing(exc):
                    raise
                api.pull(inputs["image"])
            created = api.post(
                api._url("/containers/create"), params={"name": inputs["name"]}, json=body
            )
            container_id = api._result(created, json=True)["Id"]
            for extra in (inputs.get("networksAdvanced") or [])[1:]:
                api.connect_container_to_network(
                    container_id, extra["name"], aliases=extra.get("aliases")
                )
            if inputs.get("start", True) is not False:
                api.start(container_id)
                if inputs.get("mustRun", True) is not False:
                    _wait_running(api, container_id)
            return container_id, api.inspect_container(container_id)

        container_id, info = self.call(res.provider, action)
        networks = (info.get("NetworkSettings") or {}).get("Networks") or {}
        outputs = {
            **inputs,
            "networkDatas": [
                {
                    "networkName": name,
                    "ipAddress": data.get("IPAddress", ""),
                    "gateway": data.get("Gateway", ""),
                    "macAddress": data.get("MacAddress", ""),
                }
                for name, data in networks.items()
            ],
            "exitCode": (info.get("State") or {}).get("ExitCode"),
        }
        return container_id, outputs

    def delete(self, old: ResourceState) -> None:
        props = plain(old.outputs) or plain(old.inputs)
        container_id = old.id

        def action(api: docker.APIClient) -> None:
            try:
                api.remove_container(
                    container_id, force=True, v=props.get("removeVolumes", True) is not False
                )
            except docker.errors.APIError as exc:
                if not _missing(exc):
                    raise

        self.call(old.provider, action)


def _wait_running(api: docker.APIClient, container_id: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        state = api.inspect_container(container_id)["State"]
        if state.get("Running"):
            return
        if time.monotonic() > deadline or state.get("Status") in ("exited", "dead"):
            raise ProviderError(
                f"container {container_id} exited after creation, error was: "
                f"{state.get('Error') or 'exit code ' + str(state.get('ExitCode'))}"
            )
        time.sleep(0.2)
