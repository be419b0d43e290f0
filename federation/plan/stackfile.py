"""A stack file's config as the plan evaluates it: `secure:` values as SECRET, the secrets the
file leaves unset as SECRET stand-ins, and a stand-in for the key file it never reads."""

from __future__ import annotations

import json
import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from federation.config import NAMESPACE
from federation.plan.harness import ROOT
from federation.stackfile import config_text, read_stack_file

SECRET: Final = "[secret]"  # noqa: S105 (a placeholder, not a password)
"""How a secret is shown; also the value every secret config entry is evaluated with."""

STAND_IN_KEY: Final = f"{SECRET} stand-in key written by federation.plan; not a key\n"


@dataclass(frozen=True)
class StackInputs:
    """A stack file's config as the program receives it, with nothing secret in it."""

    stack: str
    file: Path
    project: str
    config: dict[str, str]
    secret_keys: list[str]
    key_file: str | None
    """The configured ssh.privateKeyFile, which the plan never reads."""
    unset: list[str] = field(default_factory=list)
    """Secret keys the file leaves unset, evaluated with SECRET stand-ins."""
    uses_agent: bool = False
    """Neither sshPrivateKey nor ssh.privateKeyFile: the program logs in through the SSH agent."""


def project_name(root: Path = ROOT) -> str:
    document = yaml.safe_load((root / "Pulumi.yaml").read_text(encoding="utf-8"))
    return str(document["name"])


def stack_file(stack: str, root: Path = ROOT) -> Path:
    return root / f"Pulumi.{stack}.yaml"


def read_stack_inputs(path: Path, project: str) -> StackInputs:
    """The config of `Pulumi.<stack>.yaml`: secure values as SECRET, keys with namespace."""
    file = read_stack_file(path, SECRET)
    secure = set(file.secure_keys)
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    key_file: str | None = None
    for key, value in sorted(file.config.items()):
        full_key = key if ":" in key else f"{project}:{key}"
        if key in secure:
            secret_keys.append(full_key)
        if full_key == f"{NAMESPACE}:ssh" and isinstance(value, dict):
            key_file = value.get("privateKeyFile")
        config[full_key] = config_text(value)
    unset = []
    for key, stand_in in _unset_secrets(file.config).items():
        unset.append(key)
        config[f"{NAMESPACE}:{key}"] = config_text(stand_in)
        secret_keys.append(f"{NAMESPACE}:{key}")
    uses_agent = f"{NAMESPACE}:sshPrivateKey" not in file.config and key_file is None
    return StackInputs(
        file.stack, path, project, config, sorted(secret_keys), key_file, unset, uses_agent
    )


def _unset_secrets(document: dict[str, Any]) -> dict[str, Any]:
    """Stand-ins (SECRET) for the secrets a stack file leaves to `pulumi config set --secret`
    before the first `pulumi up`: the LDSM passwords (`pulumi up` refuses a node without one).
    No SSH key: without one the program logs in through the agent (stand_in_agent)."""
    stand_ins: dict[str, Any] = {}
    nodes = document.get(f"{NAMESPACE}:nodes")
    wants_passwords = f"{NAMESPACE}:ldsmPasswords" not in document
    if wants_passwords and isinstance(nodes, list):
        names = [n["name"] for n in nodes if isinstance(n, dict) and isinstance(n.get("name"), str)]
        if names:
            stand_ins["ldsmPasswords"] = {name: SECRET for name in names}
    return stand_ins


@contextmanager
def stand_in_key(inputs: StackInputs) -> Iterator[tuple[dict[str, str], str | None]]:
    """The config with ssh.privateKeyFile pointing at a stand-in file, and that file's path."""
    if inputs.key_file is None:
        yield inputs.config, None
        return
    with tempfile.TemporaryDirectory(prefix="mip-plan-") as directory:
        path = Path(directory) / "stand-in-key"
        path.write_text(STAND_IN_KEY, encoding="utf-8")
        ssh = json.loads(inputs.config[f"{NAMESPACE}:ssh"])
        ssh["privateKeyFile"] = str(path)
        yield {**inputs.config, f"{NAMESPACE}:ssh": json.dumps(ssh)}, str(path)


@contextmanager
def stand_in_agent(inputs: StackInputs) -> Iterator[None]:
    """For a stack that logs in through the SSH agent, SSH_AUTH_SOCK pointing at a listening
    stand-in socket while the program is evaluated: `pulumi up` checks for a live agent
    (federation/ssh.py agent_problem), and the plan shows the connections as they are sent, with
    no privateKey."""
    if not inputs.uses_agent:
        yield
        return
    with stand_in_agent_socket():
        yield


@contextmanager
def stand_in_agent_socket() -> Iterator[str]:
    """SSH_AUTH_SOCK pointing at a listening Unix socket that answers nothing (nothing ever
    connects to it under mocks), put back afterwards; yields its path."""
    saved = os.environ.get("SSH_AUTH_SOCK")
    with (
        tempfile.TemporaryDirectory(prefix="mip-plan-") as directory,
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as agent,
    ):
        path = os.path.join(directory, "stand-in-agent.sock")
        agent.bind(path)
        agent.listen()
        os.environ["SSH_AUTH_SOCK"] = path
        try:
            yield path
        finally:
            if saved is None:
                os.environ.pop("SSH_AUTH_SOCK", None)
            else:
                os.environ["SSH_AUTH_SOCK"] = saved
