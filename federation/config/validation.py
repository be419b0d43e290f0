"""Validation of the raw stack configuration: every problem collected and reported together, each
naming its config path and the fix. Secret values are never echoed in a message."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from typing import Any, TypeVar, Union, get_args, get_origin

import pulumi
from pydantic import BaseModel, ValidationError

from federation.config.images import has_digest, is_floating_tag
from federation.config.model import (
    VXLAN_ID_AUTO_START,
    ExaremeSettings,
    NetworkSettings,
    NodeSettings,
    PortalSettings,
    SshSettings,
    StackSettings,
    SwarmSettings,
    is_ip,
)
from federation.samples import sample_problems
from policy.guardrails.stacks import is_prod

SECRET_KEYS = ("sshPrivateKey", "ldsmPasswords")
ALLOWED_MANAGER_COUNTS = (1, 3, 5, 7)


class ConfigError(pulumi.RunError):
    """The stack configuration is invalid; the message lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"invalid stack configuration ({len(problems)} problem(s)); "
            f"nothing was changed:\n{lines}"
        )


_M = TypeVar("_M", bound=BaseModel)


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that holds the key at loc[-1], to list its known keys."""
    model: Any = StackSettings
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = next(
            (f for n, f in model.model_fields.items() if part in (n, f.alias)),
            None,
        )
        if field is None:
            return None
        model = field.annotation
        while get_origin(model) in (list, Union) or str(get_origin(model)) == "types.UnionType":
            model = next(a for a in get_args(model) if a is not type(None))
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _describe(error: Any) -> str:
    loc = tuple(error["loc"])
    path = _path(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        model = _model_at(loc)
        known = sorted(f.alias or n for n, f in model.model_fields.items()) if model else []
        guess = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean {guess[0]!r}? " if guess else ""
        return f"{path}: unknown key; {hint}remove it or use one of: {', '.join(known)}"
    if kind == "missing":
        return f"{path}: is required; add it to the stack configuration"
    if kind == "literal_error":
        return f"{path}: {error['msg'].lower()}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind.endswith(("_type", "_parsing")):
        message = f"{message[:1].lower()}{message[1:]}; fix the value's type in the stack file"
    return f"{path}: {message}"


@dataclass
class _Parsed:
    """What validated of each top-level key (None where it did not), for the cross-field checks."""

    raw: dict[str, Any]
    nodes: list[NodeSettings | None]
    ssh: SshSettings | None
    network: NetworkSettings | None
    exareme: ExaremeSettings | None
    portal: PortalSettings | None
    swarm: SwarmSettings | None


def _parse_fields(raw: dict[str, Any]) -> tuple[_Parsed, list[str]]:
    problems: list[str] = []

    def parse(model: type[_M], value: Any, loc: tuple[Any, ...]) -> _M | None:
        try:
            return model.model_validate(value)
        except ValidationError as error:
            for e in error.errors(include_input=False, include_url=False):
                e["loc"] = loc + tuple(e["loc"])
                problems.append(_describe(e))
            return None

    nodes: list[NodeSettings | None] = []
    if isinstance(raw.get("nodes"), list):
        nodes = [parse(NodeSettings, n, ("nodes", i)) for i, n in enumerate(raw["nodes"])]
    parsed = _Parsed(
        raw=raw,
        nodes=nodes,
        ssh=parse(SshSettings, raw.get("ssh", {}), ("ssh",)),
        network=parse(NetworkSettings, raw.get("network", {}), ("network",)),
        exareme=parse(ExaremeSettings, raw.get("exareme", {}), ("exareme",)),
        portal=parse(PortalSettings, raw.get("portal", {}), ("portal",)),
        swarm=parse(SwarmSettings, raw.get("swarm", {}), ("swarm",)),
    )
    try:
        StackSettings.model_validate(raw)
    except ValidationError as error:
        for e in error.errors(include_input=False, include_url=False):
            message = _describe(e)
            if e["loc"][0] not in ("ssh", "network", "exareme", "portal", "swarm") and not (
                e["loc"][0] == "nodes" and len(e["loc"]) > 2
            ):
                problems.append(message)
    return parsed, problems


def _node_checks(nodes: list[NodeSettings | None], ssh_port: int) -> list[str]:
    problems: list[str] = []
    valid = [n for n in nodes if n is not None]
    managers = [n for n in valid if n.role == "manager"]
    if not nodes:
        problems.append("nodes: is empty; add at least one node with role: manager")
    elif len(valid) == len(nodes) and not managers:
        problems.append("nodes: no node has role: manager; make the first (central) node a manager")
    elif len(valid) == len(nodes) and len(managers) not in ALLOWED_MANAGER_COUNTS:
        problems.append(
            f"nodes: {len(managers)} managers; a swarm needs an odd number of managers "
            f"(one of {', '.join(map(str, ALLOWED_MANAGER_COUNTS))}) to keep quorum; "
            "add or remove a manager"
        )
    if managers and len(valid) == len(nodes) and managers[0].maintenance:
        problems.append(
            f"nodes[{nodes.index(managers[0])}].maintenance: {managers[0].name!r} is the leader "
            "(the first manager): it runs the Exareme master and keystore, so draining it would "
            "take the whole federation down; set maintenance: false"
        )
    seen_names: dict[str, int] = {}
    seen_hosts: dict[str, int] = {}
    seen_addrs: dict[str, int] = {}
    for i, node in enumerate(nodes):
        if node is None:
            continue
        if node.name in seen_names:
            problems.append(
                f"nodes[{i}].name: {node.name!r} is already used by "
                f"nodes[{seen_names[node.name]}]; node names must be unique"
            )
        seen_names.setdefault(node.name, i)
        endpoint = f"{node.host.lower()}:{ssh_port}"
        if endpoint in seen_hosts:
            problems.append(
                f"nodes[{i}].host: {endpoint} is already used by nodes[{seen_hosts[endpoint]}]; "
                "each node needs its own SSH host:port"
            )
            continue
        seen_hosts[endpoint] = i
        if node.advertise_addr is None and not is_ip(node.host):
            problems.append(
                f"nodes[{i}].advertiseAddr: required because host {node.host!r} is a DNS name; "
                "set it to the IP address the other nodes reach this node on"
            )
            continue
        addr = node.swarm_addr
        if addr in seen_addrs:
            problems.append(
                f"nodes[{i}].advertiseAddr: {addr} is already advertised by "
                f"nodes[{seen_addrs[addr]}]; each node needs its own swarm address"
            )
        seen_addrs.setdefault(addr, i)
    return problems


def _swarm_checks(parsed: _Parsed) -> list[str]:
    name = parsed.swarm.control_manager if parsed.swarm is not None else None
    if name is None or not parsed.nodes or any(n is None for n in parsed.nodes):
        return []
    managers = [n.name for n in parsed.nodes if n is not None and n.role == "manager"]
    node = next((n for n in parsed.nodes if n is not None and n.name == name), None)
    if node is None:
        return [
            f"swarm.controlManager: no node is named {name!r}; name one of the managers "
            f"({', '.join(managers)}) or remove the key to use the first manager"
        ]
    if node.role != "manager":
        return [
            f"swarm.controlManager: {name!r} is a worker; only a manager can manage the swarm, "
            f"name one of the managers ({', '.join(managers)})"
        ]
    return []


KEY_FILE_MISSING = (
    "file {path!r} does not exist here; give the path of the SSH private key on the machine "
    "that runs pulumi, or remove ssh.privateKeyFile and log in through the SSH agent (ssh-add)"
)
TWO_KEY_SOURCES = (
    "ssh.privateKeyFile: set at most one of ssh.privateKeyFile or the secret sshPrivateKey; "
    "with neither, Pulumi logs in through the SSH agent (ssh-add the key), which keeps the key "
    "out of the stack and its state"
)


def _secret_checks(
    parsed: _Parsed, secret_keys: set[str], preview: bool = False, passwords: bool = False
) -> list[str]:
    """Key source and secrets. Without a key source Pulumi logs in through the SSH agent
    (federation/ssh.py). During a preview, what `pulumi up` needs but a preview does not (the key
    file, with `passwords` the LDSM passwords) is reported as a warning; `pulumi up` fails on it."""
    problems: list[str] = []
    raw = parsed.raw
    has_file = parsed.ssh is not None and parsed.ssh.private_key_file is not None
    has_file = has_file or "privateKeyFile" in (raw.get("ssh") or {})
    if has_file and "sshPrivateKey" in raw:
        problems.append(TWO_KEY_SOURCES)
    key_file = parsed.ssh.private_key_file if parsed.ssh is not None else None
    if key_file is not None and not os.path.isfile(os.path.expanduser(key_file)):
        message = f"ssh.privateKeyFile: {KEY_FILE_MISSING.format(path=key_file)}"
        if preview:
            pulumi.log.warn(f"{message}; pulumi up will fail until it exists")
        else:
            problems.append(message)
    for key in SECRET_KEYS:
        if key in raw and key not in secret_keys:
            problems.append(
                f"{key}: is stored in plain text; remove it and set it again with "
                f"pulumi config set --secret {key} ..."
            )
    given = raw.get("ldsmPasswords")
    nodes_valid = bool(parsed.nodes) and all(n is not None for n in parsed.nodes)
    if isinstance(given, dict) and nodes_valid:
        names = {n.get("name") for n in raw["nodes"] if isinstance(n, dict)}
        for alias in given:
            if alias not in names:
                problems.append(
                    f"ldsmPasswords.{alias}: no node is named {alias!r}; "
                    "remove the entry or fix the name to match nodes[].name"
                )
    if passwords and nodes_valid:
        problems += _missing_passwords(raw, given, preview)
    return problems


def _missing_passwords(raw: dict[str, Any], passwords: Any, preview: bool) -> list[str]:
    """Every node runs an Exareme task (the master on the leader, else a worker), and the image
    exits at start without its RAWPASSWORD: `pulumi up` refuses a node without one."""
    given = passwords if isinstance(passwords, dict) else {}
    problems = []
    for name in (n.get("name") for n in raw["nodes"] if isinstance(n, dict)):
        if given.get(name):
            continue
        message = (
            f"ldsmPasswords.{name}: not set or empty; node {name}'s Exareme exits at start "
            f"without it: pulumi config set --secret --path 'ldsmPasswords.{name}' PASSWORD"
        )
        if preview:
            pulumi.log.warn(f"{message} (pulumi up will fail until it is set)")
        else:
            problems.append(message)
    return problems


def _sample_values(parsed: _Parsed) -> list[str]:
    """The sample stack's documentation addresses and made-up digests (federation/samples.py)."""
    hosts: list[tuple[str, str]] = []
    for i, node in enumerate(parsed.nodes):
        if node is not None:
            hosts.append((f"nodes[{i}].host", node.host))
            if node.advertise_addr is not None:
                hosts.append((f"nodes[{i}].advertiseAddr", node.advertise_addr))
            if node.ldsm.host is not None:
                hosts.append((f"nodes[{i}].ldsm.host", node.ldsm.host))
    images: list[tuple[str, str]] = []
    if parsed.exareme is not None:
        images += [
            ("exareme.image", parsed.exareme.image),
            ("exareme.keystoreImage", parsed.exareme.keystore_image),
        ]
    if parsed.portal is not None:
        images.append(("portal.image", parsed.portal.image))
    return sample_problems(hosts, images)


