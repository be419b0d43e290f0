"""Stack configuration: the user-facing contract, its defaults and its validation.

Every value a user puts in a stack file passes through this module before any resource exists.
Problems are collected and reported together, each naming its config path and the fix.
Secret values are never echoed in a message.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic.alias_generators import to_camel

NAMESPACE = "mip-federation"
SECRET_KEYS = ("sshPrivateKey", "ldsmPasswords")
ALLOWED_MANAGER_COUNTS = (1, 3, 5, 7)

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
HOSTNAME_LABEL_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
HOST_KEY_RE = re.compile(
    r"^(?P<type>[a-z0-9][a-z0-9@.-]{0,63}) "
    r"(?P<key>[A-Za-z0-9+/]+={0,3})(?: [A-Za-z0-9@._-]{1,64})?$"
)
# Host key types pulumi-command can pin. It dials a pinned key offering only that key's type as
# host-key algorithm, so a pinned `ssh-rsa` key offers SHA-1 `ssh-rsa`, which OpenSSH >= 8.8
# refuses (rsa-sha2-* is never offered): ssh-rsa is refused here, before anything dials.
HOST_KEY_TYPES = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
)
# VXLAN network identifiers (RFC 7348: 24 bits). Docker auto-assigns VNIs from 4096 upwards, in
# sequence (the ingress network gets 4096, the next overlay 4097, ...), and Windows nodes do not
# support VNIs below 4096 (they overlap 802.1Q VLAN IDs), so the default sits far above the
# sequence: only a swarm that had created millions of overlays could have auto-assigned it.
VXLAN_ID_MIN = 1
VXLAN_ID_MAX = (1 << 24) - 1
VXLAN_ID_AUTO_START = 4096
DEFAULT_VXLAN_ID = 10203000
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
LDSM_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,62}$")
NETWORK_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")
# Docker's reference grammar (distribution/reference), without the optional leading domain.
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_RE = re.compile(
    r"^(?:(?P<domain>(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?)/)?"
    rf"(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)

# Variables the program sets on Exareme containers; exareme.env may not override them.
EXAREME_RESERVED_ENV = frozenset(
    {
        "CONSULURL",
        "NODE_NAME",
        "MASTER_FLAG",
        "EXA_WORKERS_WAIT",
        "RAWUSERNAME",
        "RAWPASSWORD",
        "RAWHOST",
        "RAWPORT",
        "RAWDB",
        "RAWENDPOINT",
        "RAWRESULTS",
        "RAWDATAKEY",
        "MODE",
    }
)
PORTAL_RESERVED_ENV = frozenset({"EXAREME_URL"})


class ConfigError(pulumi.RunError):
    """The stack configuration is invalid; the message lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"invalid stack configuration ({len(problems)} problem(s)); "
            f"nothing was changed:\n{lines}"
        )


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_hostname(value: str) -> bool:
    if len(value) > 253 or value.endswith("."):
        return False
    labels = value.split(".")
    return all(HOSTNAME_LABEL_RE.match(label) for label in labels) and not labels[-1].isdigit()


def _check_port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise ValueError("must be a port number between 1 and 65535")
    return value


