"""Evaluate the real __main__.py under Pulumi's mocks and record the resource graph.

Only the program's resource graph is mocked here: nothing runs on a host. Commands return canned
stdout (an init JSON with recognisable fake tokens, a node id per join) so data flow can be traced.
The harness itself (mocks, recording monitor, repeated evaluation in one process) is the one the
stack plans use: federation/plan/harness.py.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from federation.config import is_prod
from federation.plan import (
    MAIN,
    ROOT,
    SECRET_MARK,
    Evaluation,
    Recorded,
    is_secret_wrapper,
    run_program,
    strip_secrets,
    unwrap,
)
from federation.plan.stackfile import stand_in_agent_socket
from federation.stackfile import config_text, read_stack_file, stack_name

__all__ = [
    "LEADER_NODE_ID",
    "MAIN",
    "MANAGER_TOKEN",
    "NAMESPACE",
    "ROOT",
    "SECRET_MARK",
    "STACK_FILES",
    "SWARM_ID",
    "TEST_PRIVATE_KEY",
    "TEST_SECRET",
    "WORKER_TOKEN",
    "Evaluation",
    "Recorded",
    "canned_stub",
    "evaluate",
    "evaluate_stack",
    "is_secret_wrapper",
    "load_stack_file",
    "load_stack_file_as_is",
    "strip_secrets",
    "unwrap",
]


def _tracked_stack_files() -> list[Path]:
    """The Pulumi.<stack>.yaml files git tracks at the root: a lab stack generated into the
    working tree by mistake is not one of the project's stacks."""
    listed = subprocess.run(
        ["git", "ls-files", "Pulumi.*.yaml"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return sorted(ROOT / name for name in listed)


STACK_FILES = _tracked_stack_files()

NAMESPACE = "mip-federation"

WORKER_TOKEN = "SWMTKN-1-fakeworkertoken0123456789abcdefghijklmnopqrstuvwx-worker"
MANAGER_TOKEN = "SWMTKN-1-fakemanagertoken0123456789abcdefghijklmnopqrstuv-manager"
SWARM_ID = "swarmid0123456789"
LEADER_NODE_ID = "leadernodeid0001"
TEST_SECRET = "test-secret"
TEST_PRIVATE_KEY = (
    "-----BEGIN OPENSSH " + "PRIVATE KEY-----\nfake-test-key-material-not-real\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)


def _stdout(name: str) -> str:
    if name == "swarm-init":
        return json.dumps({"swarmId": SWARM_ID, "nodeId": LEADER_NODE_ID})
    if name == "swarm-join-tokens":
        return json.dumps({"workerToken": WORKER_TOKEN, "managerToken": MANAGER_TOKEN})
    if name.startswith("join-"):
        return f"nodeid-{name.removeprefix('join-')}\n"
    if name.startswith("node-"):
        return f"nodeid-{name.removeprefix('node-')}\n"
    return ""


def canned_stub(typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Canned outputs: inputs echoed, and for commands a recognisable stdout."""
    outputs = dict(inputs)
    if typ == "command:remote:Command":
        outputs["stdout"] = _stdout(name)
        outputs["stderr"] = ""
    return f"{name}-id", outputs


def evaluate(
    config: dict[str, Any],
    secrets: dict[str, Any] | None = None,
    stack: str = "test",
    into: Evaluation | None = None,
    preview: bool = False,
    allow_samples: bool = False,
) -> Evaluation:
    """Run __main__.py with `config` (keys without namespace) and `secrets` (marked secret).

    Records into `into` when given, so a caller still sees what was registered if it raises.
    `preview` runs it as `pulumi preview` does (pulumi.runtime.is_dry_run() is true). The config
    reaches the program as the CLI's language host gives it: set_all_config and PULUMI_CONFIG.
    `allow_samples`: a prod `up` accepts the sample values (documentation addresses, made-up
    digests) with a warning instead of refusing them, for tests whose stack is the sample.
    """
    all_config = {f"{NAMESPACE}:{k}": config_text(v) for k, v in config.items()}
    secrets = secrets or {}
    all_config.update({f"{NAMESPACE}:{k}": config_text(v) for k, v in secrets.items()})
    return run_program(
        all_config,
        [f"{NAMESPACE}:{k}" for k in secrets],
        canned_stub,
        stack=stack,
        project=NAMESPACE,
        main=MAIN,
        into=into,
        preview=preview,
        allow_samples=allow_samples,
    )


def evaluate_stack(
    config: dict[str, Any], secrets: dict[str, Any], stack: str = "prod"
) -> Evaluation:
    """A `pulumi up` of a committed stack file's config (load_stack_file, maybe edited), as
    federation.plan evaluates it: its sample values accepted as the stand-ins they are, and a
    stand-in agent socket while it logs in through the agent (no key of either kind)."""
    uses_agent = "sshPrivateKey" not in secrets and "privateKeyFile" not in config.get("ssh", {})
    if not uses_agent:
        return evaluate(config, secrets, stack, allow_samples=True)
    with stand_in_agent_socket():
        return evaluate(config, secrets, stack, allow_samples=True)


def load_stack_file_as_is(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(plain config, secret config) of a Pulumi.<stack>.yaml with only what the file holds, keys
    without namespace: a key holding `secure:` entries is secret, each entry TEST_SECRET."""
    file = read_stack_file(path, TEST_SECRET)
    plain: dict[str, Any] = {}
    secret: dict[str, Any] = {}
    for full_key, value in file.config.items():
        key = full_key.split(":", 1)[1]
        (secret if full_key in file.secure_paths else plain)[key] = value
    return plain, secret


def load_stack_file(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(plain config, secret config) of a Pulumi.<stack>.yaml, keys without namespace.

    `secure:` values cannot be decrypted here; they are replaced by test secrets, and so are the
    secrets the file leaves unset (prod LDSM passwords). A stack with neither sshPrivateKey nor
    ssh.privateKeyFile logs in through the SSH agent, as federation.plan evaluates it: a test
    that runs its `up` stands in an agent socket (the `agent` fixture), not a key.
    """
    plain, secret = load_stack_file_as_is(path)
    if "sshPrivateKey" in secret:
        secret["sshPrivateKey"] = TEST_PRIVATE_KEY
    passwords = plain.pop("ldsmPasswords", None) or secret.get("ldsmPasswords")
    if isinstance(passwords, dict):
        secret["ldsmPasswords"] = {alias: f"pw-{alias}" for alias in passwords}
    # What the file leaves to `pulumi config set --secret` before the first `pulumi up`, as an
    # operator sets it (federation.plan does the same with stand-ins).
    if is_prod(stack_name(path)) and "ldsmPasswords" not in secret:
        secret["ldsmPasswords"] = {n["name"]: f"pw-{n['name']}" for n in plain.get("nodes", [])}
    return plain, secret
