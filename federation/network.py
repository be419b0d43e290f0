"""The `mip-federation` overlay network, created on the leader."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from federation.config.model import NetworkSettings

VXLAN_ID_OPTION = "com.docker.network.driver.overlay.vxlanid_list"
MTU_OPTION = "com.docker.network.driver.mtu"


def network_options(settings: NetworkSettings) -> dict[str, str]:
    """The driver options, exactly as `docker network inspect` reports them back.

    The provider's Read stores the daemon's whole Options map, and `options` forces a
    replacement when it differs from the program's: so the program sends what the daemon will
    report. For a swarm overlay that is the VXLAN id (which Docker adds, auto-assigned, when it
    is not given) and `encrypted` with the value it was given (`--opt encrypted` would store "").
    The MTU is the links' MTU: the overlay driver takes the VXLAN and ESP headers off it.
    """
    options = {VXLAN_ID_OPTION: str(settings.vxlan_id)}
    if settings.encrypted:
        options["encrypted"] = "true"
    if settings.mtu is not None:
        options[MTU_OPTION] = str(settings.mtu)
    return options


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
            # Only the federation's own services join it: an attachable overlay would let anyone
            # with Docker access on any node `docker run --network` into every hospital's Exareme
            # (sshd with the image's baked key) and the keystore (docs/security.md).
            attachable=False,
            options=network_options(settings),
            ipam_configs=[
                docker.NetworkIpamConfigArgs(
                    subnet=str(settings.subnet),
                    ip_range=str(settings.subnet),
                    gateway=str(settings.gateway),
                )
            ],
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                depends_on=[args.swarm],
                # Every field of a network forces a replacement, and its name is fixed (the
                # services and the spec use it): created first, the new network would collide
                # with the old one's name. Pulumi deletes the services on it first, then
                # recreates them on the new network.
                delete_before_replace=True,
            ),
        )
        self.network_id = network.id
        self.register_outputs({"networkId": self.network_id})
