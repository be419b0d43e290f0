"""Exareme on the swarm: the Consul keystore and the master on the leader, a worker per node.

Services use DNS round-robin endpoints: each runs one task, and the keystore is reached by name
(`exareme-keystore:8500`) without needing an IPVS virtual IP.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from federation.config.model import EXAREME_OVERLAY, ExaremeSettings, NodeSettings
from federation.scripts import render

KEYSTORE_SERVICE = "exareme-keystore"
KEYSTORE_PORT = 8500
MASTER_SERVICE = "exareme-master"
# The keystore binds to its overlay address: a swarm task also has a docker_gwbridge address, and
# Consul refuses to start with two private IPv4 addresses and no -bind.
KEYSTORE_ARGS = [
    "agent",
    "-server",
    "-bootstrap",
    "-client=0.0.0.0",
    f'-bind={{{{ GetAllInterfaces | include "network" "{EXAREME_OVERLAY}" | attr "address" }}}}',
]


def go_duration(nanoseconds: int) -> str:
    """Go's time.Duration.String(): `5s`, `2m0s`, `1h0m5s`, `1.5s`, `500ms`."""
    if nanoseconds == 0:
        return "0s"
    sign, ns = ("-" if nanoseconds < 0 else ""), abs(nanoseconds)

    def fraction(value: int, unit: int) -> str:
        whole, rest = divmod(value, unit)
        digits = str(rest).rjust(len(str(unit)) - 1, "0").rstrip("0")
        return f"{whole}.{digits}" if digits else str(whole)

    if ns < 1_000:
        return f"{sign}{ns}ns"
    if ns < 1_000_000:
        return f"{sign}{fraction(ns, 1_000)}µs"
    if ns < 1_000_000_000:
        return f"{sign}{fraction(ns, 1_000_000)}ms"
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    text = f"{fraction(rest, 1_000_000_000)}s"
    if hours or minutes:
        text = f"{minutes}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return sign + text


def short_duration(seconds: float) -> str:
    """A duration as the docker provider's Read stores it (its `shortDur`).

    Read turns the daemon's nanoseconds back into Go's Duration.String() with a trailing `0s`
    and then `0m` dropped: `120s` reads back as `2m`, `3600s` as `1h`. A duration sent in any
    other form is a diff on every later `pulumi up`.
    """
    text = go_duration(round(seconds * 1_000_000_000))
    if text.endswith("m0s"):
        text = text[:-2]
    if text.endswith("h0m"):
        text = text[:-2]
    return text


# On failure, after 5 s, with no limit on the attempts: once a task's restarts are used up,
# swarmkit shuts the slot down until the service is updated, so a hospital whose worker failed a
# few times in a row would stay offline. Attempts and window are sent as Docker stores "no limit"
# (0, window "0s"): left unset, the window reads back as "0s" and every `pulumi up` would update it.
RESTART_POLICY = docker.ServiceTaskSpecRestartPolicyArgs(
    condition="on-failure",
    delay=short_duration(5),
    max_attempts=0,
    window=short_duration(0),
)
# Set by Docker, not by the program: service create resolves the image on the registry
# (QueryRegistry) and stores the platforms the image is built for in the placement. The provider
# reads them back; without this, every later `pulumi up` would try to remove them.
IGNORE_CHANGES = ["taskSpec.placement.platforms"]
# How many workers the master waits for before it answers: read only at the federation's first
# bootstrap. Later a worker that finds active workers in the keystore joins the running
# federation, and a restarted master re-reads them (the image's bootstrap.sh), so an added,
# removed or drained hospital leaves the master's service, and its task, alone.
WORKERS_WAIT = "EXA_WORKERS_WAIT"
MASTER_IGNORE_CHANGES = [*IGNORE_CHANGES, f"taskSpec.containerSpec.env.{WORKERS_WAIT}"]


# A service delete (terraform-provider-docker's deleteService) waits for each task container on
# the provider's daemon to be removed for at most stop_grace_period, counted from the service's
# removal, and fails the run when it is not. After a catchable stop signal swarm only kills a task
# that ignores it once that same period is over, so such a task always outlasts the wait. SIGKILL
# cannot be ignored: the task goes at once, and the period is left for its removal.
STOP_SIGNAL = "SIGKILL"
STOP_GRACE_PERIOD = "20s"

# Each node's LDSM password is a swarm secret mounted into that node's Exareme task only (root
# may read it; a relative name lands under /run/secrets). The task's command reads it into
# RAWPASSWORD and execs the image's own start, so no service env or container config holds it.
LDSM_FILE_NAME = "ldsm-password"
LDSM_FILE_MODE = 0o400
START_COMMAND = [
    "/bin/sh",
    "-c",
    render("exareme_start", PASSWORD_FILE=f"/run/secrets/{LDSM_FILE_NAME}"),
]


def worker_service_name(alias: str) -> str:
    return f"exareme-worker-{alias}"


def password_secret_name(alias: str) -> str:
    """The Pulumi name of a node's password secret. The provider auto-names the swarm secret
    `<this>-<7 random hex>` and draws a new suffix when a password change replaces it: swarm
    secrets are immutable, and the new one is created (and the service moved to it) before the
    old one is removed. The name says nothing about the password."""
    return f"ldsm-{alias}"


@dataclass(frozen=True)
class ExaremeArgs:
    settings: ExaremeSettings
    leader: NodeSettings
    # Every node but the leader: each runs a worker.
    non_leaders: list[NodeSettings]
    ldsm_passwords: dict[str, pulumi.Output[str]]
    network_id: pulumi.Output[str]
    provider: docker.Provider
    node_ready: dict[str, pulumi.Resource]


