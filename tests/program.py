"""Evaluate the real __main__.py under Pulumi's mocks and record the resource graph.

Only the program's resource graph is mocked here: nothing runs on a host. Commands return canned
stdout (an init JSON with recognisable fake tokens, a node id per join) so data flow can be traced.
"""

from __future__ import annotations

import asyncio
import json
import runpy
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import rpc, settings
from pulumi.runtime.mocks import MockEngine, MockMonitor
from pulumi.runtime.proto import engine_pb2
from pulumi.runtime.stack import wait_for_rpcs

ROOT = Path(__file__).resolve().parent.parent
MAIN = ROOT / "__main__.py"
NAMESPACE = "mip-federation"

WORKER_TOKEN = "SWMTKN-1-fakeworkertoken0123456789abcdefghijklmnopqrstuvwx-worker"
MANAGER_TOKEN = "SWMTKN-1-fakemanagertoken0123456789abcdefghijklmnopqrstuv-manager"
SWARM_ID = "swarmid0123456789"
LEADER_NODE_ID = "leadernodeid0001"
TEST_PRIVATE_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nfake-test-key-material-not-real\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)
SECRET_MARK = object()


def is_secret_wrapper(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def strip_secrets(value: Any) -> Any:
    """The value with every secret replaced by SECRET_MARK: what is visible in plain text."""
    if is_secret_wrapper(value):
        return SECRET_MARK
    if isinstance(value, dict):
        return {k: strip_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_secrets(v) for v in value]
    return value


def unwrap(value: Any) -> Any:
    """The value with secrets unwrapped: what the provider receives."""
    if is_secret_wrapper(value):
        return unwrap(value["value"])
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


@dataclass
class Recorded:
    typ: str
    name: str
    inputs: dict[str, Any]
    provider: str | None
    parent: str = ""
    dependencies: list[str] = field(default_factory=list)
    additional_secret_outputs: list[str] = field(default_factory=list)

    @property
    def plain(self) -> dict[str, Any]:
        return unwrap(self.inputs)

    @property
    def visible(self) -> dict[str, Any]:
        return strip_secrets(self.inputs)


@dataclass
class Evaluation:
    resources: list[Recorded] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)
    logs: list[str] = field(default_factory=list)

    def of_type(self, typ: str) -> list[Recorded]:
        return [r for r in self.resources if r.typ == typ]

    def named(self, name: str) -> Recorded:
        matches = [r for r in self.resources if r.name == name]
        assert len(matches) == 1, f"expected one resource named {name!r}, got {len(matches)}"
        return matches[0]

    @property
    def commands(self) -> list[Recorded]:
        return self.of_type("command:remote:Command")

    @property
    def services(self) -> list[Recorded]:
        return self.of_type("docker:index/service:Service")


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self, evaluation: Evaluation) -> None:
        self.evaluation = evaluation
        self.lock = threading.Lock()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        with self.lock:
            self.evaluation.resources.append(
                Recorded(args.typ, args.name, args.inputs, args.provider)
            )
        outputs = dict(args.inputs)
        if args.typ == "command:remote:Command":
            outputs["stdout"] = self._stdout(args.name)
            outputs["stderr"] = ""
        return f"{args.name}-id", outputs

    @staticmethod
    def _stdout(name: str) -> str:
        if name == "swarm-init":
            return json.dumps(
                {
                    "swarmId": SWARM_ID,
                    "nodeId": LEADER_NODE_ID,
                    "workerToken": WORKER_TOKEN,
                    "managerToken": MANAGER_TOKEN,
                }
            )
        if name.startswith("join-"):
            return f"nodeid-{name.removeprefix('join-')}\n"
        if name.startswith("node-"):
            return f"nodeid-{name.removeprefix('node-')}\n"
        return ""

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        return {}, None


class RecordingMonitor(MockMonitor):
    """Adds what the plain mocks drop: parent, dependencies and additionalSecretOutputs."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.evaluation = mocks.evaluation
        self.lock = mocks.lock

    def RegisterResource(self, request: Any) -> Any:  # gRPC method name
        response = super().RegisterResource(request)
        with self.lock:
            for recorded in reversed(self.evaluation.resources):
                if recorded.name == request.name and recorded.typ == request.type:
                    recorded.parent = request.parent
                    recorded.dependencies = list(request.dependencies)
                    recorded.additional_secret_outputs = list(request.additionalSecretOutputs)
                    break
        return response


class _LogCapture(MockEngine):
    def __init__(self, evaluation: Evaluation) -> None:
        super().__init__(None)
        self.evaluation = evaluation

    def Log(self, request: Any) -> None:  # gRPC method name
        if request.severity >= engine_pb2.WARNING:
            self.evaluation.logs.append(request.message)


def _config_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def evaluate(
    config: dict[str, Any],
    secrets: dict[str, Any] | None = None,
    stack: str = "test",
    into: Evaluation | None = None,
) -> Evaluation:
    """Run __main__.py with `config` (keys without namespace) and `secrets` (marked secret).

    Records into `into` when given, so a caller still sees what was registered if it raises.
    """
    evaluation = into if into is not None else Evaluation()
    all_config = {f"{NAMESPACE}:{k}": _config_value(v) for k, v in config.items()}
    secrets = secrets or {}
    all_config.update({f"{NAMESPACE}:{k}": _config_value(v) for k, v in secrets.items()})
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    settings.ROOT.set(None)
    pulumi.runtime.set_all_config(all_config, [f"{NAMESPACE}:{k}" for k in secrets])
    mocks = RecordingMocks(evaluation)
    pulumi.runtime.set_mocks(
        mocks, project=NAMESPACE, stack=stack, preview=False, monitor=RecordingMonitor(mocks)
    )
    settings.SETTINGS.engine = _LogCapture(evaluation)
    try:
        failure: BaseException | None = None
        try:
            runpy.run_path(str(MAIN), run_name="__main__")
        except BaseException as error:  # re-raised once outstanding RPCs settle, as Pulumi does
            failure = error
        loop.run_until_complete(wait_for_rpcs())
        if failure is not None:
            raise failure
        root = settings.get_root_resource()
        assert root is not None
        for name, value in root.outputs.items():  # type: ignore[attr-defined]
            output = pulumi.Output.from_input(value)
            evaluation.outputs[name] = loop.run_until_complete(output.future())
            if loop.run_until_complete(output.is_secret()):
                evaluation.secret_outputs.add(name)
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    return evaluation


def load_stack_file(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(plain config, secret config) of a Pulumi.<stack>.yaml, keys without namespace.

    `secure:` values cannot be decrypted here; they are replaced by test secrets.
    """
    document = yaml.safe_load(path.read_text())
    plain: dict[str, Any] = {}
    secret: dict[str, Any] = {}
    for full_key, value in (document.get("config") or {}).items():
        key = full_key.split(":", 1)[1]
        if isinstance(value, dict) and set(value) == {"secure"}:
            secret[key] = TEST_PRIVATE_KEY if key == "sshPrivateKey" else "test-secret"
        elif key == "ldsmPasswords":
            secret[key] = {alias: f"pw-{alias}" for alias in value}
        else:
            plain[key] = value
    return plain, secret
