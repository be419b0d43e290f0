"""The whole federation: swarm, network, Exareme and portal, wired to one leader-side provider."""

from __future__ import annotations

import pulumi

from federation.config.model import FederationConfig
from federation.exareme import Exareme, ExaremeArgs
from federation.firewall import FirewallArgs, QueryPortFirewall
from federation.network import FederationNetwork, NetworkArgs
from federation.portal import Portal, PortalArgs
from federation.probe import DataPlaneProbe, ProbeArgs
from federation.ssh import SshAccess, host_port
from federation.swarm import Swarm, SwarmArgs


class Federation(pulumi.ComponentResource):
    leader_address: str
    swarm_id: pulumi.Output[str]
    exareme_url: str
    portal_url: str | None
    nodes: list[dict[str, str]]
    unlock_key: pulumi.Output[str] | None

    def __init__(
        self, name: str, config: FederationConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # First: a `pulumi up` without a usable SSH agent stops before any resource exists.
        ssh = SshAccess.from_config(config)
        super().__init__("mip-federation:index:Federation", name, None, opts)
        settings = config.settings
        leader = settings.leader
        control = settings.control_manager
        # A preview without the key file keeps the stored key (SshAccess.keep_stored_key); the
        # transformation reaches every command through the components' parent chain.
        keep_key: list[pulumi.ResourceTransformation] | None = (
            [ssh.keep_stored_key] if ssh.key_pending else None
        )
        child = pulumi.ResourceOptions(parent=self, transformations=keep_key)

        # What each node's tasks (and its overlay probe) will run, pulled while the rest is set up.
        node_images = [settings.exareme.image, settings.exareme.keystore_image]
        leader_images = node_images + ([settings.portal.image] if settings.portal.enabled else [])
        images = {node.name: node_images for node in settings.non_leaders}
        images[leader.name] = leader_images
        swarm = Swarm(
            "swarm",
            SwarmArgs(
                leader,
                settings.non_leaders,
                ssh,
                control=control,
                managers=settings.managers,
                token_rotation=settings.swarm.join_token_rotation,
                autolock=settings.swarm.autolock,
                cert_expiry=settings.swarm.cert_expiry,
                ca_rotation=settings.swarm.ca_rotation,
                images=images,
            ),
            child,
        )
        # The swarm's objects (network, services) through the control manager. One provider
        # resource whatever the manager: a change of swarm.controlManager changes its host, an
        # in-place update of the provider that keeps its id, so no service is replaced
        # (docs/operations.md, "Losing the lead manager"). Its name stays `leader-docker`: a
        # rename would be a new provider.
        leader_docker = ssh.docker_provider("leader-docker", control, child)
        network = FederationNetwork(
            "network",
            NetworkArgs(settings.network, leader_docker, swarm.node_labels[leader.name]),
            child,
        )
        # The master's query port, closed but to the portal and exareme.allowFrom
        # (federation/firewall.py); the leader's services wait for it, so that the port is never
        # published unfiltered.
        firewall = QueryPortFirewall(
            "query-port",
            FirewallArgs(
                leader=leader,
                ssh=ssh,
                port=settings.exareme.port,
                allow_from=settings.exareme.allow_from,
                node_ready=swarm.node_labels[leader.name],
            ),
            child,
        )
        exareme = Exareme(
            "exareme",
            ExaremeArgs(
                settings=settings.exareme,
                leader=leader,
                non_leaders=settings.non_leaders,
                ldsm_passwords=config.ldsm_passwords,
                network_id=network.network_id,
                provider=leader_docker,
                node_ready={**swarm.node_labels, leader.name: firewall.command},
            ),
            child,
        )
        # Every node proves the overlay carries its traffic to the keystore (federation/probe.py).
        DataPlaneProbe(
            "probe",
            ProbeArgs(
                leader=leader,
                non_leaders=settings.non_leaders,
                ssh=ssh,
                network=settings.network,
                image=settings.exareme.keystore_image,
                node_ready=dict(swarm.node_labels),
                overlay_ready=[network, exareme.keystore],
                services=exareme.services,
            ),
            child,
        )

        self.leader_address = leader.swarm_addr
        self.swarm_id = swarm.swarm_id
        self.unlock_key = swarm.unlock_key
        self.exareme_url = (
            f"http://{host_port(leader.swarm_addr, settings.exareme.port)}/mining/query"
        )
        self.portal_url = None
        if settings.portal.enabled:
            # The portal is a container on the leader's own engine, outside the swarm: its
            # provider stays on the leader whichever manager controls the swarm.
            portal_docker = ssh.docker_provider("portal-docker", leader, child)
            Portal(
                "portal",
                PortalArgs(settings.portal, self.exareme_url, portal_docker, exareme),
                child,
            )
            self.portal_url = f"http://{host_port(leader.swarm_addr, settings.portal.port)}/"
        self.nodes = [{"name": n.name, "role": n.role, "host": n.host} for n in settings.nodes]
        self.register_outputs(
            {
                "leaderAddress": self.leader_address,
                "swarmId": self.swarm_id,
                "exaremeUrl": self.exareme_url,
                "portalUrl": self.portal_url,
                "nodes": self.nodes,
            }
        )
