"""The Federation Web Portal backend: a container on the leader's engine, outside the swarm."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from federation.config.model import PortalSettings

PORTAL_CONTAINER = "mip-federation-portal"
PORTAL_INTERNAL_PORT = 8080


@dataclass(frozen=True)
class PortalArgs:
    settings: PortalSettings
    exareme_url: str
    provider: docker.Provider
    exareme: pulumi.Resource


class Portal(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: PortalArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mip-federation:index:Portal", name, None, opts)
        settings = args.settings
        env = {**settings.env, "EXAREME_URL": args.exareme_url}
        docker.Container(
            "portal-backend",
            name=PORTAL_CONTAINER,
            image=settings.image,
            envs=[f"{key}={value}" for key, value in sorted(env.items())],
            ports=[docker.ContainerPortArgs(internal=PORTAL_INTERNAL_PORT, external=settings.port)],
            restart="unless-stopped",
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                depends_on=[args.exareme],
                # A container created whose start failed (its port taken) is kept in the state
                # with init errors, and the next `up` would only run an empty update that starts
                # nothing. Replacing on any change replaces it instead (the engine's
                # `#initerror` replace key); its fixed name needs the old one gone first.
                replace_on_changes=["*"],
                delete_before_replace=True,
            ),
        )
        self.register_outputs({})
