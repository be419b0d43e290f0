"""Stack plans: what `pulumi up` would register for a stack, from the program alone.

    python -m federation.plan STACK            # a readable table
    python -m federation.plan STACK --json     # the same, for machines

The real `__main__.py` runs under Pulumi's mocks with the config of `Pulumi.STACK.yaml`: no
network, no backend, no provider, no Pulumi CLI. Nothing secret is ever evaluated: `secure:`
values are not decrypted (they become the placeholder `[secret]`), and a configured
`ssh.privateKeyFile` is never read (the program gets a stand-in key file, and the plan shows the
configured path). Values known only after deployment (node ids, resource ids) are shown as
`<resource.output>` placeholders.

The harness (`run_program`, `Evaluation`, `Recorded`) is also what the unit tests use.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import runpy
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final

import pulumi
import yaml
from pulumi.runtime import rpc, settings
from pulumi.runtime.mocks import MockEngine, MockMonitor
from pulumi.runtime.proto import engine_pb2
from pulumi.runtime.stack import wait_for_rpcs

from federation.config import NAMESPACE, ConfigError, is_prod
from federation.scripts import render

ROOT: Final = Path(__file__).resolve().parent.parent
MAIN: Final = ROOT / "__main__.py"

SECRET: Final = "[secret]"  # noqa: S105 (a placeholder, not a password)
"""How a secret is shown; also the value every secret config entry is evaluated with."""

COMMAND: Final = "command:remote:Command"
SERVICE: Final = "docker:index/service:Service"
SWARM_INIT: Final = "swarm-init"
# swarm_init.sh prints one JSON object with these fields; federation/swarm.py parses it.
SWARM_INIT_FIELDS: Final = ("swarmId", "nodeId")
# join_tokens.sh prints the current join tokens the same way.
JOIN_TOKENS: Final = "swarm-join-tokens"
JSON_STDOUT: Final = {SWARM_INIT: SWARM_INIT_FIELDS, JOIN_TOKENS: ("workerToken", "managerToken")}
STAND_IN_KEY: Final = f"{SECRET} stand-in key written by federation.plan; not a key\n"

# --- evaluating the program under mocks --------------------------------------------------------


def is_secret_wrapper(value: Any) -> bool:
    """Whether a recorded input is a secret, as the SDK serializes it."""
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def unwrap(value: Any) -> Any:
    """The value with secrets unwrapped: what the provider receives."""
    if is_secret_wrapper(value):
        return unwrap(value["value"])
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


SECRET_MARK: Final = object()
"""What `strip_secrets` puts where a secret was."""


def strip_secrets(value: Any) -> Any:
    """The value with every secret replaced by SECRET_MARK: what is visible in plain text."""
    if is_secret_wrapper(value):
        return SECRET_MARK
    if isinstance(value, dict):
        return {k: strip_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_secrets(v) for v in value]
    return value


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
) -> Evaluation:
    """Run `main` under mocks with `config` (full keys, string values) and record what it registers.

    Records into `into` when given, so a caller still sees what was registered if it raises.
    Can run many times in one process: each run has a fresh event loop and root resource.
    `preview` runs it as `pulumi preview` does (pulumi.runtime.is_dry_run()).
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
        try:
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


