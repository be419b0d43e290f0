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


def join_request(node: NodeSettings, leader: NodeSettings, token: str) -> str:
    """The Docker API SwarmJoin body for `node`; it holds the token, so it is only ever stdin."""
    return json.dumps(
        {
            "ListenAddr": f"0.0.0.0:{SWARM_PORT}",
            "AdvertiseAddr": node.swarm_addr,
            "RemoteAddrs": [host_port(leader.swarm_addr, SWARM_PORT)],
            "JoinToken": token,
        }
    )


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

        init = remote.Command(
            "swarm-init",
            connection=ssh.connection(leader),
            create=render("swarm_init", NODE=leader.name, ADVERTISE_ADDR=leader.swarm_addr),
            delete=render("leave", NODE=leader.name),
            logging=remote.Logging.NONE,
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["stdout"]),
        )
        stdout: pulumi.Output[str] = pulumi.Output.secret(init.stdout)
        info: pulumi.Output[dict[str, str]] = stdout.apply(json.loads)
        self.swarm_id = pulumi.Output.unsecret(info.apply(lambda i: i["swarmId"]))
        tokens = {
            "worker": info.apply(lambda i: i["workerToken"]),
            "manager": info.apply(lambda i: i["managerToken"]),
        }
        node_ids = {leader.name: pulumi.Output.unsecret(info.apply(lambda i: i["nodeId"]))}

        for node in args.followers:
            request = tokens[node.role].apply(
                lambda token, n=node: join_request(n, leader, token)  # type: ignore[misc]
            )
            join = remote.Command(
                f"join-{node.name}",
                connection=ssh.connection(node),
                create=render("join", NODE=node.name, LEADER_ADDR=leader.swarm_addr),
                delete=render("leave", NODE=node.name),
                stdin=pulumi.Output.secret(request),  # type: ignore[arg-type]
                opts=pulumi.ResourceOptions(parent=self),
            )
            node_ids[node.name] = join.stdout.apply(str.strip)

        self.nodes = {
            node.name: self._node_command(node, node_ids[node.name], leader, ssh)
            for node in [leader, *args.followers]
        }
        self.register_outputs({"swarmId": self.swarm_id})

    def _node_command(
        self,
        node: NodeSettings,
        node_id: pulumi.Output[str],
        leader: NodeSettings,
        ssh: SshAccess,
    ) -> remote.Command:
        keep = "yes" if node is leader else "no"

        def create(nid: str) -> str:
            return render("node_set", NODE=node.name, NODE_ID=nid, ROLE=node.role)

        def delete(nid: str) -> str:
            return render("node_remove", NODE=node.name, NODE_ID=nid, KEEP_NODE=keep)

        return remote.Command(
            f"node-{node.name}",
            connection=ssh.connection(leader),
            create=node_id.apply(create),
            delete=node_id.apply(delete),
            opts=pulumi.ResourceOptions(parent=self),
        )
