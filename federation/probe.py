"""Data-plane proof: from every node, a short-lived container on the overlay reaches the leader's
side (the keystore, `exareme-keystore:8500`, by its overlay DNS name and a TCP connection).

The swarm's control plane (TCP 2377) can be healthy while the overlay carries nothing: gossip
(TCP+UDP 7946), VXLAN (UDP 4789) and, on an encrypted overlay, ESP (IP protocol 50) are other
ports. So after its join, the network and the Exareme services, every node runs
`scripts/probe.sh` (a `probe-<node>` command over its own SSH connection): a container of the
keystore image (already pinned in the stack; busybox's sh, nslookup and nc) resolves the keystore
and connects to it, then is removed. It runs in the network namespace of the node's own Exareme
task (the master on the leader; `--network container:<task>`), the very path Exareme uses, once
that task runs; a node whose task does not run attaches the container to the (attachable) overlay
instead. Attaching costs a round trip to the managers and an endpoint gossiped to every node, on
attach and on removal: with all 30 probes of a 1+29 deploy attached, the federation worked 70 s
after the deploy's start instead of 39 s without probes on the lab. The leader's probe runs first
and waits for the keystore to answer; the others follow it. A failure fails `pulumi up`, naming the
node, its address and the likely port; `python -m federation.doctor STACK --probe` runs the same
script on every node and `scripts/probe_verdict.sh` on the leader, whose gossip peers tell a node
the leader's gossip lost (7946) from one whose VXLAN packets are dropped (4789, or ESP).

The probe runs when its node's command is created, not on every `up` (a second `up` stays all
`same`), nor when the SSH access, the image or the script change (`ignore_changes`): it is the
proof that an added node's overlay works. A failed probe is not stored, so the next `up` probes
again; `python -m federation.doctor STACK --probe` proves it again on demand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_command import remote

from federation.config.model import NetworkSettings, NodeSettings
from federation.exareme import (
    KEYSTORE_PORT,
    KEYSTORE_SERVICE,
    MASTER_SERVICE,
    worker_service_name,
)
from federation.scripts import render
from federation.ssh import SshAccess

TARGET = KEYSTORE_SERVICE
PORT = KEYSTORE_PORT
# Seconds a probe retries. The leader's waits for the keystore's task to start (its image may be
# pulled first); the others start once it answers and their own task runs. A node that just
# attached to the overlay learns the keystore's address by gossip within a few seconds, but at
# 1+29 on the lab, under a load of 20-26, one took more than 30 s.
LEADER_DEADLINE = 120
NODE_DEADLINE = 60
# Seconds a deploy's probe waits for its node's Exareme task to run, to share its network
# namespace: the services were just created, and a fresh host pulls and starts the task first (at
# 1+29 on the lab the last task ran 25-45 s after its service). The doctor's probe does not wait.
DEPLOY_TASK_WAIT = 120


def probe_script(
    node: NodeSettings,
    network: NetworkSettings,
    image: str,
    deadline: int,
    leader: NodeSettings,
    task_wait: int = 0,
) -> str:
    """probe.sh for `node`: prints `NODE ADDR STAGE DETAIL`, exits 20 naming the likely port.
    Its container shares the network namespace of the node's Exareme task (the master on the
    leader), waiting up to `task_wait` seconds for it to run; else it attaches to the network."""
    is_leader = node.name == leader.name
    return render(
        "probe",
        NODE=node.name,
        LEADER="yes" if is_leader else "no",
        LEADER_ADDR=leader.swarm_addr,
        NETWORK=network.name,
        ENCRYPTED="true" if network.encrypted else "false",
        IMAGE=image,
        INNER=render("probe_inner"),
        TARGET=TARGET,
        PORT=str(PORT),
        DEADLINE=str(deadline),
        SERVICE=MASTER_SERVICE if is_leader else worker_service_name(node.name),
        TASK_WAIT=str(task_wait),
    )


def verdict_script(
    leader: NodeSettings, network: NetworkSettings, results: list[str], samples: int = 5
) -> str:
    """probe_verdict.sh, run on the leader with every node's probe.sh line."""
    return render(
        "probe_verdict",
        LEADER=leader.name,
        NETWORK=network.name,
        ENCRYPTED="true" if network.encrypted else "false",
        TARGET=TARGET,
        PORT=str(PORT),
        RESULTS="\n".join(line.strip() for line in results if line.strip()),
        SAMPLES=str(samples),
    )


@dataclass(frozen=True)
class Verdict:
    node: str
    status: str  # ok, fail (naming the likely port), unknown (the leader's side does not answer)
    message: str


def parse_verdict(stdout: str) -> dict[str, Verdict]:
    """probe_verdict.sh's lines by node."""
    verdicts = {}
    for line in stdout.splitlines():
        node, _, rest = line.strip().partition(" ")
        status, _, message = rest.partition(" ")
        if node and status in ("ok", "fail", "unknown"):
            verdicts[node] = Verdict(node, status, message)
    return verdicts


@dataclass(frozen=True)
class ProbeArgs:
    leader: NodeSettings
    non_leaders: list[NodeSettings]
    ssh: SshAccess
    network: NetworkSettings
    image: str
    """An image the stack deploys, with busybox's sh, nslookup and nc: the keystore's."""
    node_ready: dict[str, pulumi.Resource]
    """Per node, what makes it a labelled member (its node command)."""
    overlay_ready: list[pulumi.Resource]
    """The network and the service the probe reaches (the keystore)."""
    services: Mapping[str, pulumi.Resource]
    """Per node, the Exareme service whose task the probe shares the network namespace of. Only
    that one: depending on every service (the Exareme component) made N probes depend on N
    services, a quadratic evaluation (16 ms per hospital at 500 against 8.5 at 30)."""


class DataPlaneProbe(pulumi.ComponentResource):
    """`probe-<node>` for every node: the leader's first, then the others in parallel."""

    def __init__(
        self, name: str, args: ProbeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mip-federation:index:Probe", name, None, opts)
        leader = args.leader

        def probe(node: NodeSettings, after: list[pulumi.Resource]) -> remote.Command:
            is_leader = node is leader
            deadline = LEADER_DEADLINE if is_leader else NODE_DEADLINE
            return remote.Command(
                f"probe-{node.name}",
                connection=args.ssh.connection(node),
                create=probe_script(
                    node, args.network, args.image, deadline, leader, DEPLOY_TASK_WAIT
                ),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[
                        args.node_ready[node.name],
                        *args.overlay_ready,
                        args.services[node.name],
                        *after,
                    ],
                    # A proof made once, when the node is added: a new SSH user or key, an image
                    # or a script change does not run it again on every node (the doctor's
                    # --probe does, on demand). A failed probe is not stored: the next up runs it.
                    ignore_changes=["connection", "create"],
                ),
            )

        first = probe(leader, [])
        self.probes = {leader.name: first}
        for node in args.non_leaders:
            self.probes[node.name] = probe(node, [first])
        self.register_outputs({})