# --- reading a stack file ---------------------------------------------------------------------


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


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _without_secure(value: Any) -> tuple[Any, bool]:
    """The value with every `secure:` leaf replaced by SECRET, and whether there was one."""
    if _is_secure(value):
        return SECRET, True
    if isinstance(value, dict):
        pairs = {k: _without_secure(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [_without_secure(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def _config_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def project_name(root: Path = ROOT) -> str:
    document = yaml.safe_load((root / "Pulumi.yaml").read_text(encoding="utf-8"))
    return str(document["name"])


def stack_file(stack: str, root: Path = ROOT) -> Path:
    return root / f"Pulumi.{stack}.yaml"


def read_stack_file(path: Path, project: str) -> StackInputs:
    """The config of `Pulumi.<stack>.yaml`: secure values as SECRET, keys with namespace."""
    stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    key_file: str | None = None
    for key, raw in sorted((document.get("config") or {}).items()):
        full_key = key if ":" in key else f"{project}:{key}"
        value, secret = _without_secure(raw)
        if secret:
            secret_keys.append(full_key)
        if full_key == f"{NAMESPACE}:ssh" and isinstance(value, dict):
            key_file = value.get("privateKeyFile")
        config[full_key] = _config_text(value)
    unset = []
    for key, stand_in in _unset_secrets(document.get("config") or {}, key_file, stack).items():
        unset.append(key)
        config[f"{NAMESPACE}:{key}"] = _config_text(stand_in)
        secret_keys.append(f"{NAMESPACE}:{key}")
    return StackInputs(stack, path, project, config, sorted(secret_keys), key_file, unset)


def _unset_secrets(document: dict[str, Any], key_file: str | None, stack: str) -> dict[str, Any]:
    """Stand-ins (SECRET) for the secrets a stack file leaves to `pulumi config set --secret`
    before the first `pulumi up`: the SSH key (when no ssh.privateKeyFile), and in a prod stack
    the LDSM passwords (elsewhere, as in the lab, they may stay unset)."""
    stand_ins: dict[str, Any] = {}
    if f"{NAMESPACE}:sshPrivateKey" not in document and key_file is None:
        stand_ins["sshPrivateKey"] = SECRET
    nodes = document.get(f"{NAMESPACE}:nodes")
    wants_passwords = is_prod(stack) and f"{NAMESPACE}:ldsmPasswords" not in document
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


# --- the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    name: str
    host: str

    def __str__(self) -> str:
        return f"{self.name} ({self.host})"


@dataclass(frozen=True)
class PlannedResource:
    typ: str
    name: str
    parent: str
    provider: str
    node: Node | None
    depends_on: list[str]
    inputs: dict[str, Any]
    """Inputs as shown: secrets as SECRET, placeholders for values known after deployment."""
    delete_before_replace: bool = False
    ignore_changes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Plan:
    stack: str
    file: str
    project: str
    notes: list[str]
    resources: list[PlannedResource]
    outputs: dict[str, Any]
    warnings: list[str]


def _parent_name(urn: str) -> str:
    """The parent's name; empty for the stack itself, whose name holds the stack name."""
    return "" if "::pulumi:pulumi:Stack::" in urn else _urn_name(urn)


def _urn_name(urn: str) -> str:
    """The name in a URN, or in a provider reference `URN::ID`."""
    parts = urn.split("::")
    if len(parts) > 4:  # a provider reference: the URN, then the provider's id
        return parts[3]
    return parts[-1] if urn else ""


class _Shower:
    """Turns recorded inputs into what the plan shows."""

    def __init__(self, stand_in: str | None, key_file: str | None) -> None:
        self.stand_in = stand_in
        self.key_file = key_file

    def __call__(self, value: Any) -> Any:
        if is_secret_wrapper(value):
            inner = value["value"]
            # An input that is secret as a whole because one of its fields is (a service's task
            # spec holds the LDSM password): show its fields, the secret ones as SECRET.
            return self(inner) if isinstance(inner, dict | list) else SECRET
        if isinstance(value, dict):
            return {k: self(value[k]) for k in sorted(value)}
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            if SECRET in value:
                return SECRET
            if self.stand_in and self.key_file is not None:
                return value.replace(self.stand_in, self.key_file)
        return value


def _provider_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """Provider inputs arrive JSON-encoded when they are not strings; decode them for display."""
    decoded: dict[str, Any] = {}
    for key, value in inputs.items():
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with suppress(json.JSONDecodeError):
                value = json.loads(value)
        decoded[key] = value
    return decoded


def _host_of_docker_url(url: Any) -> str | None:
    if not isinstance(url, str) or "://" not in url:
        return None
    location = url.split("://", 1)[1].rsplit("@", 1)[-1]
    if location.startswith("["):
        return location[1:].split("]", 1)[0]
    return location.rsplit(":", 1)[0] if location.count(":") == 1 else location


def _placement_node(inputs: dict[str, Any]) -> str | None:
    constraints = (inputs.get("taskSpec") or {}).get("placement", {}).get("constraints") or []
    for constraint in constraints:
        if isinstance(constraint, str) and constraint.startswith("node.labels.name == "):
            return constraint.removeprefix("node.labels.name == ").strip()
    return None


def _nodes_by(outputs: dict[str, Any]) -> tuple[dict[str, Node], dict[str, Node]]:
    nodes = [Node(n["name"], n["host"]) for n in outputs.get("nodes") or []]
    return {n.name: n for n in nodes}, {n.host: n for n in nodes}


def _node_of(
    resource: PlannedResource,
    providers: dict[str, PlannedResource],
    by_name: dict[str, Node],
    by_host: dict[str, Node],
) -> Node | None:
    """Where a resource runs: its connection's host, its placement, or its provider's host."""

    def at(host: str | None) -> Node | None:
        return None if host is None else by_host.get(host, Node(host, host))

    if resource.typ == COMMAND:
        connection = resource.inputs.get("connection")
        return at(connection.get("host")) if isinstance(connection, dict) else None
    if resource.typ == SERVICE:
        alias = _placement_node(resource.inputs)
        if alias is not None:
            return by_name.get(alias, Node(alias, "?"))
    if resource.typ.startswith("pulumi:providers:"):
        return at(_host_of_docker_url(resource.inputs.get("host")))
    provider = providers.get(resource.provider)
    return provider.node if provider is not None else None


def make_plan(stack: str, *, root: Path = ROOT, file: Path | None = None) -> Plan:
    """Evaluate the program with the stack's config under mocks; raise ConfigError if invalid."""
    project = project_name(root)
    path = file if file is not None else stack_file(stack, root)
    inputs = read_stack_file(path, project)
    with stand_in_key(inputs) as (config, stand_in):
        evaluation = run_program(
            config,
            inputs.secret_keys,
            placeholder_stub,
            stack=stack,
            project=project,
            main=root / "__main__.py",
        )
    show = _Shower(stand_in, inputs.key_file)
    planned = []
    for recorded in evaluation.resources:
        shown = show(recorded.inputs)
        if recorded.typ.startswith("pulumi:providers:"):
            shown = _provider_inputs(shown)
        planned.append(
            PlannedResource(
                typ=recorded.typ,
                name=recorded.name,
                parent=_parent_name(recorded.parent),
                provider=_urn_name(recorded.provider or ""),
                node=None,
                depends_on=sorted(_urn_name(d) for d in recorded.dependencies),
                inputs=shown,
                delete_before_replace=recorded.delete_before_replace,
                ignore_changes=sorted(recorded.ignore_changes),
            )
        )
    by_name, by_host = _nodes_by(evaluation.outputs)
    providers = {r.name: r for r in planned if r.typ.startswith("pulumi:providers:")}
    for name, provider in providers.items():
        providers[name] = _with_node(provider, _node_of(provider, {}, by_name, by_host))
    resources = sorted(
        (_with_node(r, _node_of(r, providers, by_name, by_host)) for r in planned),
        key=lambda r: (r.typ, r.name),
    )
    return Plan(
        stack=stack,
        file=path.name,
        project=project,
        notes=_notes(inputs),
        resources=resources,
        outputs={k: show(v) for k, v in sorted(evaluation.outputs.items())},
        warnings=sorted(set(evaluation.logs)),
    )


def _with_node(resource: PlannedResource, node: Node | None) -> PlannedResource:
    return PlannedResource(
        resource.typ,
        resource.name,
        resource.parent,
        resource.provider,
        node,
        resource.depends_on,
        resource.inputs,
        resource.delete_before_replace,
        resource.ignore_changes,
    )


def _notes(inputs: StackInputs) -> list[str]:
    notes = ["Evaluated under Pulumi mocks: no host, provider or backend was contacted."]
    secure = [k.split(":", 1)[1] for k in inputs.secret_keys]
    secure = [k for k in secure if k not in inputs.unset]
    if secure:
        notes.append(f"secure: values ({', '.join(secure)}) are not decrypted: shown as {SECRET}.")
    if inputs.unset:
        notes.append(
            f"not set in the file ({', '.join(inputs.unset)}; set them with pulumi config set "
            f"--secret before pulumi up): evaluated as if set, shown as {SECRET}."
        )
    if inputs.key_file is not None:
        notes.append(
            f"ssh.privateKeyFile {inputs.key_file} is not read: evaluated with a stand-in key."
        )
    notes.append("<name.output> stands for a value known only once that resource exists.")
    return notes


# --- rendering --------------------------------------------------------------------------------

TYPE_WIDTH: Final = 32
NAME_WIDTH: Final = 24
PARENT_WIDTH: Final = 16
KEY_WIDTH: Final = 44


def script_names() -> list[str]:
    """The host scripts in federation/scripts/, longest code first (the most specific match)."""
    names = [
        entry.name.removesuffix(".sh")
        for entry in resources.files("federation").joinpath("scripts").iterdir()
        if entry.name.endswith(".sh")
    ]
    return sorted(names, key=lambda name: (-len(render(name)), name))


def script_summary(text: str) -> str | None:
    """`join.sh sha256:<12 hex> NODE=hug ...` for a rendered host script, else None."""
    for name in script_names():
        body = render(name)  # the script's code, without parameters
        if text.endswith(body):
            digest = hashlib.sha256(body.encode()).hexdigest()[:12]
            params = " ".join(text[: -len(body)].split("\n")).strip()
            return f"{name}.sh sha256:{digest} {params}".rstrip()
    return None


def _scalar(value: Any, key: str) -> str:
    if value == SECRET:
        return SECRET
    if isinstance(value, str) and key.rsplit(".", 1)[-1] in ("create", "update", "delete"):
        summary = script_summary(value)
        if summary is not None:
            return summary
    return json.dumps(value, ensure_ascii=False)


def flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """(path, shown value) for every leaf; lists of scalars stay on one line."""
    if isinstance(value, dict):
        if not value:
            return [(prefix, "{}")] if prefix else []
        rows = []
        for key in sorted(value):
            rows += flatten(value[key], f"{prefix}.{key}" if prefix else key)
        return rows
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        rows = []
        for i, item in enumerate(value):
            rows += flatten(item, f"{prefix}[{i}]")
        return rows
    if isinstance(value, list):
        return [(prefix, "[" + ", ".join(_scalar(v, prefix) for v in value) + "]")]
    return [(prefix, _scalar(value, prefix))]


def _row(*cells: str) -> str:
    widths = (TYPE_WIDTH, NAME_WIDTH, PARENT_WIDTH)
    padded = [f"{c:<{w}}" for c, w in zip(cells, widths, strict=False)]
    return (" ".join(padded + list(cells[len(widths) :]))).rstrip()


def render_table(plan: Plan) -> str:
    lines = [f"# Plan of stack {plan.stack} ({plan.file}), project {plan.project}"]
    lines += [f"# {note}" for note in plan.notes]
    lines += ["", _row("TYPE", "NAME", "PARENT", "NODE")]
    for resource in plan.resources:
        node = str(resource.node) if resource.node is not None else "-"
        lines.append(_row(resource.typ, resource.name, resource.parent or "-", node))
        details = [("(provider)", resource.provider)] if resource.provider else []
        if resource.delete_before_replace:
            details.append(("(deleteBeforeReplace)", "true"))
        if resource.ignore_changes:
            details.append(("(ignoreChanges)", "[" + ", ".join(resource.ignore_changes) + "]"))
        details += flatten(resource.inputs)
        lines += [f"    {key:<{KEY_WIDTH}} {value}".rstrip() for key, value in details]
    lines += ["", "OUTPUTS"]
    lines += [f"    {key:<{KEY_WIDTH}} {value}" for key, value in flatten(plan.outputs)]
    if plan.warnings:
        lines += ["", "WARNINGS"] + [f"    {warning}" for warning in plan.warnings]
    return "\n".join(lines) + "\n"


def render_json(plan: Plan) -> str:
    document = {
        "stack": plan.stack,
        "file": plan.file,
        "project": plan.project,
        "notes": plan.notes,
        "resources": [
            {
                "type": r.typ,
                "name": r.name,
                "parent": r.parent,
                "provider": r.provider,
                "node": None if r.node is None else {"name": r.node.name, "host": r.node.host},
                "dependsOn": r.depends_on,
                "inputs": r.inputs,
                "deleteBeforeReplace": r.delete_before_replace,
                "ignoreChanges": r.ignore_changes,
            }
            for r in plan.resources
        ],
        "outputs": plan.outputs,
        "warnings": plan.warnings,
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m federation.plan",
        description="Print the resources a stack plans, evaluated under mocks (no network).",
    )
    parser.add_argument("stack", help="stack name: reads Pulumi.STACK.yaml")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--file", type=Path, help="stack file (default: Pulumi.STACK.yaml)")
    args = parser.parse_args(argv)
    path = args.file if args.file is not None else stack_file(args.stack)
    if not path.is_file():
        print(f"error: {path} does not exist", file=sys.stderr)
        return 2
    try:
        plan = make_plan(args.stack, file=path)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(render_json(plan) if args.json else render_table(plan))
    return 0


if __name__ == "__main__":
    sys.exit(main())