def _env_text(value: Any) -> Any:
    """An env value as the container gets it: `pulumi config set --path exareme.env.X 4` stores
    a number (and `true`/`false` a boolean), so numbers and booleans become their text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _coerce_env(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: _env_text(text) for name, text in value.items()}
    return value


def _check_env(value: dict[str, str], reserved: frozenset[str]) -> dict[str, str]:
    for name, text in value.items():
        if not ENV_NAME_RE.match(name):
            raise ValueError(
                f"variable name {name!r} is not a valid environment variable name "
                "(letters, digits and _, not starting with a digit)"
            )
        if name in reserved:
            raise ValueError(f"{name} is set by the program and cannot be overridden; remove it")
        if "\x00" in text:
            raise ValueError(f"value of {name} contains a NUL byte")
    return value


def image_problem(image: str) -> str | None:
    """Why an image reference is malformed, or None."""
    match = IMAGE_RE.match(image)
    domain = match.group("domain") if match else None
    # As in Docker, a first component is a registry only if it has a '.' or ':' or is localhost.
    if domain and not ("." in domain or ":" in domain or domain == "localhost"):
        match = None if domain.lower() != domain else match
    if match is None or len(image) > 255:
        return (
            "is not a valid image reference; use repository[:tag][@sha256:digest], "
            "e.g. hbpmip/exareme:v5"
        )
    return None


def is_floating_tag(image: str) -> bool:
    match = IMAGE_RE.match(image)
    if match is None or match.group("digest"):
        return False
    return match.group("tag") in (None, "latest")


def has_digest(image: str) -> bool:
    match = IMAGE_RE.match(image)
    return bool(match and match.group("digest"))


def is_strict(stack: str) -> bool:
    """Whether a stack gets production rules (prod, prod-*)."""
    return stack == "prod" or stack.startswith("prod-")


def _check_image(value: str) -> str:
    problem = image_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Port = Annotated[int, AfterValidator(_check_port)]
ImageRef = Annotated[str, AfterValidator(_check_image)]
ExaremeEnv = Annotated[
    dict[str, str],
    BeforeValidator(_coerce_env),
    AfterValidator(lambda env: _check_env(env, EXAREME_RESERVED_ENV)),
]
PortalEnv = Annotated[
    dict[str, str],
    BeforeValidator(_coerce_env),
    AfterValidator(lambda env: _check_env(env, PORTAL_RESERVED_ENV)),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, frozen=True)


class SshSettings(_Model):
    user: str = "root"
    port: Port = 22
    private_key_file: str | None = None

    @field_validator("user")
    @classmethod
    def _user(cls, value: str) -> str:
        if not USER_RE.match(value):
            raise ValueError(
                "must be a POSIX user name (lowercase letters, digits, _ and -), e.g. mipadmin"
            )
        return value

    @field_validator("private_key_file")
    @classmethod
    def _key_file(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value or any(ord(c) < 32 for c in value):
            raise ValueError("must be a file path without control characters")
        return value


class LdsmSettings(_Model):
    host: str | None = None
    port: Port = 31555
    database: str = "ldsm"
    user: str = "ldsm"

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is not None and not (is_ip(value) or is_hostname(value)):
            raise ValueError("must be an IP address or a DNS name (RFC 1123)")
        return value

    @field_validator("database", "user")
    @classmethod
    def _ident(cls, value: str) -> str:
        if not LDSM_IDENT_RE.match(value):
            raise ValueError("must be a database identifier (letters, digits, _ . -), e.g. ldsm")
        return value


class NodeSettings(_Model):
    name: str
    host: str
    role: Literal["manager", "worker"]
    advertise_addr: str | None = None
    host_key: str | None = None
    ldsm: LdsmSettings = Field(default_factory=LdsmSettings)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(
                "must be a lowercase DNS label: a letter, then up to 62 lowercase letters, "
                "digits or '-', e.g. chuv"
            )
        return value

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not (is_ip(value) or is_hostname(value)):
            raise ValueError("must be an IPv4/IPv6 address or a DNS name (RFC 1123)")
        return value

    @field_validator("advertise_addr")
    @classmethod
    def _advertise(cls, value: str | None) -> str | None:
        if value is not None and not is_ip(value):
            raise ValueError("must be an IP address (the address other nodes reach this one on)")
        return value

    @field_validator("host_key")
    @classmethod
    def _host_key(cls, value: str | None) -> str | None:
        if value is None:
            return None
        match = HOST_KEY_RE.match(value)
        if not match:
            raise ValueError(
                "must be an SSH public host key 'TYPE BASE64' as in known_hosts or "
                "/etc/ssh/ssh_host_ed25519_key.pub, e.g. 'ssh-ed25519 AAAAC3Nza...'"
            )
        key_type = match.group("type")
        how = (
            "pin the host's ed25519 key instead: 'ssh-keyscan -t ed25519 HOST' (drop the "
            "leading host name), or /etc/ssh/ssh_host_ed25519_key.pub on the host"
        )
        if key_type == "ssh-rsa":
            raise ValueError(
                "is an ssh-rsa key; pulumi-command would dial it offering only the SHA-1 "
                f"ssh-rsa signature, which OpenSSH >= 8.8 refuses; {how}"
            )
        if key_type not in HOST_KEY_TYPES:
            raise ValueError(
                f"has key type {key_type!r}; use one of {', '.join(HOST_KEY_TYPES)}; {how}"
            )
        return f"{key_type} {match.group('key')}"

    @property
    def swarm_addr(self) -> str:
        """The address the node advertises to the swarm (validated to be an IP)."""
        return self.advertise_addr or self.host


# Where the Exareme image looks for its overlay address (bootstrap.sh: the first address that
# ifconfig shows starting with 10.20).
EXAREME_OVERLAY = ipaddress.IPv4Network("10.20.0.0/16")


class NetworkSettings(_Model):
    name: str = "mip-federation"
    subnet: ipaddress.IPv4Network = ipaddress.IPv4Network("10.20.30.0/24")
    gateway: ipaddress.IPv4Address = ipaddress.IPv4Address("10.20.30.254")
    encrypted: bool = True
    vxlan_id: int = DEFAULT_VXLAN_ID

    @field_validator("vxlan_id", mode="before")
    @classmethod
    def _vxlan_id(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not VXLAN_ID_MIN <= value <= VXLAN_ID_MAX
        ):
            raise ValueError(
                f"must be a VXLAN id (VNI), an integer from {VXLAN_ID_MIN} to {VXLAN_ID_MAX}, "
                f"unused by any other overlay network of the swarm, e.g. {DEFAULT_VXLAN_ID} "
                "(the default)"
            )
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NETWORK_NAME_RE.match(value):
            raise ValueError("must be a Docker network name (letters, digits, _ . -)")
        return value

    @field_validator("subnet", mode="before")
    @classmethod
    def _subnet(cls, value: Any) -> Any:
        try:
            if "/" not in str(value):
                raise ValueError("no prefix length")
            network = ipaddress.IPv4Network(value, strict=True)
        except (ValueError, TypeError):
            raise ValueError(
                "must be an IPv4 network in CIDR form with no host bits set, e.g. 10.20.30.0/24"
            ) from None
        if not network.subnet_of(EXAREME_OVERLAY):
            raise ValueError(
                f"must lie inside {EXAREME_OVERLAY}: Exareme takes its overlay address to be the "
                "one starting with 10.20 (the image's bootstrap.sh), e.g. 10.20.30.0/24"
            )
        return value


class ExaremeSettings(_Model):
    image: ImageRef = "hbpmip/exareme:v5"
    keystore_image: ImageRef = "hashicorp/consul:1.15.4"
    port: Port = 9090
    env: ExaremeEnv = Field(default_factory=dict)


class PortalSettings(_Model):
    enabled: bool = True
    image: ImageRef = "hbpmip/portal-backend:2.5.4"
    port: Port = 8080
    env: PortalEnv = Field(default_factory=dict)


class SwarmSettings(_Model):
    """Swarm-wide operations: join-token rotation, autolock, the manager Pulumi talks to."""

    # Any text; each change rotates both join tokens on the control manager.
    join_token_rotation: str | None = None
    # None: not managed. True: managers start locked after a restart (unlock key = secret
    # output). False: autolock turned off (the setting removed turns it off too).
    autolock: bool | None = None
    # The manager that Pulumi (the docker provider, node commands) and the doctor talk to; by
    # default the first manager.
    control_manager: str | None = None

    @field_validator("join_token_rotation")
    @classmethod
    def _rotation(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or any(ord(c) < 32 for c in value)):
            raise ValueError(
                "must be a non-empty text on one line; change it (e.g. to today's date) to "
                "rotate the join tokens"
            )
        return value


class StackSettings(_Model):
    """Every key of the mip-federation namespace, with its default."""

    ssh: SshSettings = Field(default_factory=SshSettings)
    ssh_private_key: SecretStr | None = None
    nodes: list[NodeSettings]
    ldsm_passwords: dict[str, SecretStr] = Field(default_factory=dict)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    exareme: ExaremeSettings = Field(default_factory=ExaremeSettings)
    portal: PortalSettings = Field(default_factory=PortalSettings)
    swarm: SwarmSettings = Field(default_factory=SwarmSettings)


_M = TypeVar("_M", bound=BaseModel)


@dataclass(frozen=True)
class FederationConfig:
    """The validated configuration the components are built from."""

    stack: str
    settings: StackSettings
    ssh_private_key: pulumi.Output[str]
    ldsm_passwords: dict[str, pulumi.Output[str]]

    @property
    def nodes(self) -> list[NodeSettings]:
        return self.settings.nodes

    @property
    def leader(self) -> NodeSettings:
        return next(n for n in self.settings.nodes if n.role == "manager")

    @property
    def managers(self) -> list[NodeSettings]:
        """Every manager, in stack order (the leader first)."""
        return [n for n in self.settings.nodes if n.role == "manager"]

    @property
    def control_manager(self) -> NodeSettings:
        """The manager Pulumi and the doctor talk to: swarm.controlManager, else the leader."""
        name = self.settings.swarm.control_manager
        if name is None:
            return self.leader
        return next(n for n in self.settings.nodes if n.name == name)

    @property
    def followers(self) -> list[NodeSettings]:
        """Every node but the leader, in stack order."""
        return [n for n in self.settings.nodes if n is not self.leader]


# --- reading and validating -------------------------------------------------------------------


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
    "file {path!r} does not exist here; give the path of the SSH private key "
    "on the machine that runs pulumi, or use the secret mip-federation:sshPrivateKey"
)
NO_KEY_SOURCE = (
    "ssh.privateKeyFile: set exactly one of ssh.privateKeyFile or the secret "
    "sshPrivateKey (pulumi config set --secret sshPrivateKey < KEYFILE)"
)


def _secret_checks(parsed: _Parsed, secret_keys: set[str], preview: bool = False) -> list[str]:
    """Key source and secrets. During a preview, what `pulumi up` needs but a preview does not (the
    SSH key, its file) is reported as a warning; `pulumi up` fails on it."""
    problems: list[str] = []
    raw = parsed.raw
    has_file = parsed.ssh is not None and parsed.ssh.private_key_file is not None
    has_file = has_file or "privateKeyFile" in (raw.get("ssh") or {})
    if has_file and "sshPrivateKey" in raw:
        problems.append(NO_KEY_SOURCE)
    elif not has_file and "sshPrivateKey" not in raw:
        if preview:
            pulumi.log.warn(
                "sshPrivateKey: not set (nor ssh.privateKeyFile); the preview goes on without an "
                "SSH key, pulumi up will fail until one is set: pulumi config set --secret "
                "sshPrivateKey < KEYFILE (or pulumi config set --path ssh.privateKeyFile PATH)"
            )
        else:
            problems.append(NO_KEY_SOURCE)
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
    passwords = raw.get("ldsmPasswords")
    nodes_valid = bool(parsed.nodes) and all(n is not None for n in parsed.nodes)
    if isinstance(passwords, dict) and nodes_valid:
        names = {n.get("name") for n in raw["nodes"] if isinstance(n, dict)}
        for alias in passwords:
            if alias not in names:
                problems.append(
                    f"ldsmPasswords.{alias}: no node is named {alias!r}; "
                    "remove the entry or fix the name to match nodes[].name"
                )
    return problems


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
    if net is not None and not net.subnet.subnet_of(ipaddress.IPv4Network("10.20.0.0/16")):
        pulumi.log.warn(
            "network.subnet: outside 10.20.0.0/16; the hbpmip/exareme images find their overlay "
            "address with 'ifconfig | grep 10.20' and will not start"
        )
    if net is not None and net.vxlan_id < VXLAN_ID_AUTO_START:
        pulumi.log.warn(
            f"network.vxlanId: {net.vxlan_id} is below {VXLAN_ID_AUTO_START}; Linux nodes accept "
            "it, but Windows nodes do not support VNIs that overlap 802.1Q VLAN IDs"
        )
    strict = is_strict(stack)
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


# Pulumi.yaml declares these defaults (a declared key without one is mandatory), and the CLI writes
# a default into the stack's config when the key is absent: the program treats them as not set.
UNSET_DEFAULTS: dict[str, Any] = {
    "ssh": {},
    "sshPrivateKey": "",
    "ldsmPasswords": {},
    "network": {},
    "exareme": {},
    "portal": {},
    "swarm": {},
}


def known_keys() -> list[str]:
    """Every top-level key of the mip-federation namespace, as written in a stack file."""
    return [field.alias or name for name, field in StackSettings.model_fields.items()]


def _decode(key: str, value: Any) -> Any:
    if key == "sshPrivateKey" or not isinstance(value, str):
        return value
    if value[:1] in ("{", "[") or key in ("nodes", "ldsmPasswords"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _read(config: pulumi.Config, key: str) -> Any:
    """A key's value (None when unset): structured values through get_object, as the CLI stores
    them as JSON; a value that is not JSON stays text, for validation to name."""
    text = config.get(key)
    if text is None or key == "sshPrivateKey":
        return text
    if text[:1] in ("{", "[") or key in ("nodes", "ldsmPasswords"):
        try:
            return config.get_object(key)
        except pulumi.ConfigTypeError:
            return text
    return text


def read_raw() -> dict[str, Any]:
    """Every key set in this stack's mip-federation namespace (keys without the namespace), read
    through the public config API. Keys equal to their Pulumi.yaml default count as unset.

    Known keys are read with pulumi.Config; the whole config map, which only serves to find keys
    the program does not know (a typo), comes from the PULUMI_CONFIG environment variable the
    language host sets (pulumi.runtime.get_config_env()).
    """
    config = pulumi.Config(NAMESPACE)
    raw: dict[str, Any] = {}
    for key in known_keys():
        value = _read(config, key)
        if value is not None:
            raw[key] = value
    prefix = f"{NAMESPACE}:"
    for full_key, value in pulumi.runtime.get_config_env().items():
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix) :]
        if key not in raw and key not in known_keys():
            raw[key] = _decode(key, value)
    return {k: v for k, v in raw.items() if not (k in UNSET_DEFAULTS and v == UNSET_DEFAULTS[k])}


def secret_keys_of(keys: Any) -> set[str]:
    """Which of `keys` (without namespace) hold a value set with --secret."""
    return {k for k in keys if pulumi.runtime.is_config_secret(f"{NAMESPACE}:{k}")}


def validate(
    raw: dict[str, Any], stack: str, secret_keys: set[str], preview: bool = False
) -> StackSettings:
    """Validate raw config values (keys without namespace); raise ConfigError with every problem.

    With `preview`, what only `pulumi up` needs (the SSH key) is a warning, not a problem.
    """
    parsed, problems = _parse_fields(raw)
    ssh_port = parsed.ssh.port if parsed.ssh is not None else 22
    if isinstance(raw.get("nodes"), list):
        problems += _node_checks(parsed.nodes, ssh_port)
        problems += _swarm_checks(parsed)
    problems += _secret_checks(parsed, secret_keys, preview)
    problems += _service_checks(parsed, stack)
    if problems:
        raise ConfigError(problems)
    return StackSettings.model_validate(raw)


def _key_text(settings: StackSettings) -> str:
    """The SSH private key; empty during a preview that has none (validate warned about it)."""
    if settings.ssh_private_key is not None:
        return settings.ssh_private_key.get_secret_value()
    path = settings.ssh.private_key_file
    if path is None or not os.path.isfile(os.path.expanduser(path)):
        return ""
    with open(os.path.expanduser(path), encoding="utf-8") as handle:
        return handle.read()


def load_config() -> FederationConfig:
    """Read and validate the current stack's configuration."""
    stack = pulumi.get_stack()
    raw = read_raw()
    preview = pulumi.runtime.is_dry_run()
    settings = validate(raw, stack, secret_keys_of(raw), preview=preview)
    return FederationConfig(
        stack=stack,
        settings=settings,
        ssh_private_key=pulumi.Output.secret(_key_text(settings)),
        ldsm_passwords={
            alias: pulumi.Output.secret(password.get_secret_value())
            for alias, password in settings.ldsm_passwords.items()
        },
    )
