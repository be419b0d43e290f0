"""Docker swarm secrets (`docker:index/secret:Secret`) applied for real through their provider's
host.

As kreuzwerker/terraform-provider-docker v4.5.0 internal/provider/resource_docker_secret.go
(bridged by pulumi-docker 5.x): every field is ForceNew and there is no Update, so any change is
a replacement (create-before-delete unless the program asks otherwise). Create decodes `data`
(base64) and sends it with the name and labels, then Reads; Read stores only the id and the
name: the daemon never returns a secret's data, so `data` (and `labels`) stay as configured.
The name is auto-named `<resource name>-<7 hex>` (pulumi-docker provider/resources.go
SetAutonaming), and a replacement draws a new one (the engine checks it again without olds).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import docker

from tests.engine.props import is_unknown
from tests.engine.providers.base import ProviderError, ResourceView, plain
from tests.engine.providers.docker_resources import DockerHandler
from tests.engine.providers.tf_schema import SET, STR, S, to_tf
from tests.engine.state import ResourceState

# resourceDockerSecret's schema (helpers.go labelSchema for the labels' elements).
SECRET: dict[str, S] = {
    "name": S(STR, required=True, force_new=True),
    "data": S(STR, required=True, force_new=True),
    "labels": S(
        SET,
        optional=True,
        force_new=True,
        elem={
            "label": S(STR, required=True, force_new=True),
            "value": S(STR, required=True, force_new=True),
        },
    ),
}


def decode_data(data: str) -> bytes:
    """resourceDockerSecretCreate: `base64.StdEncoding.DecodeString(data)` (the schema's
    validateStringIsBase64Encoded has refused what does not decode)."""
    return base64.b64decode(data.encode("ascii"), validate=True)


def is_base64(data: str) -> bool:
    try:
        decode_data(data)
    except (binascii.Error, ValueError):
        return False
    return True


class SecretHandler(DockerHandler):
    schema = SECRET

    def check(self, res: ResourceView, old: ResourceState | None) -> dict[str, Any]:
        """Auto-name, then validateStringIsBase64Encoded on `data`. Its upstream message quotes
        the value ("'<data>' is not base64 decodeable"); the double names the field only."""
        inputs = super().check(res, old)
        data = inputs.get("data")
        if isinstance(data, str) and not is_unknown(data) and not is_base64(data):
            raise ProviderError(f"{res.name}: data: the value is not base64 decodeable")
        return inputs

    def create(self, res: ResourceView) -> tuple[str, dict[str, Any]]:
        config = self.config(res.inputs)
        labels = {item["label"]: item["value"] for item in config.get("labels") or []}

        def action(api: docker.APIClient) -> tuple[str, dict[str, Any]]:
            created = api.create_secret(
                config["name"], decode_data(config["data"]), labels=labels or None
            )
            return str(created["ID"]), dict(api.inspect_secret(created["ID"]))

        secret_id, info = self.call(res.provider, action)
        return secret_id, self.outputs(flatten_secret(info), config)

    def update(self, res: ResourceView, old: ResourceState) -> dict[str, Any]:
        raise ProviderError(f"{res.name}: docker_secret has no update: every field is ForceNew")

    def read(self, old: ResourceState) -> dict[str, Any] | None:
        """resourceDockerSecretRead: any inspect error reads as removed (`d.SetId("")`)."""

        def action(api: docker.APIClient) -> dict[str, Any] | None:
            try:
                return dict(api.inspect_secret(old.id))
            except docker.errors.APIError:
                return None

        info = self.call(old.provider, action)
        if info is None:
            return None
        return self.outputs(flatten_secret(info), to_tf(plain(old.outputs) or {}, self.schema))

    def delete(self, old: ResourceState) -> None:
        """resourceDockerSecretDelete: SecretRemove; any error fails the delete with the
        daemon's text (a secret a service uses: "... is in use by the following service")."""
        self.call(old.provider, lambda api: api.remove_secret(old.id))


def flatten_secret(info: dict[str, Any]) -> dict[str, Any]:
    """What resourceDockerSecretRead sets: the name (the data is not exposed via the API)."""
    return {"name": info["Spec"]["Name"]}
