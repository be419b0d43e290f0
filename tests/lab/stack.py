"""The Pulumi stack configuration (namespace mip-federation) that points the program at a lab."""

import secrets
from collections.abc import Sequence
from typing import Any

import yaml

from . import keys
from .host import Host, LabError
from .paths import CLIENT_KEY

NAMESPACE = "mip-federation"
# Image settings of the stack (section, key) -> the stand-in for it (the program's defaults).
IMAGES = {
    ("exareme", "image"): "hbpmip/exareme:v5",
    ("exareme", "keystoreImage"): "hashicorp/consul:1.15.4",
    ("portal", "image"): "hbpmip/portal-backend:2.5.4",
}


def stack_config(
    hosts: Sequence[Host],
    names: Sequence[str],
    managers: int,
    encrypted: bool,
    images: dict[tuple[str, str], str],
    allow_from: Sequence[str] = (),
) -> dict[str, Any]:
    """Nodes `names`, in order on `hosts`; the first `managers` are managers, the rest workers.
    `images`: (section, key) -> image reference, e.g. ("exareme", "image") -> pinned reference.
    `allow_from`: `exareme.allowFrom`, the sources besides the portal the master's port answers."""
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
    for (section, key), image in images.items():
        config.setdefault(f"{NAMESPACE}:{section}", {})[key] = image
    if allow_from:
        config.setdefault(f"{NAMESPACE}:exareme", {})["allowFrom"] = list(allow_from)
    return {"config": config}


def ldsm_secrets(names: Sequence[str], existing: dict[str, Any] | None = None) -> dict[str, Any]:
    """A secrets file (for `deploy --secrets`) with an LDSM password per node, `existing`'s where
    it has one, a random one otherwise: the Exareme image exits at start when RAWPASSWORD is
    empty (tests/lab/README.md, bootstrap.sh)."""
    document = dict(existing or {})
    passwords = dict(document.get(f"{NAMESPACE}:ldsmPasswords") or {})
    for name in names:
        passwords.setdefault(name, secrets.token_urlsafe(16))
    document[f"{NAMESPACE}:ldsmPasswords"] = passwords
    return document


def to_yaml(stack: dict[str, Any], stack_name: str) -> str:
    header = f"# Pulumi.{stack_name}.yaml for the running local lab (python -m tests.lab stack)\n"
    return header + yaml.safe_dump(stack, sort_keys=False)
