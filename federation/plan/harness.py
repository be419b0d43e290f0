"""The evaluation harness: the real `__main__.py` run under Pulumi's mocks, recording what it
registers (inputs as serialized, with secrets wrapped, and resource options). The stack plans and
the unit tests both evaluate the program through it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import runpy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pulumi
from pulumi.runtime import settings
from pulumi.runtime.mocks import MockEngine, MockMonitor
from pulumi.runtime.proto import engine_pb2
from pulumi.runtime.stack import wait_for_rpcs

from federation.config import NAMESPACE
from federation.samples import accepting_samples
from federation.tree import redact, unwrap

ROOT: Final = Path(__file__).resolve().parent.parent.parent
MAIN: Final = ROOT / "__main__.py"

COMMAND: Final = "command:remote:Command"
SERVICE: Final = "docker:index/service:Service"
SWARM_INIT: Final = "swarm-init"
# swarm_init.sh prints one JSON object with these fields; federation/swarm.py parses it.
SWARM_INIT_FIELDS: Final = ("swarmId", "nodeId")
# join_tokens.sh prints the current join tokens the same way.
JOIN_TOKENS: Final = "swarm-join-tokens"
JSON_STDOUT: Final = {SWARM_INIT: SWARM_INIT_FIELDS, JOIN_TOKENS: ("workerToken", "managerToken")}

SECRET_MARK: Final = object()
"""What `strip_secrets` puts where a secret was."""


def strip_secrets(value: Any) -> Any:
    """The value with every secret replaced by SECRET_MARK: what is visible in plain text."""
    return redact(value, SECRET_MARK)


@dataclass
class Recorded:
    """One registered resource: its inputs as serialized (secrets wrapped) and its options."""

    typ: str
    name: str
    inputs: dict[str, Any]
    provider: str | None
    parent: str = ""
    dependencies: list[str] = field(default_factory=list)
    additional_secret_outputs: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)

    @property
    def plain(self) -> dict[str, Any]:
        plain: dict[str, Any] = unwrap(self.inputs)
        return plain

    @property
    def visible(self) -> dict[str, Any]:
        visible: dict[str, Any] = strip_secrets(self.inputs)
        return visible


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
        return self.of_type(COMMAND)

    @property
    def services(self) -> list[Recorded]:
        return self.of_type(SERVICE)


Stub = Callable[[str, str, dict[str, Any]], tuple[str, dict[str, Any]]]
"""(type, name, inputs) -> (id, outputs): what a mocked resource returns."""


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self, evaluation: Evaluation, stub: Stub) -> None:
        self.evaluation = evaluation
        self.stub = stub
        self.lock = threading.Lock()

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[Any, Any]]:
        with self.lock:
            self.evaluation.resources.append(
                Recorded(args.typ, args.name, args.inputs, args.provider)
            )
        return self.stub(args.typ, args.name, args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], None]:
        return {}, None


class RecordingMonitor(MockMonitor):
    """Adds what the plain mocks drop: parent, dependencies (and per input property) and
    resource options (additionalSecretOutputs, deleteBeforeReplace, ignoreChanges)."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.evaluation = mocks.evaluation
        self.lock = mocks.lock

    def RegisterResource(self, request: Any) -> Any:  # gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        with self.lock:
            for recorded in reversed(self.evaluation.resources):
                if recorded.name == request.name and recorded.typ == request.type:
                    recorded.parent = request.parent
                    recorded.dependencies = list(request.dependencies)
                    recorded.additional_secret_outputs = list(request.additionalSecretOutputs)
                    recorded.delete_before_replace = bool(request.deleteBeforeReplace)
                    recorded.ignore_changes = list(request.ignoreChanges)
                    recorded.property_dependencies = {
                        key: list(deps.urns) for key, deps in request.propertyDependencies.items()
                    }
                    break
        return response


class _LogCapture(MockEngine):
    def __init__(self, evaluation: Evaluation) -> None:
        super().__init__(None)
        self.evaluation = evaluation

    def Log(self, request: Any) -> None:  # gRPC method name
        if request.severity >= engine_pb2.WARNING:
            self.evaluation.logs.append(request.message)


def run_program(
    config: dict[str, str],
    secret_keys: list[str],
    stub: Stub,
    *,
    stack: str,
    project: str = NAMESPACE,
    main: Path = MAIN,
    into: Evaluation | None = None,
    preview: bool = False,
    allow_samples: bool = False,
) -> Evaluation:
    """Run `main` under mocks with `config` (full keys, string values) and record what it registers.

    Records into `into` when given, so a caller still sees what was registered if it raises.
    Can run many times in one process: each run has a fresh event loop and root resource.
    `preview` runs it as `pulumi preview` does (pulumi.runtime.is_dry_run()). `allow_samples`
    accepts the sample stack's values (federation/samples.py) in an `up` with a warning, as the
    stand-ins they are here: nothing is applied.
    """
    evaluation = into if into is not None else Evaluation()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    settings.ROOT.set(None)
    restore_env = set_config_like_the_cli(config, secret_keys)
    mocks = RecordingMocks(evaluation, stub)
    pulumi.runtime.set_mocks(
        mocks, project=project, stack=stack, preview=preview, monitor=RecordingMonitor(mocks)
    )
    settings.SETTINGS.engine = _LogCapture(evaluation)
    try:
        failure: BaseException | None = None
        samples = accepting_samples() if allow_samples else contextlib.nullcontext()
        try:
            with samples:
                runpy.run_path(str(main), run_name="__main__")
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
        restore_env()
        loop.close()
        asyncio.set_event_loop(None)
    return evaluation


CONFIG_ENV = ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS")


def set_config_like_the_cli(config: dict[str, str], secret_keys: list[str]) -> Callable[[], None]:
    """Give the program its config as the CLI's language host does: set_all_config, and the whole
    map in PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS (what pulumi.runtime.get_config_env() reads).
    Returns the function that puts the environment back."""
    saved = {name: os.environ.get(name) for name in CONFIG_ENV}
    pulumi.runtime.set_all_config(config, secret_keys)
    os.environ["PULUMI_CONFIG"] = json.dumps(config)
    os.environ["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(secret_keys))

    def restore() -> None:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    return restore


def placeholder_stub(typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Outputs that name where the real value will come from, e.g. `<join-hug.stdout>`."""
    outputs = dict(inputs)
    if typ == COMMAND:
        if name in JSON_STDOUT:
            fields = {key: f"<{name}.stdout.{key}>" for key in JSON_STDOUT[name]}
            outputs["stdout"] = json.dumps(fields)
        else:
            outputs["stdout"] = f"<{name}.stdout>"
        outputs["stderr"] = f"<{name}.stderr>"
    return f"<{name}.id>", outputs
