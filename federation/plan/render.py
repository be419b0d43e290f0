"""Rendering a plan: a readable table (host scripts summarised by name and digest), or JSON."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from typing import Any, Final

from federation.plan.build import Plan
from federation.plan.stackfile import SECRET
from federation.scripts import render

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
