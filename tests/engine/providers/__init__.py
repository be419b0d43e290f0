"""Resource handlers by type token."""

from __future__ import annotations

import uuid
from typing import Any

from tests.engine.providers.base import (
    Handler,
    HandlerContext,
    ProviderConfigs,
    ProviderError,
    ResourceView,
)
from tests.engine.providers.command import RemoteCommandHandler
from tests.engine.providers.docker_conn import DockerConnections
from tests.engine.providers.docker_resources import (
    ContainerHandler,
    NetworkHandler,
    ServiceHandler,
)
from tests.engine.providers.docker_secret import SecretHandler
from tests.engine.state import ResourceState

PROVIDER_PREFIX = "pulumi:providers:"
SUPPORTED_PROVIDERS = ("docker", "command")


class PulumiProviderHandler(Handler):
    """An explicit provider instance: configuration only, updated in place, id kept."""

    replace_keys = frozenset()
    # pulumi-terraform-bridge pkg/tfbridge/provider.go configDiffer.DiffConfig: inputDiff true.
    input_diff = True

    def create(self, res: ResourceView) -> tuple[str, dict[str, Any]]:
        return str(uuid.uuid4()), dict(res.inputs)

    def update(self, res: ResourceView, old: ResourceState) -> dict[str, Any]:
        return dict(res.inputs)

    def delete(self, old: ResourceState) -> None:
        return None


class Registry:
    """Maps a type token to its handler; owns the run's shared connections."""

    def __init__(self, ctx: HandlerContext) -> None:
        self.ctx = ctx
        self.docker = DockerConnections()
        self._handlers: dict[str, Handler] = {
            "command:remote:Command": RemoteCommandHandler(ctx),
            "docker:index/network:Network": NetworkHandler(ctx, self.docker),
            "docker:index/service:Service": ServiceHandler(ctx, self.docker),
            "docker:index/container:Container": ContainerHandler(ctx, self.docker),
            "docker:index/secret:Secret": SecretHandler(ctx, self.docker),
        }
        self._provider = PulumiProviderHandler(ctx)

    def handler(self, type_: str) -> Handler:
        if type_.startswith(PROVIDER_PREFIX):
            if type_[len(PROVIDER_PREFIX) :] not in SUPPORTED_PROVIDERS:
                raise ProviderError(f"the engine double has no provider for {type_!r}")
            return self._provider
        handler = self._handlers.get(type_)
        if handler is None:
            known = ", ".join(sorted(self._handlers))
            raise ProviderError(
                f"the engine double cannot apply resource type {type_!r} (it knows: {known})"
            )
        return handler

    def close(self) -> None:
        self.docker.close()


__all__ = [
    "PROVIDER_PREFIX",
    "HandlerContext",
    "ProviderConfigs",
    "ProviderError",
    "Registry",
    "ResourceView",
]