class Exareme(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ExaremeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mip-federation:index:Exareme", name, None, opts)
        self._args = args
        leader = args.leader
        common = {"CONSULURL": f"{KEYSTORE_SERVICE}:{KEYSTORE_PORT}", "MODE": "global"}

        self.keystore = self._service(
            KEYSTORE_SERVICE,
            node=leader,
            image=args.settings.keystore_image,
            env={},
            container_args=KEYSTORE_ARGS,
        )
        master_env = {
            **common,
            "MASTER_FLAG": "master",
            "NODE_NAME": leader.name,
            WORKERS_WAIT: str(sum(not node.maintenance for node in args.non_leaders)),
        }
        # Per node, the service whose task runs there: the master on the leader, else its worker.
        self.services: dict[str, docker.Service] = {}
        self.services[leader.name] = self._service(
            MASTER_SERVICE,
            node=leader,
            image=args.settings.image,
            env={**master_env, **self._raw_env(leader), **args.settings.env},
            published_port=args.settings.port,
            password=self._password_secret(leader),
            ignore_changes=MASTER_IGNORE_CHANGES,
        )
        for node in args.non_leaders:
            worker_env = {**common, "NODE_NAME": node.name}
            self.services[node.name] = self._service(
                worker_service_name(node.name),
                node=node,
                image=args.settings.image,
                env={**worker_env, **self._raw_env(node), **args.settings.env},
                password=self._password_secret(node),
            )
        self.register_outputs({})

    def _password_secret(self, node: NodeSettings) -> docker.Secret:
        """The node's LDSM password as a swarm secret (empty only in a preview that has none:
        load_config refuses that for `pulumi up`)."""
        password = self._args.ldsm_passwords.get(node.name, pulumi.Output.secret(""))
        return docker.Secret(
            password_secret_name(node.name),
            data=password.apply(lambda text: base64.b64encode(text.encode()).decode()),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=self._args.provider,
                depends_on=[self._args.node_ready[node.name]],
            ),
        )

    def _raw_env(self, node: NodeSettings) -> dict[str, pulumi.Input[str]]:
        """RAW* but RAWPASSWORD, which START_COMMAND reads from the node's secret."""
        ldsm = node.ldsm
        return {
            "RAWUSERNAME": ldsm.user,
            "RAWHOST": ldsm.host or node.swarm_addr,
            "RAWPORT": str(ldsm.port),
            "RAWDB": ldsm.database,
            "RAWENDPOINT": "query",
            "RAWRESULTS": "all",
            "RAWDATAKEY": "output",
        }

    def _service(
        self,
        service_name: str,
        *,
        node: NodeSettings,
        image: str,
        env: dict[str, pulumi.Input[str]],
        container_args: list[str] | None = None,
        published_port: int | None = None,
        password: docker.Secret | None = None,
        ignore_changes: list[str] = IGNORE_CHANGES,
    ) -> docker.Service:
        args = self._args
        ports = (
            [
                docker.ServiceEndpointSpecPortArgs(
                    target_port=published_port,
                    published_port=published_port,
                    publish_mode="host",
                    protocol="tcp",
                )
            ]
            if published_port is not None
            else None
        )
        # Replicated, one task: what Docker does by default, and what the provider reads back.
        # Derived from the network's id so that `mode` (a field that forces a replacement)
        # depends on the network: when the network is replaced (delete-before-replace, its name
        # is fixed), Pulumi asks the provider whether each service must go too, with the inputs
        # that come from the network unknown. An unknown task spec (which holds the network's id)
        # is only an update to the provider, and Docker refuses to delete a network a service
        # uses; an unknown mode is a replacement, so the services are deleted first.
        mode = args.network_id.apply(
            lambda _: docker.ServiceModeArgs(
                replicated=docker.ServiceModeReplicatedArgs(replicas=1)
            )
        )
        return docker.Service(
            service_name,
            name=service_name,
            mode=mode,
            task_spec=docker.ServiceTaskSpecArgs(
                container_spec=docker.ServiceTaskSpecContainerSpecArgs(
                    image=image,
                    env=env,
                    args=container_args,
                    commands=START_COMMAND if password is not None else None,
                    secrets=(
                        [
                            docker.ServiceTaskSpecContainerSpecSecretArgs(
                                secret_id=password.id,
                                secret_name=password.name,
                                file_name=LDSM_FILE_NAME,
                                file_mode=LDSM_FILE_MODE,
                            )
                        ]
                        if password is not None
                        else None
                    ),
                    # With a grace period the provider's delete waits (up to it) for the task's
                    # containers on the leader and removes them; without it the leader's copy of
                    # a replaced network outlives its delete, and the new one's create fails
                    # with "network with name mip-federation already exists".
                    stop_signal=STOP_SIGNAL,
                    stop_grace_period=STOP_GRACE_PERIOD,
                ),
                placement=docker.ServiceTaskSpecPlacementArgs(
                    constraints=[
                        f"node.role == {node.role}",
                        f"node.labels.name == {node.name}",
                    ]
                ),
                restart_policy=RESTART_POLICY,
                networks_advanceds=[
                    docker.ServiceTaskSpecNetworksAdvancedArgs(
                        id=args.network_id, aliases=[service_name]
                    )
                ],
            ),
            endpoint_spec=docker.ServiceEndpointSpecArgs(mode="dnsrr", ports=ports),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                depends_on=[args.node_ready[node.name]],
                ignore_changes=ignore_changes,
                # The name is fixed (other services and the spec reach it by that DNS name), and
                # name, mode, auth, the network attachment (id, aliases), hosts and sysctl force a
                # replacement: created first, the new service would collide with the old one's
                # name. Delete the old one first (its task stops for a moment either way).
                delete_before_replace=True,
            ),
        )
