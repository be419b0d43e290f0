"""The one federation every tool deploys: nodes, network and services, as plain data.

It restates what the program creates (federation/exareme.py, federation/network.py) with the
lab stack's settings, so the Ansible playbook and the manual script are handed exactly the same
names, images, environment, constraints, ports and restart policy, and the end-state check knows
what to expect on the hosts. The portal (a container outside the swarm) is not part of the
compared end state: the program is deployed with `portal.enabled: false`.

The program deploys it with the trust boundary the 2018 tools lack (`Federation.as_the_program
_deploys`): each LDSM password a swarm secret read by the task's start command instead of
RAWPASSWORD in the service's env, a network that is not attachable, and the master's
EXA_WORKERS_WAIT set at the first bootstrap and left alone by an add or a remove. The end-state
check expects each tool's own shape; everything else is the same for every tool.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from federation import exareme
from tests.lab import Lab

PREFIX = "mipb"
SUBNET = "10.231.3"
STACK = "bench"

NETWORK = "mip-federation"
NETWORK_SUBNET = "10.20.30.0/24"
NETWORK_GATEWAY = "10.20.30.254"
KEYSTORE = "exareme-keystore"
MASTER = "exareme-master"
EXAREME_IMAGE = "hbpmip/exareme:v5"
# The upgrade's new image: a second tag the lab registry serves for the Exareme stand-in (the same
# content, so a host fetches its manifest and no layer; a real upgrade also pulls).
UPGRADE_IMAGE = "hbpmip/exareme:v6"
KEYSTORE_IMAGE = "hashicorp/consul:1.15.4"
# The keystore's arguments are the program's (federation/exareme.py): the other tools are handed
# the same list (the manual script as shell-quoted words, the playbook as unsafe strings, since a
# Consul go-sockaddr template looks like Jinja).
KEYSTORE_ARGS = tuple(exareme.KEYSTORE_ARGS)
EXAREME_PORT = 9090
PASSWORDS_KEY = "mip-federation:ldsmPasswords"  # a secret in the stack config
# The program's restart policy (federation/exareme.py): no limit on the attempts, no window.
RESTART = {"condition": "on-failure", "delay": "5s", "max_attempts": 0, "window": "0s"}


@dataclass(frozen=True)
class Node:
    alias: str
    ip: str
    hostname: str  # the lab host's name, which is its swarm hostname
    role: str  # manager | worker


@dataclass(frozen=True)
class Service:
    name: str
    node: Node
    image: str
    env: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    port: int | None = None
    command: tuple[str, ...] = ()

    @property
    def constraints(self) -> tuple[str, ...]:
        return (f"node.role == {self.node.role}", f"node.labels.name == {self.node.alias}")


def ldsm_password(alias: str) -> str:
    """Each node's LDSM password (the Exareme image exits at start when RAWPASSWORD is empty)."""
    return f"ldsm-pw-{alias}"


def aliases(workers: int) -> list[str]:
    """Node names: the central hub, then one per hospital."""
    return ["hub", *(f"hosp{i}" for i in range(1, workers + 1))]


@dataclass(frozen=True)
class Federation:
    nodes: tuple[Node, ...]
    exareme_image: str = EXAREME_IMAGE  # the master's and the workers' image
    # The program's trust boundary: passwords as swarm secrets, a network not attachable.
    trust_boundary: bool = False
    # EXA_WORKERS_WAIT when it is not the current number of workers (the program's, after an
    # add or a remove: the count of its first bootstrap).
    bootstrap_workers: int | None = None

    def as_the_program_deploys(self, first: Federation) -> Federation:
        """What the program runs for this federation once `first` was its first deploy."""
        return replace(self, trust_boundary=True, bootstrap_workers=len(first.workers))

    def upgraded(self, image: str = UPGRADE_IMAGE) -> Federation:
        """The same federation with the Exareme services on `image`."""
        return replace(self, exareme_image=image)

    @classmethod
    def on_lab(cls, lab: Lab, workers: int) -> Federation:
        nodes = tuple(
            Node(alias, host.ip, host.name, "manager" if i == 0 else "worker")
            for i, (alias, host) in enumerate(zip(aliases(workers), lab.hosts, strict=False))
        )
        if len(nodes) != workers + 1:
            raise RuntimeError(f"the lab has {len(lab.hosts)} hosts, {workers + 1} are needed")
        return cls(nodes)

    @property
    def leader(self) -> Node:
        return self.nodes[0]

    @property
    def workers(self) -> tuple[Node, ...]:
        return self.nodes[1:]

    def _raw_env(self, node: Node) -> dict[str, str]:
        password = {} if self.trust_boundary else {"RAWPASSWORD": ldsm_password(node.alias)}
        return {
            "RAWUSERNAME": "ldsm",
            **password,
            "RAWHOST": node.ip,
            "RAWPORT": "31555",
            "RAWDB": "ldsm",
            "RAWENDPOINT": "query",
            "RAWRESULTS": "all",
            "RAWDATAKEY": "output",
        }

    @property
    def _exareme_command(self) -> tuple[str, ...]:
        """The program's start command reads the password's secret; the 2018 tools keep the
        image's own."""
        return tuple(exareme.START_COMMAND) if self.trust_boundary else ()

    @property
    def services(self) -> tuple[Service, ...]:
        common = {"CONSULURL": f"{KEYSTORE}:8500", "MODE": "global"}
        leader = self.leader
        master_env = {
            **common,
            "MASTER_FLAG": "master",
            "NODE_NAME": leader.alias,
            "EXA_WORKERS_WAIT": str(
                len(self.workers) if self.bootstrap_workers is None else self.bootstrap_workers
            ),
            **self._raw_env(leader),
        }
        return (
            Service(KEYSTORE, leader, KEYSTORE_IMAGE, args=KEYSTORE_ARGS),
            Service(
                MASTER,
                leader,
                self.exareme_image,
                env=master_env,
                port=EXAREME_PORT,
                command=self._exareme_command,
            ),
            *(
                Service(
                    f"exareme-worker-{node.alias}",
                    node,
                    self.exareme_image,
                    env={**common, "NODE_NAME": node.alias, **self._raw_env(node)},
                    command=self._exareme_command,
                )
                for node in self.workers
            ),
        )

    def stack_config(self, lab: Lab) -> dict[str, Any]:
        """The program's stack config (full `mip-federation:` keys) for these nodes."""
        document = lab.stack_config([n.alias for n in self.nodes], managers=1, encrypted=False)
        config: dict[str, Any] = dict(document["config"])
        config["mip-federation:network"] = {
            "name": NETWORK,
            "subnet": NETWORK_SUBNET,
            "gateway": NETWORK_GATEWAY,
            "encrypted": False,
        }
        # Pinned to the lab registry's digests, as Docker pins them at service create (the
        # provider's QueryRegistry): a plain tag would read back pinned and make every later
        # `up` an update. The end state compares the image without its digest.
        # The lab's allowFrom stays: the bench's poller asks the master from the lab's bridge.
        config["mip-federation:exareme"] = {
            **config.get("mip-federation:exareme", {}),
            "image": lab.image_ref(self.exareme_image),
            "keystoreImage": lab.image_ref(KEYSTORE_IMAGE),
            "port": EXAREME_PORT,
        }
        config["mip-federation:portal"] = {"enabled": False}
        config[PASSWORDS_KEY] = {n.alias: ldsm_password(n.alias) for n in self.nodes}
        return config