def _service_checks(parsed: _Parsed, stack: str) -> list[str]:
    problems: list[str] = []
    net = parsed.network
    if net is not None and (
        net.gateway not in net.subnet
        or net.gateway in (net.subnet.network_address, net.subnet.broadcast_address)
    ):
        problems.append(
            f"network.gateway: {net.gateway} is not a usable address of network.subnet "
            f"{net.subnet}; pick a host address inside the subnet, e.g. "
            f"{net.subnet.broadcast_address - 1}"
        )
    if net is not None and net.vxlan_id < VXLAN_ID_AUTO_START:
        pulumi.log.warn(
            f"network.vxlanId: {net.vxlan_id} is below {VXLAN_ID_AUTO_START}; Linux nodes accept "
            "it, but Windows nodes do not support VNIs that overlap 802.1Q VLAN IDs"
        )
    strict = is_prod(stack)
    images = []
    if parsed.exareme is not None:
        images = [
            ("exareme.image", parsed.exareme.image),
            ("exareme.keystoreImage", parsed.exareme.keystore_image),
        ]
    for field, image in images:
        # Service create asks Docker to resolve the tag on the registry (QueryRegistry): the
        # daemon stores `image:tag@sha256:...`, the provider reads that back, and the next
        # `pulumi up` sees the program's `image:tag` as a change and updates the service.
        if not has_digest(image):
            if strict:
                problems.append(
                    f"{field}: {image!r} has no digest; the {stack} stack requires one, as in "
                    f"'{image}@sha256:<64 hex>' (Docker pins the digest it resolves at create, "
                    "so without one the next pulumi up updates the service and restarts its "
                    f"tasks); get it with 'docker buildx imagetools inspect {image}' (its Digest "
                    "line) or, where the image was pulled, "
                    f"docker inspect --format '{{{{index .RepoDigests 0}}}}' {image}"
                )
            else:
                pulumi.log.warn(
                    f"{field}: {image!r} has no digest; when the registry answers, Docker pins "
                    "the digest it resolves at create, and the second pulumi up updates the "
                    "service back to the tag and restarts its tasks; pin "
                    "repository:tag@sha256:<digest> (docker buildx imagetools inspect IMAGE)"
                )
                if is_floating_tag(image):
                    pulumi.log.warn(
                        f"{field}: {image!r} has no fixed tag (untagged or :latest); "
                        "pin a version tag or a sha256 digest"
                    )
    if parsed.portal is not None and is_floating_tag(parsed.portal.image):
        pulumi.log.warn(f"portal.image: {parsed.portal.image!r} has no fixed tag; pin a version")
    return problems


