"""Swarm membership: init on the leader, the join of every other node, roles and name labels,
join tokens (and their rotation) on the control manager."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
from pulumi_command import remote

from federation.config.model import NodeSettings
from federation.scripts import render
from federation.ssh import SshAccess, host_port

SWARM_PORT = 2377
JOIN_TOKENS = "swarm-join-tokens"
AUTOLOCK = "swarm-autolock"
CERT_EXPIRY = "swarm-cert-expiry"
CA_ROTATION = "swarm-ca-rotation"
# Docker's node certificate lifetime (swarmkit ca.DefaultNodeCertExpiration, 90 days).
DEFAULT_CERT_EXPIRY = "2160h0m0s"


@dataclass(frozen=True)
class SwarmArgs:
    leader: NodeSettings
    # Every other node, in stack order: each joins the leader's swarm.
    joining_nodes: list[NodeSettings]
    ssh: SshAccess
    # The manager Pulumi talks to (node commands, tokens, autolock).
    control: NodeSettings
    # Every manager, in stack order: a join offers all of them.
    managers: list[NodeSettings]
    # swarm.joinTokenRotation: each change rotates both join tokens.
    token_rotation: str | None
    # swarm.autolock: None leaves autolock alone (and turns it off when the key is removed).
    autolock: bool | None
    # swarm.certExpiry as Docker prints it (e.g. 2160h0m0s); None leaves it alone.
    cert_expiry: str | None
    # swarm.caRotation: each change rotates the swarm's root CA.
    ca_rotation: str | None
    # Node name -> the images its tasks will run: its init or join pulls them in the background.
    # Both run once per node and ignore later changes to their script (`ignore_changes`), so an
    # image bump or a new manager never runs them again (a service update pulls its new image).
    images: dict[str, list[str]]


def manager_addrs(control: NodeSettings, managers: list[NodeSettings]) -> list[str]:
    """Every manager's swarm address, the control manager's first: Docker's SwarmJoin dials
    only RemoteAddrs[0], and learns the others from it."""
    ordered = [control, *(m for m in managers if m.name != control.name)]
    return [host_port(m.swarm_addr, SWARM_PORT) for m in ordered]


def join_request(node: NodeSettings, remote_addrs: list[str], token: str) -> str:
    """The Docker API SwarmJoin body for `node`; it holds the token, so it is only ever stdin."""
    return json.dumps(
        {
            "ListenAddr": f"0.0.0.0:{SWARM_PORT}",
            "AdvertiseAddr": node.swarm_addr,
            "RemoteAddrs": remote_addrs,
            "JoinToken": token,
        }
    )


class Swarm(pulumi.ComponentResource):
    """The federation swarm.

    `node_labels[alias]` is the command on the control manager that gives that node its role and
    `name` label: anything placed on a node depends on it. Its delete drains and removes the
    node, and the join's delete (which runs after it) makes the host leave.

    The join tokens come from `swarm-join-tokens` on the control manager, which rotates them first
    when swarm.joinTokenRotation changes (its `triggers`: a change replaces it, so its create
    runs again; a connection change runs its update, which only reads them). A join's stdin is
    ignored once the node has joined (`ignore_changes`): a rotation, or a new control manager
    first in RemoteAddrs, never runs a join again on a member. swarm.caRotation works the same
    way on `swarm-ca-rotation`; swarm.certExpiry is `swarm-cert-expiry`.
    """

    swarm_id: pulumi.Output[str]
    node_labels: dict[str, remote.Command]
    unlock_key: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: SwarmArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mip-federation:index:Swarm", name, None, opts)
        leader, ssh = args.leader, args.ssh
        control, managers = args.control, args.managers

        init = remote.Command(
            "swarm-init",
            connection=ssh.connection(leader),
            create=render(
                "swarm_init",
                NODE=leader.name,
                ADVERTISE_ADDR=leader.swarm_addr,
                IMAGES=" ".join(args.images.get(leader.name, [])),
            ),
            delete=render("leave", NODE=leader.name),
            logging=remote.Logging.NONE,
            # Secret although the script prints only ids: an older stack's stored stdout holds
            # the join tokens, and a create that never runs again never rewrites it.
            opts=pulumi.ResourceOptions(
                parent=self, additional_secret_outputs=["stdout"], ignore_changes=["create"]
            ),
        )
        init_stdout: pulumi.Output[str] = pulumi.Output.secret(init.stdout)
        info: pulumi.Output[dict[str, str]] = init_stdout.apply(json.loads)
        self.swarm_id = pulumi.Output.unsecret(info.apply(lambda i: i["swarmId"]))
        node_ids = {leader.name: pulumi.Output.unsecret(info.apply(lambda i: i["nodeId"]))}

        rotate = "yes" if args.token_rotation is not None else "no"
        tokens_command = remote.Command(
            JOIN_TOKENS,
            connection=ssh.connection(control),
            create=render("join_tokens", NODE=control.name, ROTATE=rotate),
            update=render("join_tokens", NODE=control.name, ROTATE="no"),
            triggers=[args.token_rotation or ""],
            logging=remote.Logging.NONE,
            opts=pulumi.ResourceOptions(
                parent=self, additional_secret_outputs=["stdout"], depends_on=[init]
            ),
        )
        tokens_stdout: pulumi.Output[str] = pulumi.Output.secret(tokens_command.stdout)
        current: pulumi.Output[dict[str, str]] = tokens_stdout.apply(json.loads)
        tokens = {
            "worker": current.apply(lambda t: t["workerToken"]),
            "manager": current.apply(lambda t: t["managerToken"]),
        }

        # The request offers the control manager first (Docker dials it); the script's list is
        # in stack order, so switching swarm.controlManager changes no join's command.
        addrs = manager_addrs(control, managers)
        addr_list = " ".join(host_port(m.swarm_addr, SWARM_PORT) for m in managers)
        for node in args.joining_nodes:
            request = tokens[node.role].apply(
                lambda token, n=node: join_request(n, addrs, token)  # type: ignore[misc]
            )
            join = remote.Command(
                f"join-{node.name}",
                connection=ssh.connection(node),
                create=render(
                    "join",
                    NODE=node.name,
                    MANAGER_ADDRS=addr_list,
                    IMAGES=" ".join(args.images.get(node.name, [])),
                ),
                delete=render("leave", NODE=node.name),
                stdin=pulumi.Output.secret(request),  # type: ignore[arg-type]
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["stdin", "create"]),
            )
            node_ids[node.name] = join.stdout.apply(str.strip)

        self.node_labels = {
            node.name: self._node_command(node, node_ids[node.name], leader, control, ssh)
            for node in [leader, *args.joining_nodes]
        }

        self.unlock_key = (
            self._autolock(args.autolock, control, ssh) if args.autolock is not None else None
        )
        members: list[pulumi.Resource] = list(self.node_labels.values())
        if args.cert_expiry is not None:
            members.append(self._cert_expiry(args.cert_expiry, control, ssh, members))
        if args.ca_rotation is not None:
            self._ca_rotation(args.ca_rotation, control, ssh, members)
        self.register_outputs({"swarmId": self.swarm_id})

    def _cert_expiry(
        self, expiry: str, control: NodeSettings, ssh: SshAccess, members: list[pulumi.Resource]
    ) -> remote.Command:
        """swarm.certExpiry on the control manager; removed from the stack (the delete), the
        lifetime goes back to Docker's default."""
        return remote.Command(
            CERT_EXPIRY,
            connection=ssh.connection(control),
            create=render("cert_expiry", NODE=control.name, EXPIRY=expiry),
            delete=render("cert_expiry", NODE=control.name, EXPIRY=DEFAULT_CERT_EXPIRY),
            opts=pulumi.ResourceOptions(parent=self, depends_on=members),
        )

    def _ca_rotation(
        self, rotation: str, control: NodeSettings, ssh: SshAccess, after: list[pulumi.Resource]
    ) -> None:
        """swarm.caRotation on the control manager, as the join tokens' rotation: the text is
        the trigger (a change replaces the command, so its create rotates again), and a
        connection change runs the update, which only checks the manager. After the certificate
        lifetime, so the new certificates have it."""
        remote.Command(
            CA_ROTATION,
            connection=ssh.connection(control),
            create=render("ca_rotate", NODE=control.name, ROTATE="yes"),
            update=render("ca_rotate", NODE=control.name, ROTATE="no"),
            triggers=[rotation],
            opts=pulumi.ResourceOptions(parent=self, depends_on=after),
        )

    def _autolock(
        self, enable: bool, control: NodeSettings, ssh: SshAccess
    ) -> pulumi.Output[str] | None:
        """swarm.autolock on the control manager: on prints the unlock key (secret, never logged);
        off, or the key removed from the stack (the delete), turns autolock off."""
        command = remote.Command(
            AUTOLOCK,
            connection=ssh.connection(control),
            create=render("autolock", NODE=control.name, AUTOLOCK="true" if enable else "false"),
            delete=render("autolock", NODE=control.name, AUTOLOCK="false"),
            logging=remote.Logging.NONE,
            opts=pulumi.ResourceOptions(
                parent=self,
                additional_secret_outputs=["stdout"],
                depends_on=list(self.node_labels.values()),
            ),
        )
        if not enable:
            return None
        stdout: pulumi.Output[str] = pulumi.Output.secret(command.stdout)
        return stdout.apply(str.strip)

    def _node_command(
        self,
        node: NodeSettings,
        node_id: pulumi.Output[str],
        leader: NodeSettings,
        control: NodeSettings,
        ssh: SshAccess,
    ) -> remote.Command:
        keep = "yes" if node is leader else "no"
        availability = "drain" if node.maintenance else "active"

        def create(nid: str) -> str:
            return render(
                "node_set", NODE=node.name, NODE_ID=nid, ROLE=node.role, AVAILABILITY=availability
            )

        def delete(nid: str) -> str:
            return render("node_remove", NODE=node.name, NODE_ID=nid, KEEP_NODE=keep)

        return remote.Command(
            f"node-{node.name}",
            connection=ssh.connection(control),
            create=node_id.apply(create),
            delete=node_id.apply(delete),
            opts=pulumi.ResourceOptions(parent=self),
        )
