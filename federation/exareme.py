"""Exareme on the swarm: the Consul keystore and the master on the leader, a worker per node.

Reference: the 2018 docker-compose-manager.yml / docker-compose-worker.yml of
HBPMedical/mip-federation. Services use DNS round-robin endpoints: each runs one task, and the
keystore is reached by name (`exareme-keystore:8500`) without needing an IPVS virtual IP.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from federation.config import ExaremeSettings, NodeSettings

KEYSTORE_SERVICE = "exareme-keystore"
KEYSTORE_PORT = 8500
MASTER_SERVICE = "exareme-master"
KEYSTORE_ARGS = ["agent", "-server", "-bootstrap", "-client=0.0.0.0"]
RESTART_POLICY = docker.ServiceTaskSpecRestartPolicyArgs(
    condition="on-failure", delay="5s", max_attempts=3, window="120s"
)


def worker_service_name(alias: str) -> str:
    return f"exareme-worker-{alias}"


@dataclass(frozen=True)
class ExaremeArgs:
    settings: ExaremeSettings
    leader: NodeSettings
    followers: list[NodeSettings]
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

        self._service(
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
            "EXA_WORKERS_WAIT": str(len(args.followers)),
        }
        self._service(
            MASTER_SERVICE,
            node=leader,
            image=args.settings.image,
            env={**master_env, **self._raw_env(leader), **args.settings.env},
            published_port=args.settings.port,
        )
        for node in args.followers:
            worker_env = {**common, "NODE_NAME": node.name}
            self._service(
                worker_service_name(node.name),
                node=node,
                image=args.settings.image,
                env={**worker_env, **self._raw_env(node), **args.settings.env},
            )
        self.register_outputs({})

    def _raw_env(self, node: NodeSettings) -> dict[str, pulumi.Input[str]]:
        ldsm = node.ldsm
        password = self._args.ldsm_passwords.get(node.name)
        if password is None:
            pulumi.log.warn(
                f"ldsmPasswords.{node.name}: not set; RAWPASSWORD will be empty "
                f"(pulumi config set --secret --path 'ldsmPasswords.{node.name}' ...)"
            )
        return {
            "RAWUSERNAME": ldsm.user,
            "RAWPASSWORD": password if password is not None else "",
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
        return docker.Service(
            service_name,
            name=service_name,
            task_spec=docker.ServiceTaskSpecArgs(
                container_spec=docker.ServiceTaskSpecContainerSpecArgs(
                    image=image, env=env, args=container_args
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
            ),
        )