def validate(
    raw: dict[str, Any],
    stack: str,
    secret_keys: set[str],
    preview: bool = False,
    passwords: bool = False,
    allow_samples: bool = False,
) -> StackSettings:
    """Validate raw config values (keys without namespace); raise ConfigError with every problem.

    With `passwords` (the program; the doctor reads stack files without them), every node needs
    its LDSM password. With `preview`, what only `pulumi up` needs (the SSH key, the passwords,
    a prod stack without the sample stack's values) is a warning, not a problem; `allow_samples`
    makes the sample values a warning too (for tools that apply nothing).
    """
    parsed, problems = _parse_fields(raw)
    ssh_port = parsed.ssh.port if parsed.ssh is not None else 22
    if isinstance(raw.get("nodes"), list):
        problems += _node_checks(parsed.nodes, ssh_port)
        problems += _swarm_checks(parsed)
    problems += _secret_checks(parsed, secret_keys, preview, passwords)
    problems += _service_checks(parsed, stack)
    if is_prod(stack):
        if preview or allow_samples:
            for problem in _sample_values(parsed):
                pulumi.log.warn(f"{problem} (pulumi up refuses it)")
        else:
            problems += _sample_values(parsed)
    if problems:
        raise ConfigError(problems)
    return StackSettings.model_validate(raw)
