"""The Pulumi stack configuration (namespace mip-federation) that points the program at a lab."""

from collections.abc import Sequence
from typing import Any

import yaml

from . import keys
from .host import Host, LabError
from .paths import CLIENT_KEY

NAMESPACE = "mip-federation"


def stack_config(
    hosts: Sequence[Host], names: Sequence[str], managers: int, encrypted: bool
) -> dict[str, Any]:
    """Nodes `names`, in order on `hosts`; the first `managers` are managers, the rest workers."""
    if not names or len(set(names)) != len(names) or not all(names):
        raise LabError(f"node names must be distinct and not empty: {list(names)}")
    if len(names) > len(hosts):
        raise LabError(f"{len(names)} node names but the lab has {len(hosts)} hosts")
    if not 1 <= managers <= len(names):
        raise LabError(f"managers must be between 1 and {len(names)}, not {managers}")
    nodes = [
        {
            "name": name,
            "host": host.ip,
            "role": "manager" if position < managers else "worker",
            "hostKey": keys.public_key(host.host_key_file),
        }
        for position, (name, host) in enumerate(zip(names, hosts, strict=False))
    ]
    config: dict[str, Any] = {
        f"{NAMESPACE}:ssh": {"user": "root", "port": 22, "privateKeyFile": str(CLIENT_KEY)},
        f"{NAMESPACE}:nodes": nodes,
    }
    if not encrypted:
        config[f"{NAMESPACE}:network"] = {"encrypted": False}
    return {"config": config}


def to_yaml(stack: dict[str, Any], stack_name: str) -> str:
    header = f"# Pulumi.{stack_name}.yaml for the running local lab (python -m tests.lab stack)\n"
    return header + yaml.safe_dump(stack, sort_keys=False)
