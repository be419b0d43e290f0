"""The docker_secret model (tests/engine/providers/docker_secret.py) and the service's
`task_spec.container_spec.secrets` block (docker_schema.py, docker_create.py, docker_read.py),
against a fake daemon and the lab capture of a service the provider created."""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import docker
import pytest

from tests.engine.props import UNKNOWN
from tests.engine.providers import docker_create, docker_read
from tests.engine.providers.base import HandlerContext, ProviderError, ResourceView
from tests.engine.providers.bridge import bridge_diff
from tests.engine.providers.docker_schema import SERVICE
from tests.engine.providers.docker_secret import SECRET, SecretHandler
from tests.engine.providers.tf_schema import apply_defaults, to_tf
from tests.engine.state import ResourceState
from tests.engine_tests.test_docker_schema import canned, master_inputs, stored

TYPE = "docker:index/secret:Secret"
PASSWORD = b"pw of hug"
DATA = base64.b64encode(PASSWORD).decode()


class FakeDaemon:
    """The secrets part of the Engine API as docker.APIClient exposes it."""

    def __init__(self) -> None:
        self.secrets: dict[str, dict[str, Any]] = {}
        self.in_use: set[str] = set()

    def create_secret(self, name: str, data: bytes, labels: Any = None) -> dict[str, str]:
        secret_id = f"id{len(self.secrets)}"
        self.secrets[secret_id] = {"Name": name, "Data": data, "Labels": labels}
        return {"ID": secret_id}

    def inspect_secret(self, secret_id: str) -> dict[str, Any]:
        if secret_id not in self.secrets:
            raise docker.errors.NotFound(f"secret {secret_id} not found")
        spec = {k: v for k, v in self.secrets[secret_id].items() if k != "Data"}
        return {"ID": secret_id, "Spec": {k: v for k, v in spec.items() if v is not None}}

    def remove_secret(self, secret_id: str) -> None:
        if secret_id in self.in_use:
            raise docker.errors.APIError(
                f"rpc error: code = InvalidArgument desc = secret '{secret_id}' is in use by "
                "the following service: exareme-worker-hug"
            )
        if secret_id not in self.secrets:
            raise docker.errors.NotFound(f"secret {secret_id} not found")
        del self.secrets[secret_id]


class FakeConnections:
    """DockerConnections.client: the fake daemon in place of an API client."""

    def __init__(self, fake: FakeDaemon) -> None:
        self.fake = fake

    @contextmanager
    def client(self, _target: Any) -> Iterator[FakeDaemon]:
        yield self.fake


@pytest.fixture
def daemon() -> tuple[SecretHandler, FakeDaemon]:
    fake = FakeDaemon()
    handler = SecretHandler(HandlerContext(), FakeConnections(fake))  # type: ignore[arg-type]
    return handler, fake


def view(inputs: dict[str, Any], name: str = "ldsm-hug") -> ResourceView:
    return ResourceView(f"urn:{name}", name, TYPE, inputs)


def state_of(secret_id: str, inputs: dict[str, Any], outputs: dict[str, Any]) -> ResourceState:
    old = ResourceState(urn="urn:ldsm-hug", type=TYPE, name="ldsm-hug", custom=True, id=secret_id)
    old.inputs, old.outputs = inputs, outputs
    return old


def test_every_field_forces_a_replacement() -> None:
    """resource_docker_secret.go resourceDockerSecret: name, data, labels are ForceNew (and the
    resource has no UpdateContext)."""
    state = {"name": "ldsm-hug-1a2b3c4", "data": DATA}
    for news in (
        {**state, "data": base64.b64encode(b"new").decode()},
        {**state, "name": "other"},
        {**state, "labels": [{"label": "a", "value": "b"}]},
    ):
        result = bridge_diff(SECRET, to_tf(state, SECRET), to_tf(news, SECRET))
        assert result.changes and result.replaces, news
    assert not bridge_diff(SECRET, to_tf(state, SECRET), to_tf(dict(state), SECRET)).changes


def test_create_sends_the_decoded_data_and_read_keeps_the_configured_data(daemon) -> None:
    """resource_docker_secret.go resourceDockerSecretCreate (base64.StdEncoding.DecodeString of
    data, SecretCreate with the name) then resourceDockerSecretRead, which sets only the id and
    the name: "secret data is not exposed via the API", so the state's data is the config's and
    the next diff of the same inputs is empty."""
    handler, fake = daemon
    inputs = handler.check(view({"data": DATA}), None)
    secret_id, outputs = handler.create(view(inputs))
    assert fake.secrets[secret_id]["Data"] == PASSWORD
    assert fake.secrets[secret_id]["Name"] == inputs["name"] == outputs["name"]
    assert outputs["data"] == DATA
    old = state_of(secret_id, inputs, outputs)
    read = handler.read(old)
    assert read is not None and read["data"] == DATA and read["name"] == inputs["name"]
    assert not handler.diff(state_of(secret_id, inputs, read), inputs, []).changes


