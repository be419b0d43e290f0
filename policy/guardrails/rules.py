"""The guard rails as pure functions over a resource's type and plain input properties.

Each check returns the problems it finds (empty: compliant). During a preview some values are not
known yet; policies.plain() turns each into UNKNOWN, and a check skips what it cannot know. No
message ever quotes a secret-looking value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final


class _Unknown:
    """A value the engine cannot know during a preview (an output of a resource not yet made)."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Final = _Unknown()

COMMAND = "command:remote:Command"
NETWORK = "docker:index/network:Network"
SERVICE = "docker:index/service:Service"
CONTAINER = "docker:index/container:Container"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
DOCKER_PROVIDER = "pulumi:providers:docker"
SCRIPT_FIELDS = ("create", "update", "delete")

Props = Mapping[str, Any]


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


def get(props: Any, *path: str) -> Any:
    """props[path[0]][path[1]]..., or None when a step is missing or unknown."""
    value = props
    for key in path:
        if not isinstance(value, Mapping) or key not in value or is_unknown(value[key]):
            return None
        value = value[key]
    return value


# --- which stacks are prod --------------------------------------------------------------------


def stack_of(urn: str) -> str:
    """The stack name in a URN: urn:pulumi:<stack>::<project>::<type>::<name>."""
    return urn.removeprefix("urn:pulumi:").split("::", 1)[0]


# --- overlay network encryption ---------------------------------------------------------------


def unencrypted_overlay(typ: str, props: Props) -> list[str]:
    if typ != NETWORK or get(props, "driver") != "overlay":
        return []
    options = props.get("options")
    if is_unknown(options):
        return []
    if isinstance(options, Mapping) and "encrypted" in options:
        return []  # Docker encrypts an overlay when the option is present, whatever its value
    name = get(props, "name") or "?"
    return [
        f"overlay network {name!r} is not encrypted: set network.encrypted: true "
        "(Docker's `--opt encrypted`); hospital traffic must not cross networks in clear"
    ]


# --- pinned images ----------------------------------------------------------------------------


def image_fields(typ: str, props: Props) -> list[tuple[str, Any]]:
    if typ == SERVICE:
        return [("taskSpec.containerSpec.image", get(props, "taskSpec", "containerSpec", "image"))]
    if typ == CONTAINER:
        return [("image", get(props, "image"))]
    if typ == REMOTE_IMAGE:
        return [("name", get(props, "name"))]
    return []


def is_floating(image: str) -> bool:
    """Untagged or `:latest`, without a digest: the image can change under the same reference."""
    if "@" in image or image.startswith("sha256:"):
        return False
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.rsplit(":", 1)[1] == "latest"


DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def has_digest(image: str) -> bool:
    """`repository[:tag]@sha256:<64 lower-case hex>`: the reference Docker pins a service to."""
    name, _, _ = image.partition("@")
    return bool(name) and not name.startswith("sha256:") and DIGEST.search(image) is not None


def floating_images(typ: str, props: Props, *, prod: bool = False) -> list[str]:
    """Untagged or `:latest` images; in prod, also a service image without a digest.

    Creating a service, Docker resolves the tag on the registry and stores
    `repository:tag@sha256:...` in the service's spec; the provider reads that back, so the next
    `pulumi up` sees the program's plain `repository:tag` as a change, updates the service and
    restarts every task. Only a digest in the stack is stable. One problem per image.
    """
    problems = []
    for field, image in image_fields(typ, props):
        if not isinstance(image, str):
            continue
        if prod and typ == SERVICE and not has_digest(image):
            problems.append(
                f"{field} {image!r} has no digest; prod requires "
                "'repository:tag@sha256:<64 hex>' (Docker pins the digest it resolves when it "
                "creates a service, so without one every pulumi up updates the service and "
                "restarts its tasks); get it with 'docker buildx imagetools inspect "
                "repository:tag' (its Digest line)"
            )
        elif is_floating(image):
            problems.append(
                f"{field} {image!r} is untagged or :latest; pin a version tag or a sha256 digest"
            )
    return problems


# --- an odd number of managers ----------------------------------------------------------------

_NODE_LABEL = "node.labels.name == "
_NODE_ROLE = "node.role == "
_ASSIGNMENT = re.compile(r"^(NODE|ROLE)=(.*)$", re.MULTILINE)


