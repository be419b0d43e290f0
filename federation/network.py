"""The `mip-federation` overlay network, created on the leader."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from federation.config import NetworkSettings


@dataclass(frozen=True)
class NetworkArgs:
    settings: NetworkSettings
    provider: docker.Provider
    swarm: pulumi.Resource


class FederationNetwork(pulumi.ComponentResource):
    network_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mip-federation:index:Network", name, None, opts)
        settings = args.settings
        network = docker.Network(
            "overlay-network",
            name=settings.name,
            driver="overlay",
            attachable=True,
            # `--opt encrypted` is stored by Docker as {"encrypted": ""}.
            options={"encrypted": ""} if settings.encrypted else None,
            ipam_configs=[
                docker.NetworkIpamConfigArgs(
                    subnet=str(settings.subnet),
                    ip_range=str(settings.subnet),
                    gateway=str(settings.gateway),
                )
            ],
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=[args.swarm]
            ),
        )
        self.network_id = network.id
        self.register_outputs({"networkId": self.network_id})
