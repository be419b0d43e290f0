"""Swarm membership: init on the leader, the join of every other node, roles and name labels."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
from pulumi_command import remote

from federation.config import NodeSettings
from federation.scripts import render
from federation.ssh import SshAccess, host_port

SWARM_PORT = 2377


@dataclass(frozen=True)
class SwarmArgs:
    leader: NodeSettings
    followers: list[NodeSettings]
    ssh: SshAccess


class Swarm(pulumi.ComponentResource):
    """The federation swarm.

    `nodes[alias]` is the leader-side command that gives that node its role and `name` label:
    anything placed on a node depends on it. Its delete drains and removes the node, and the
    join's delete (which runs after it) makes the host leave.
    """

    swarm_id: pulumi.Output[str]
    nodes: dict[str, remote.Command]

    def __init__(
        self, name: str, args: SwarmArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mip-federation:index:Swarm", name, None, opts)
        leader, ssh = args.leader, args.ssh
        on_leader = ssh.connection(leader)

        init = remote.Command(
            "swarm-init",
            connection=on_leader,
            create=render("swarm_init", NODE=leader.name, ADVERTISE_ADDR=leader.swarm_addr),
            delete=render("leave", NODE=leader.name),
            logging=remote.Logging.NONE,
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["stdout"]),
        )
        info = pulumi.Output.secret(init.stdout).apply(json.loads)
        self.swarm_id = pulumi.Output.unsecret(info.apply(lambda i: str(i["swarmId"])))
        tokens = {
            "worker": info.apply(lambda i: str(i["workerToken"])),
            "manager": info.apply(lambda i: str(i["managerToken"])),
        }
        node_ids: dict[str, pulumi.Output[str]] = {
            leader.name: pulumi.Output.unsecret(info.apply(lambda i: str(i["nodeId"])))
        }

        for node in args.followers:
            join_request = tokens[node.role].apply(
                lambda token, node=node: json.dumps(
                    {
                        "ListenAddr": f"0.0.0.0:{SWARM_PORT}",
                        "AdvertiseAddr": node.swarm_addr,
                        "RemoteAddrs": [host_port(leader.swarm_addr, SWARM_PORT)],
                        "JoinToken": token,
                    }
                )
            )
            join = remote.Command(
                f"join-{node.name}",
                connection=ssh.connection(node),
                create=render("join", NODE=node.name, LEADER_ADDR=leader.swarm_addr),
                delete=render("leave", NODE=node.name),
                stdin=pulumi.Output.secret(join_request),
                opts=pulumi.ResourceOptions(parent=self),
            )
            node_ids[node.name] = join.stdout.apply(str.strip)

        self.nodes = {}
        for node in [leader, *args.followers]:
            keep = "yes" if node is leader else "no"
            node_id = node_ids[node.name]
            self.nodes[node.name] = remote.Command(
                f"node-{node.name}",
                connection=on_leader,
                create=node_id.apply(
                    lambda nid, node=node: render(
                        "node_set", NODE=node.name, NODE_ID=nid, ROLE=node.role
                    )
                ),
                delete=node_id.apply(
                    lambda nid, node=node, keep=keep: render(
                        "node_remove", NODE=node.name, NODE_ID=nid, KEEP_NODE=keep
                    )
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )

        self.register_outputs({"swarmId": self.swarm_id})
