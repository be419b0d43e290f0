"""Data-plane proof: from every node, a short-lived container in its Exareme task reaches the
leader's side (the keystore, `exareme-keystore:8500`, by its overlay DNS name and a TCP connection).

A healthy control plane (TCP 2377) says nothing about the overlay: gossip (7946), VXLAN (UDP 4789)
and ESP on an encrypted overlay are other ports. So each node runs `scripts/probe.sh` once, when it
is added, in the network namespace of its own Exareme task (the path Exareme uses). The overlay is
not attachable (federation/network.py), the probe's container included: a node whose task does not
run is reported as such, naming its service (stage `task`), which is the finding.
The leader's probe runs first: once the keystore answers there, a failure elsewhere is that
node's own, and `pulumi up` fails naming the node and the likely port. The doctor's `--probe`
runs the same script on demand.
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
# pulled first); a task that just joined the overlay learns the keystore's address by gossip,
# which on a loaded host can take tens of seconds.
LEADER_DEADLINE = 120
NODE_DEADLINE = 60
# Seconds a deploy's probe waits for its node's Exareme task to run, to share its network
# namespace: the services were just created, and a fresh host pulls and starts the task first.
# The doctor's probe does not wait.
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
    leader), waiting up to `task_wait` seconds for it to run; without one, it says so (`task`)."""
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
    that one: depending on every service would make the evaluation quadratic in the nodes."""


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
