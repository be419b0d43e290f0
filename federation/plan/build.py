"""Building a stack's plan: evaluate the program with the stack file's config under mocks, and
turn what it registered into what the plan shows (secrets as SECRET, each resource's node)."""

from __future__ import annotations

import json
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from federation.plan.harness import COMMAND, ROOT, SERVICE, placeholder_stub, run_program
from federation.plan.stackfile import (
    SECRET,
    StackInputs,
    project_name,
    read_stack_inputs,
    stack_file,
    stand_in_agent,
    stand_in_key,
)
from federation.tree import DESCEND, is_secret_wrapper, rebuild


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
        return rebuild(value, self._shown)

    def _shown(self, value: Any) -> Any:
        if is_secret_wrapper(value):
            inner = value["value"]
            # An input that is secret as a whole because one of its fields is (a service's task
            # spec holds the LDSM password): show its fields, the secret ones as SECRET.
            return self(inner) if isinstance(inner, dict | list) else SECRET
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            if SECRET in value:
                return SECRET
            if self.stand_in and self.key_file is not None:
                return value.replace(self.stand_in, self.key_file)
        return DESCEND


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
    inputs = read_stack_inputs(path, project)
    with stand_in_key(inputs) as (config, stand_in), stand_in_agent(inputs):
        evaluation = run_program(
            config,
            inputs.secret_keys,
            placeholder_stub,
            stack=stack,
            project=project,
            main=root / "__main__.py",
            allow_samples=True,
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
    if inputs.uses_agent:
        notes.append(
            "no SSH key set: the commands log in through the SSH agent (no privateKey), "
            "evaluated with a stand-in agent socket."
        )
    if inputs.key_file is not None:
        notes.append(
            f"ssh.privateKeyFile {inputs.key_file} is not read: evaluated with a stand-in key."
        )
    notes.append("<name.output> stands for a value known only once that resource exists.")
    return notes