def test_name_is_auto_named_and_kept_until_a_replacement(daemon) -> None:
    """pulumi-docker provider/resources.go `prov.SetAutonaming(255, "-")`: a name not given is
    `<resource name>-<7 hex>`; the bridge's Check keeps the old one; a replacement is checked
    again without olds (pulumi step_generator.go), which draws a new one."""
    handler, _ = daemon
    first = handler.check(view({"data": DATA}), None)
    assert first["name"].startswith("ldsm-hug-") and len(first["name"]) == len("ldsm-hug-") + 7
    old = state_of("id0", first, first)
    assert handler.check(view({"data": "bmV3"}), old)["name"] == first["name"]
    assert handler.check(view({"data": "bmV3"}), None)["name"] != first["name"]


def test_data_must_be_base64(daemon) -> None:
    """validators.go validateStringIsBase64Encoded (base64.StdEncoding.DecodeString); unknown
    data (a preview) is not checked."""
    handler, _ = daemon
    with pytest.raises(ProviderError, match="data: the value is not base64") as caught:
        handler.check(view({"data": "not base64!"}), None)
    assert "not base64!" not in str(caught.value)
    assert handler.check(view({"data": UNKNOWN}), None)["data"] == UNKNOWN


def test_read_of_a_removed_secret_is_gone_and_delete_of_a_used_one_fails(daemon) -> None:
    """resourceDockerSecretRead: an inspect error removes it from state (SetId("")).
    resourceDockerSecretDelete: SecretRemove's error is the delete's (diag.FromErr); the daemon
    refuses to remove a secret a service's spec references."""
    handler, fake = daemon
    inputs = handler.check(view({"data": DATA}), None)
    secret_id, outputs = handler.create(view(inputs))
    old = state_of(secret_id, inputs, outputs)
    fake.in_use.add(secret_id)
    with pytest.raises(ProviderError, match="is in use by the following service"):
        handler.delete(old)
    fake.in_use.clear()
    handler.delete(old)
    assert fake.secrets == {} and handler.read(old) is None
    with pytest.raises(ProviderError, match="not found"):
        handler.delete(old)
    with pytest.raises(ProviderError, match="no update"):
        handler.update(view(inputs), old)


# ------------------------------------------------------- the service's secrets block


def worker_inputs(secret_id: str) -> dict[str, Any]:
    """federation/exareme.py's secret reference, on the captured service's inputs."""
    news = master_inputs(window="2m")
    news["taskSpec"]["containerSpec"]["secrets"] = [
        {
            "secretId": secret_id,
            "secretName": f"ldsm-hug-{secret_id[:7]}",
            "fileName": "ldsm-password",
            "fileMode": 0o400,
        }
    ]
    return news


def service_with_secret(secret_id: str) -> dict[str, Any]:
    """The lab capture with the reference the daemon stores for worker_inputs' spec."""
    info = copy.deepcopy(canned("service_created_tf_spec"))
    spec = docker_create.service_spec(
        apply_defaults(to_tf(worker_inputs(secret_id), SERVICE), SERVICE)
    )
    info["Spec"]["TaskTemplate"]["ContainerSpec"]["Secrets"] = spec["TaskTemplate"][
        "ContainerSpec"
    ]["Secrets"]
    return info


def test_service_sends_the_secret_reference_with_the_schema_defaults() -> None:
    """resource_docker_service_structures.go createContainerSpec: SecretID, SecretName and File
    {Name, UID, GID, Mode} from the set element; file_uid and file_gid default to "0"
    (resource_docker_service.go container_spec.secrets)."""
    info = service_with_secret("s1" * 12)
    assert info["Spec"]["TaskTemplate"]["ContainerSpec"]["Secrets"] == [
        {
            "SecretID": "s1" * 12,
            "SecretName": "ldsm-hug-s1s1s1s",
            "File": {"Name": "ldsm-password", "UID": "0", "GID": "0", "Mode": 0o400},
        }
    ]


def test_service_secret_reads_back_as_sent_and_a_new_secret_is_an_update() -> None:
    """resource_docker_service_structures.go flattenServiceSecrets (secret_id, secret_name,
    file_name, file_uid, file_gid, file_mode) reads back what was sent: no diff. A new secret
    id (a rotated password) changes the set element; `secrets` is not ForceNew, so the service
    is updated in place (terraform-plugin-sdk schema.go diffSet)."""
    old_id, new_id = "a" * 25, "b" * 25
    state = stored(
        docker_read.flatten_service(service_with_secret(old_id)),
        to_tf(worker_inputs(old_id), SERVICE),
        SERVICE,
    )
    same = bridge_diff(SERVICE, to_tf(state, SERVICE), to_tf(worker_inputs(old_id), SERVICE))
    assert not same.changes, same.attributes
    rotated = bridge_diff(SERVICE, to_tf(state, SERVICE), to_tf(worker_inputs(new_id), SERVICE))
    assert rotated.changes and rotated.replaces == []
    assert rotated.detailed
    assert all(k.startswith("taskSpec.containerSpec.secrets") for k in rotated.detailed)
    assert all(not kind.endswith("replace") for kind in rotated.detailed.values())
    unknown = worker_inputs(UNKNOWN)
    unknown["taskSpec"]["containerSpec"]["secrets"][0]["secretName"] = UNKNOWN
    preview = bridge_diff(SERVICE, to_tf(state, SERVICE), to_tf(unknown, SERVICE))
    assert preview.changes and preview.replaces == []
