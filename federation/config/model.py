"""The stack configuration's model: every key of the mip-federation namespace, its default and the
checks on a single value. Checks across fields are in validation.py."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from federation.config.images import image_problem

# A node name ends up in the worker service's name, `exareme-worker-<name>`, which Docker holds to
# 63 characters, and in its secret's, `ldsm-<name>-<7 hex>` (64): 48 characters fit both.
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,47}$")
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
# network.mtu: the MTU of the hospital links the overlay runs over. IPv6 needs at least 1280, and
# 9000 is the usual jumbo frame.
MTU_MIN, MTU_MAX = 1280, 9000
# swarm.certExpiry, as `docker swarm update --cert-expiry` takes it (Go durations in h, m, s).
# Swarmkit refuses less than an hour (ca.MinNodeCertExpiration), and a node certificate cannot
# outlive the swarm's root CA, which it issues for 20 years (ca.RootCAExpiration).
DURATION_RE = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
CERT_EXPIRY_MIN_SECONDS = 3600
CERT_EXPIRY_MAX_SECONDS = 175200 * 3600

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


def go_duration(seconds: int) -> str:
    """`seconds` as Go's time.Duration prints it for an hour or more (`docker info` shows
    .Swarm.Cluster.Spec.CAConfig.NodeCertExpiry so), e.g. 2160h0m0s."""
    return f"{seconds // 3600}h{seconds % 3600 // 60}m{seconds % 60}s"


def check_host_key(value: str) -> str:
    """A pinnable SSH host key, normalised to 'TYPE BASE64' (the comment dropped)."""
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


def _check_user(value: str) -> str:
    if not USER_RE.match(value):
        raise ValueError(
            "must be a POSIX user name (lowercase letters, digits, _ and -), e.g. mipadmin"
        )
    return value


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


def _check_image(value: str) -> str:
    problem = image_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _check_allowed_source(value: str) -> str:
    try:
        network = ipaddress.ip_network(value.strip(), strict=True)
    except ValueError:
        raise ValueError(
            "must be an IP address or a network in CIDR form with no host bits set (e.g. "
            "192.0.2.7 or 192.0.2.0/24): the hosts, besides the portal, whose connections the "
            "master's query port accepts"
        ) from None
    return str(network)


Port = Annotated[int, AfterValidator(_check_port)]
AllowedSource = Annotated[str, AfterValidator(_check_allowed_source)]
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


class ProxySettings(_Model):
    """A jump host (bastion) the commands, the docker provider and the doctor reach nodes
    through. Its host key must be pinned: everything Pulumi sends passes through it."""

    host: str
    port: Port = 22
    # None: ssh.user.
    user: str | None = None
    host_key: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _pinned(cls, data: Any) -> Any:
        # An absent hostKey is checked as an explicit null, so the error names ...proxy.hostKey.
        if isinstance(data, dict) and "hostKey" not in data and "host_key" not in data:
            return {**data, "hostKey": None}
        return data

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not (is_ip(value) or is_hostname(value)):
            raise ValueError("must be the jump host's IPv4/IPv6 address or DNS name (RFC 1123)")
        return value

    @field_validator("user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        return None if value is None else _check_user(value)

    @field_validator("host_key")
    @classmethod
    def _host_key(cls, value: str | None) -> str:
        if value is None:
            raise ValueError(
                "is required: the jump host's key must be pinned, as every connection to the "
                "nodes passes through it; add its public host key, e.g. from "
                "'ssh-keyscan -t ed25519 JUMPHOST' (drop the leading host name)"
            )
        return check_host_key(value)


class SshSettings(_Model):
    user: str = "root"
    port: Port = 22
    private_key_file: str | None = None
    # The jump host for every node (a node's own `proxy` overrides it).
    proxy: ProxySettings | None = None

    @field_validator("user")
    @classmethod
    def _user(cls, value: str) -> str:
        return _check_user(value)

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
    # This node's jump host, instead of ssh.proxy; false: reached directly, without ssh.proxy.
    proxy: ProxySettings | Literal[False] | None = None
    ldsm: LdsmSettings = Field(default_factory=LdsmSettings)
    # Drained for its server's maintenance: its worker's task stops and the federation answers
    # with the others; false returns it (availability active).
    maintenance: bool = False

    @field_validator("proxy", mode="wrap")
    @classmethod
    def _proxy(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        # Validated by hand, not as a union: an error names the field inside the jump host, not
        # every branch of the union.
        if value is None or value is False:
            return value
        if not isinstance(value, dict | ProxySettings):
            raise ValueError(
                "must be this node's jump host {host, hostKey, port, user}, or false to reach "
                "it directly (without ssh.proxy)"
            )
        return ProxySettings.model_validate(value)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(
                "must be a lowercase DNS label of at most 48 characters (it names the node's "
                "Exareme service and secret): a letter, then up to 47 lowercase letters, digits "
                "or '-', e.g. chuv"
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
        return None if value is None else check_host_key(value)

    def jump_host(self, default: ProxySettings | None) -> ProxySettings | None:
        """The jump host this node is reached through: its own proxy, none when it says
        false, else `default` (ssh.proxy)."""
        if self.proxy is False:
            return None
        return self.proxy or default

    @property
    def swarm_addr(self) -> str:
        """The address the node advertises to the swarm (validated to be an IP)."""
        return self.advertise_addr or self.host


# The Exareme image takes the first address starting with 10.20 as its overlay address, so the
# overlay subnet must lie inside this network (and the keystore binds to its address in it).
EXAREME_OVERLAY = ipaddress.IPv4Network("10.20.0.0/16")


class NetworkSettings(_Model):
    name: str = "mip-federation"
    subnet: ipaddress.IPv4Network = ipaddress.IPv4Network("10.20.30.0/24")
    gateway: ipaddress.IPv4Address = ipaddress.IPv4Address("10.20.30.254")
    encrypted: bool = True
    vxlan_id: int = DEFAULT_VXLAN_ID
    # The hospital links' MTU; Docker's default (1500) when not set.
    mtu: int | None = None

    @field_validator("mtu", mode="before")
    @classmethod
    def _mtu(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not MTU_MIN <= value <= MTU_MAX:
            raise ValueError(
                f"must be an integer from {MTU_MIN} to {MTU_MAX}: the MTU of the links between "
                "the hospitals (Docker takes the VXLAN and ESP headers off it), e.g. 1400 for a "
                "VPN; see docs/hosts.md, MTU"
            )
        return value

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
    # Besides the portal on the leader, the only sources the master's query port answers
    # (federation/firewall.py).
    allow_from: list[AllowedSource] = Field(default_factory=list)


class PortalSettings(_Model):
    enabled: bool = True
    image: ImageRef = "hbpmip/portal-backend:2.5.4"
    port: Port = 8080
    env: PortalEnv = Field(default_factory=dict)


class SwarmSettings(_Model):
    """Swarm-wide operations: join-token and CA rotation, certificate lifetime, autolock, the
    manager Pulumi talks to."""

    # Any text; each change rotates both join tokens on the control manager.
    join_token_rotation: str | None = None
    # None: not managed. True: managers start locked after a restart (unlock key = secret
    # output). False: autolock turned off (the setting removed turns it off too).
    autolock: bool | None = None
    # The manager that Pulumi (the docker provider, node commands) and the doctor talk to; by
    # default the first manager.
    control_manager: str | None = None
    # The node certificates' lifetime as a Go duration (stored as Docker reports it back,
    # e.g. 2160h0m0s); None leaves it alone (and restores Docker's 90 days when removed).
    cert_expiry: str | None = None
    # Any text; each change rotates the swarm's root CA (every node gets a new certificate).
    ca_rotation: str | None = None

    @field_validator("join_token_rotation")
    @classmethod
    def _rotation(cls, value: str | None) -> str | None:
        return _rotation_text(value, "the join tokens")

    @field_validator("ca_rotation")
    @classmethod
    def _ca_rotation(cls, value: str | None) -> str | None:
        return _rotation_text(value, "the swarm's CA")

    @field_validator("cert_expiry", mode="before")
    @classmethod
    def _cert_expiry(cls, value: Any) -> Any:
        if value is None:
            return None
        match = DURATION_RE.match(value) if isinstance(value, str) and value else None
        seconds = (
            sum(int(n or 0) * unit for n, unit in zip(match.groups(), (3600, 60, 1), strict=True))
            if match
            else 0
        )
        if not CERT_EXPIRY_MIN_SECONDS <= seconds <= CERT_EXPIRY_MAX_SECONDS:
            raise ValueError(
                "must be a duration in hours, minutes and seconds from 1h to 175200h (the 20 "
                "years of the swarm's root CA), as `docker swarm update --cert-expiry` takes "
                "it, e.g. 2160h (90 days, Docker's default) or 720h"
            )
        return go_duration(seconds)


def _rotation_text(value: str | None, what: str) -> str | None:
    if value is not None and (not value.strip() or any(ord(c) < 32 for c in value)):
        raise ValueError(
            "must be a non-empty text on one line; change it (e.g. to today's date) to rotate "
            + what
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

    @property
    def managers(self) -> list[NodeSettings]:
        """Every manager, in stack order (the leader first)."""
        return [n for n in self.nodes if n.role == "manager"]

    @property
    def leader(self) -> NodeSettings:
        """The first manager: it inits the swarm, and the keystore, the master and the portal run
        there."""
        return self.managers[0]

    @property
    def control_manager(self) -> NodeSettings:
        """The manager Pulumi and the doctor talk to: swarm.controlManager, else the leader."""
        name = self.swarm.control_manager
        if name is None:
            return self.leader
        return next(n for n in self.nodes if n.name == name)

    @property
    def non_leaders(self) -> list[NodeSettings]:
        """Every node but the leader, in stack order: each joins the leader's swarm and runs an
        Exareme worker."""
        leader = self.leader
        return [n for n in self.nodes if n is not leader]


@dataclass(frozen=True)
class FederationConfig:
    """The validated configuration the components are built from."""

    stack: str
    settings: StackSettings
    # None: log in through the SSH agent (or a preview without the key file).
    ssh_private_key: pulumi.Output[str] | None
    ldsm_passwords: dict[str, pulumi.Output[str]]
