"""The master's query port, closed on the leader to all but the portal and `exareme.allowFrom`.

The master publishes its port in host mode, on every address of the leader, and `/mining/query`
answers without authentication. `scripts/firewall.sh` keeps a chain of the program's own in
Docker's DOCKER-USER chain (IPv4) and in INPUT (IPv6, where dockerd's userland proxy answers):
connections from the listed sources return to Docker's rules, every other connection to the
port is reset. The portal, a container on the leader's engine, reaches the port through dockerd's
userland proxy and is not filtered. Why this mechanism, and what a reboot does: docs/security.md.

The command runs when created and again when the port or the list change (`update`); `delete`
removes the chain. The master's service depends on it, so its port is never published unfiltered
by a deploy. remote.Command has no Read: a rule lost since (a host reboot) is not seen by
`pulumi up`; `python -m federation.doctor STACK` reports it as drift.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
from pulumi_command import remote

from federation.config import NodeSettings
from federation.scripts import render
from federation.ssh import SshAccess

CHAIN = "MIP-FEDERATION-QUERY"
FIREWALL_COMMAND = "query-port-firewall"


def split_families(allow_from: list[str]) -> tuple[list[str], list[str]]:
    """The validated sources (CIDR form), IPv4 and IPv6 apart."""
    networks = [ipaddress.ip_network(source) for source in allow_from]
    return (
        [str(n) for n in networks if n.version == 4],
        [str(n) for n in networks if n.version == 6],
    )


def apply_script(node: NodeSettings, port: int, allow_from: list[str]) -> str:
    allow4, allow6 = split_families(allow_from)
    return render(
        "firewall",
        NODE=node.name,
        CHAIN=CHAIN,
        PORT=str(port),
        ALLOW4=" ".join(allow4),
        ALLOW6=" ".join(allow6),
    )


def remove_script() -> str:
    return render("firewall_remove", CHAIN=CHAIN)


def check_script() -> str:
    return render("firewall_check", CHAIN=CHAIN)


def expected_rules(port: int, allow_from: list[str], ipv6: bool = True) -> list[str]:
    """What firewall_check.sh prints once firewall.sh has run (`iptables -S` lines)."""
    allow4, allow6 = split_families(allow_from)
    lines = [f"4 -N {CHAIN}"]
    lines += [f"4 -A {CHAIN} -s {source} -j RETURN" for source in allow4]
    lines += [
        f"4 -A {CHAIN} -p tcp -m conntrack --ctstate DNAT --ctorigdstport {port} "
        "-j REJECT --reject-with tcp-reset",
        "4 jump yes",
    ]
    if not ipv6:
        return [*lines, "6 inactive"]
    lines += [f"6 -N {CHAIN}", f"6 -A {CHAIN} -i lo -j RETURN"]
    lines += [f"6 -A {CHAIN} -s {source} -j RETURN" for source in allow6]
    lines += [
        f"6 -A {CHAIN} -p tcp -m tcp --dport {port} -j REJECT --reject-with tcp-reset",
        "6 jump yes",
    ]
    return lines


@dataclass(frozen=True)
class FirewallArgs:
    leader: NodeSettings
    ssh: SshAccess
    port: int
    allow_from: list[str]
    """Validated sources in CIDR form (config `exareme.allowFrom`)."""
    node_ready: pulumi.Resource
    """What makes the leader a swarm node (dockerd runs there with its DOCKER-USER chain)."""


class QueryPortFirewall(pulumi.ComponentResource):
    """The `query-port-firewall` command on the leader."""

    command: remote.Command

    def __init__(
        self, name: str, args: FirewallArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mip-federation:index:QueryPortFirewall", name, None, opts)
        script = apply_script(args.leader, args.port, args.allow_from)
        self.command = remote.Command(
            FIREWALL_COMMAND,
            connection=args.ssh.connection(args.leader),
            create=script,
            update=script,
            delete=remove_script(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.node_ready]),
        )
        self.register_outputs({})
