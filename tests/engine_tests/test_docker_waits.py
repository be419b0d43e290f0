"""The Docker provider's waits and its service delete, against a scripted daemon (no services).

Sources: terraform-provider-docker v4.5.0 (@5074970c) internal/provider/
resource_docker_service_funcs.go and resource_docker_network_funcs.go; Pulumi's
terraform-plugin-sdk fork upstream-v2.38.1 helper/retry/state.go and error.go.
"""

from __future__ import annotations

from typing import Any

import docker
import pytest
import requests

from tests.engine.providers import state_change
from tests.engine.providers.base import ProviderError
from tests.engine.providers.docker_resources import (
    SERVICE_READ,
    delete_service,
    read_service,
    remove_network,
)


class FakeClock:
    """sleep() advances the clock; the pauses are recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def api_error(message: str, status: int = 404) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError(message, response=response, explanation=message)


class FakeDaemon:
    """The calls deleteService, the service Read and the network delete make, with scripted
    answers; `calls` records them in order."""

    def __init__(self, **answers: Any) -> None:
        self.answers = answers
        self.calls: list[tuple[str, Any]] = []

    def _answer(self, name: str, arg: Any) -> Any:
        self.calls.append((name, arg))
        answer = self.answers.get(name)
        if callable(answer):
            answer = answer(arg)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def tasks(self, filters: dict[str, str]) -> Any:
        return self._answer("tasks", filters)

    def inspect_task(self, task_id: str) -> Any:
        return self._answer("inspect_task", task_id)

    def remove_service(self, service_id: str) -> Any:
        return self._answer("remove_service", service_id)

    def wait(self, container_id: str, timeout: float, condition: str) -> Any:
        return self._answer("wait", (container_id, timeout, condition))

    def remove_container(self, container_id: str, v: bool, force: bool) -> Any:
        return self._answer("remove_container", (container_id, v, force))

    def services(self) -> Any:
        return self._answer("services", None)

    def inspect_service(self, service_id: str) -> Any:
        return self._answer("inspect_service", service_id)

    def inspect_network(self, network_id: str) -> Any:
        return self._answer("inspect_network", network_id)

    def remove_network(self, network_id: str) -> Any:
        return self._answer("remove_network", network_id)


def task(task_id: str, container: str, state: str = "running") -> dict[str, Any]:
    return {
        "ID": task_id,
        "Status": {"State": state, "ContainerStatus": {"ContainerID": container}},
    }


TASKS = {"t1": task("t1", "c-local"), "t2": task("t2", "c-other-node"), "t3": task("t3", "c-old")}
TASKS["t3"]["Status"]["State"] = "shutdown"


def daemon(**answers: Any) -> FakeDaemon:
    defaults: dict[str, Any] = {
        "tasks": [{"ID": t} for t in TASKS],
        "inspect_task": lambda t: TASKS[t],
        "wait": {"StatusCode": 137},
    }
    return FakeDaemon(**{**defaults, **answers})


def test_delete_lists_tasks_before_the_remove_and_waits_for_removal_after_it() -> None:
    """deleteService: TaskList (by the service's name) and TaskInspect before ServiceRemove,
    shut-down tasks skipped; then per container ContainerWait(WaitConditionRemoved) under the
    grace period, then ContainerRemove(RemoveVolumes, Force)."""
    api = daemon()
    delete_service(api, "svc-id", "exareme-master", "5s")
    assert api.calls == [
        ("tasks", {"service": "exareme-master"}),
        ("inspect_task", "t1"),
        ("inspect_task", "t2"),
        ("inspect_task", "t3"),
        ("remove_service", "svc-id"),
        ("wait", ("c-local", 5.0, "removed")),
        ("remove_container", ("c-local", True, True)),
        ("wait", ("c-other-node", 5.0, "removed")),
        ("remove_container", ("c-other-node", True, True)),
    ]


def test_delete_fails_when_the_wait_runs_out() -> None:
    """deleteService: the wait's context deadline is an `error on wait for container` error
    (only "No such container" is ignored), and nothing after it runs."""
    api = daemon(wait=requests.exceptions.ReadTimeout("Read timed out. (read timeout=5.0)"))
    with pytest.raises(ProviderError) as raised:
        delete_service(api, "svc-id", "exareme-master", "5s")
    assert str(raised.value) == (
        "error on wait for container with ID 'c-local': context deadline exceeded"
    )
    assert api.calls[-1] == ("wait", ("c-local", 5.0, "removed"))


def test_delete_skips_containers_the_daemon_does_not_have() -> None:
    """deleteService: a task container on another node's daemon answers ContainerWait and
    ContainerRemove with "No such container", which is ignored both times."""

    def wait(arg: tuple[str, float, str]) -> Any:
        if arg[0] == "c-other-node":
            return api_error("No such container: c-other-node")
        return {"StatusCode": 0}

    def remove(arg: tuple[str, bool, bool]) -> Any:
        return api_error(f"No such container: {arg[0]}")

    api = daemon(wait=wait, remove_container=remove)
    delete_service(api, "svc-id", "exareme-master", "5s")
    assert [c for c in api.calls if c[0] == "remove_container"] == [
        ("remove_container", ("c-local", True, True)),
        ("remove_container", ("c-other-node", True, True)),
    ]


def test_delete_fails_on_another_wait_error_and_on_a_wait_result_error() -> None:
    """deleteService: other errors from ContainerWait's error channel, and an error in its
    result, fail with their own texts."""
    api = daemon(wait=api_error("conflict", status=409))
    with pytest.raises(ProviderError, match=r"^error on wait for container with ID 'c-local': "):
        delete_service(api, "svc-id", "exareme-master", "5s")
    api = daemon(wait={"StatusCode": 1, "Error": {"Message": "broken"}})
    with pytest.raises(ProviderError) as raised:
        delete_service(api, "svc-id", "exareme-master", "5s")
    assert str(raised.value) == "failed to wait for container with ID 'c-local': 'broken'"


@pytest.mark.parametrize("grace", ["0s", ""])
def test_delete_without_a_grace_period_only_removes_the_service(grace: str) -> None:
    """deleteService: d.GetOk(stop_grace_period) false ("") or "0s": no task list, no wait."""
    api = daemon()
    delete_service(api, "svc-id", "exareme-master", grace)
    assert api.calls == [("remove_service", "svc-id")]


def test_delete_of_a_service_already_gone_fails() -> None:
    """deleteService: a ServiceRemove error fails the delete (a second remove answers 404)."""
    api = daemon(remove_service=api_error("service svc-id not found"))
    with pytest.raises(ProviderError, match=r"^Error deleting service with ID 'svc-id': "):
        delete_service(api, "svc-id", "exareme-master", "0s")


def test_network_delete_retries_at_2_7_17_27_seconds_then_times_out() -> None:
    """resourceDockerNetworkDelete: StateChangeConf Delay 2 s, MinTimeout 5 s, Timeout 30 s
    (networkRemoveRefresh*); WaitForStateContext doubles the wait from 100 ms, bounded to
    [MinTimeout, 10 s]; resourceDockerNetworkRemoveRefreshFunc is pending on "has active
    endpoints"; TimeoutError's text names the target, last state and timeout."""
    fake = FakeClock()
    busy = api_error("error while removing network: network x has active endpoints", 403)
    api = FakeDaemon(inspect_network={"Id": "x"}, remove_network=busy)
    with pytest.raises(state_change.StateTimeoutError) as raised:
        remove_network(api, "x", fake.sleep, fake.clock)
    starts = [sum(fake.pauses[: i + 1]) for i in range(len(fake.pauses) - 1)]
    assert starts == [2.0, 7.0, 17.0, 27.0]
    assert fake.now == 30.0
    assert [c[0] for c in api.calls].count("remove_network") == 4
    assert str(raised.value) == (
        "timeout while waiting for state to become 'removed' (last state: 'pending', timeout: 30s)"
    )


def test_network_delete_ends_once_the_network_is_gone() -> None:
    """resourceDockerNetworkRemoveRefreshFunc: an inspect error is "removed"; a remove that
    fails otherwise ends the wait with its error."""
    fake = FakeClock()
    inspects = iter([{"Id": "x"}, api_error("network x not found")])
    api = FakeDaemon(
        inspect_network=lambda _: next(inspects),
        remove_network=api_error("x has active endpoints", 403),
    )
    remove_network(api, "x", fake.sleep, fake.clock)
    assert fake.pauses == [2.0, 5.0]
    api = FakeDaemon(inspect_network={"Id": "x"}, remove_network=api_error("denied", 403))
    with pytest.raises(docker.errors.APIError, match="denied"):
        remove_network(api, "x", fake.sleep, fake.clock)


def service(mode: str) -> dict[str, Any]:
    return {"ID": "svc-id", "Spec": {"Name": "svc", "EndpointSpec": {"Mode": mode}}}


def test_service_read_waits_2_seconds_then_inspects() -> None:
    """resourceDockerServiceRead: StateChangeConf Delay 2 s, MinTimeout 5 s, Timeout 30 s, the
    end of create and update and a refresh; the first refresh (fetchDockerService, then
    ServiceInspectWithRaw) is on target when the spec has an endpoint mode."""
    fake = FakeClock()
    api = FakeDaemon(services=[service("dnsrr")], inspect_service=lambda _: service("dnsrr"))
    info = read_service(api, "svc-id", "svc", fake.sleep, fake.clock)
    assert info == service("dnsrr")
    assert fake.pauses == [2.0]
    assert api.calls == [("services", None), ("inspect_service", "svc-id")]
    assert (
        state_change.StateChangeConf(
            pending=("pending",),
            target=("all_fields", "removed"),
            timeout=30,
            min_timeout=5,
            delay=2,
        )
        == SERVICE_READ
    )


def test_service_read_retries_while_no_endpoint_mode_and_reads_a_missing_service_as_gone() -> None:
    """resourceDockerServiceReadRefreshFunc: "pending" while neither Endpoint.Spec.Mode nor
    Spec.EndpointSpec.Mode is set (next refreshes at 7 and 17 s); not listed by ID or name is
    "removed" (None)."""
    fake = FakeClock()
    answers = iter([service(""), service(""), service("vip")])
    api = FakeDaemon(services=[service("")], inspect_service=lambda _: next(answers))
    assert read_service(api, "svc-id", "svc", fake.sleep, fake.clock) == service("vip")
    assert fake.pauses == [2.0, 5.0, 10.0]
    gone = FakeDaemon(services=[{"ID": "other", "Spec": {"Name": "other"}}])
    assert read_service(gone, "svc-id", "svc", fake.sleep, fake.clock) is None