def node_roles(resources: Iterable[tuple[str, Props]]) -> dict[str, str]:
    """Swarm node name -> role, from service placements and the node-labelling commands."""
    roles: dict[str, str] = {}
    for typ, props in resources:
        if typ == SERVICE:
            constraints = get(props, "taskSpec", "placement", "constraints") or []
            known = [c for c in constraints if isinstance(c, str) and not is_unknown(c)]
            names = [
                c.removeprefix(_NODE_LABEL).strip() for c in known if c.startswith(_NODE_LABEL)
            ]
            role = [c.removeprefix(_NODE_ROLE).strip() for c in known if c.startswith(_NODE_ROLE)]
            if len(names) == 1 and len(role) == 1:
                roles[names[0]] = role[0]
        elif typ == COMMAND:
            create = get(props, "create")
            if isinstance(create, str) and "docker node update --role" in create:
                values = dict(_ASSIGNMENT.findall(create))
                if "NODE" in values and "ROLE" in values:
                    roles[values["NODE"].strip("'")] = values["ROLE"].strip("'")
    return roles


def even_managers(resources: Iterable[tuple[str, Props]]) -> list[str]:
    managers = sorted(name for name, role in node_roles(resources).items() if role == "manager")
    if not managers or len(managers) % 2 == 1:
        return []
    return [
        f"{len(managers)} swarm managers ({', '.join(managers)}): an even number cannot keep "
        "quorum any better than one fewer; use 1, 3, 5 or 7 managers"
    ]


# --- host-key checking ------------------------------------------------------------------------


def ssh_options(opts: Any) -> dict[str, str]:
    """`-o Key=Value` options (lower-case keys, first value wins as in ssh) from ssh arguments."""
    if isinstance(opts, str):
        try:
            opts = json.loads(opts)
        except json.JSONDecodeError:
            opts = opts.split()
    if not isinstance(opts, list):
        return {}
    words = [w for w in opts if isinstance(w, str) and not is_unknown(w)]
    found: dict[str, str] = {}
    for i, word in enumerate(words):
        if word == "-o" and i + 1 < len(words):
            option = words[i + 1]
        elif word.startswith("-o") and len(word) > 2:
            option = word[2:]
        else:
            continue
        key, _, value = option.replace("=", " ", 1).partition(" ")
        found.setdefault(key.strip().lower(), value.strip().strip("\"'"))
    return found


def unchecked_host_keys(typ: str, props: Props) -> list[str]:
    if typ.startswith("command:remote:"):
        connection = props.get("connection")
        if not isinstance(connection, Mapping) or is_unknown(connection.get("hostKey")):
            return []
        if not connection.get("hostKey"):
            host = get(connection, "host") or "?"
            return [
                f"connection to {host} has no hostKey: pulumi-command then accepts any host key; "
                "pin it with nodes[].hostKey"
            ]
        return []
    if typ != DOCKER_PROVIDER:
        return []
    options = ssh_options(props.get("sshOpts"))
    strict = options.get("stricthostkeychecking", "").lower()
    if strict in ("no", "off"):
        return [f"sshOpts sets StrictHostKeyChecking={strict}: any host key would be accepted"]
    no_known_hosts = options.get("userknownhostsfile", "").split() == ["/dev/null"]
    if strict == "accept-new" and no_known_hosts and "knownhostscommand" not in options:
        return [
            "sshOpts accepts new host keys with an empty known_hosts: any host key would be "
            "accepted; pin the leader's hostKey"
        ]
    return []


# --- secrets in command text ------------------------------------------------------------------

SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a private key", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")),
    ("a swarm join token", re.compile(r"SWMTKN-1-[0-9A-Za-z]{20,}-[0-9A-Za-z]{5,}")),
    ("an AWS access key", re.compile(r"\bA(?:KIA|SIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    (
        "a password or token assigned literally",
        re.compile(
            r"(?i)\b\w*(?:password|passwd|secret|token|api_?key)\s*=\s*"
            r"(?![\"']?\$)[\"']?[^\s\"'$;|&)]{4,}"
        ),
    ),
    (
        "a password or token given as an option",
        re.compile(r"(?i)--(?:password|passwd|token|secret)(?:=|\s+)(?![\"']?\$|-)[^\s\"';|&]{4,}"),
    ),
    ("a docker login password", re.compile(r"docker\s+login\b[^\n]*\s-p(?:=|\s+)(?![\"']?\$)\S")),
)


def secrets_in_text(text: str) -> list[str]:
    """What kinds of secret-looking values the text holds, with their line numbers."""
    found = []
    for kind, pattern in SECRET_PATTERNS:
        lines = sorted({text.count("\n", 0, m.start()) + 1 for m in pattern.finditer(text)})
        if lines:
            found.append(f"{kind} (line {', '.join(map(str, lines))})")
    return found


def secrets_in_commands(typ: str, props: Props) -> list[str]:
    if not typ.startswith("command:"):
        return []
    problems = []
    for field in SCRIPT_FIELDS:
        text = get(props, field)
        kinds = secrets_in_text(text) if isinstance(text, str) else []
        if kinds:
            problems.append(
                f"{field} holds {' and '.join(kinds)}: command text is stored in plain text and "
                "quoted in errors; pass secrets on stdin"
            )
    return problems
