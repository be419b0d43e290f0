"""What `pulumi preview` prints, from the engine double's preview steps.

- `property_diff`: the structure pkg/backend/display/object_diff.go prints (resource.ObjectDiff of
  the old and new inputs), computed where secrets are still known as such, with every secret
  shown as `[secret]` and unknowns as `output<string>`.
- `render_diff`: `pulumi preview --diff` (pkg/backend/display/diff.go and object_diff.go:
  `getResourcePropertiesSummary`, `printObjectDiff`, `printPropertyValueDiff`,
  `renderSummaryEvent`), without colours.
- `render_table`: the default progress view's final table, in a plain form.
- `render_json`: `pulumi preview --json` (pkg/backend/display/json.go ShowPreviewDigest,
  pkg/display/json.go PreviewDigest/PreviewStep): `steps` (op, urn, provider, diffReasons,
  replaceReasons, detailedDiff) and `changeSummary`.

Which steps show (pkg/backend/display/display.go shouldShow): sames only with `show_sames`;
create-replacement and delete-replaced only with `show_replacement_steps`.
"""

from __future__ import annotations

import json
from typing import Any

from tests.engine.props import SECRET_PLACEHOLDER, is_secret, is_unknown, unwrap

UNKNOWN_TEXT = "output<string>"
# pkg/resource/deploy/step.go RawPrefix, and StepOps order for the summary.
PREFIX = {
    "same": "  ",
    "create": "+ ",
    "delete": "- ",
    "update": "~ ",
    "replace": "+-",
    "create-replacement": "++",
    "delete-replaced": "--",
    "refresh": "~ ",
}
SUMMARY_ORDER = ("create", "update", "delete", "replace", "create-replacement", "delete-replaced")
REPLACEMENT_STEPS = ("create-replacement", "delete-replaced")

# ---------------------------------------------------------------- property diffs (in the worker)


def _shown(value: Any) -> Any:
    """A wrapped value as the display shows it: secrets `[secret]`, unknowns `output<string>`."""
    if is_secret(value):
        return SECRET_PLACEHOLDER
    if is_unknown(value):
        return UNKNOWN_TEXT
    if isinstance(value, dict):
        return {k: _shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shown(v) for v in value]
    return value


def _value_diff(old: Any, new: Any) -> dict[str, Any] | None:
    """resource.PropertyValue.Diff: None when equal; object and array diffs recurse (not into
    secrets: a changed secret is one `[secret] => [secret]` update)."""
    if unwrap(old) == unwrap(new) and not is_unknown(new):
        return None
    if not is_secret(old) and not is_secret(new):
        if isinstance(old, dict) and isinstance(new, dict):
            return {"object": property_diff(old, new)}
        if isinstance(old, list) and isinstance(new, list):
            items: dict[str, Any] = {}
            for i in range(max(len(old), len(new))):
                if i >= len(old):
                    items[str(i)] = {"add": _shown(new[i])}
                elif i >= len(new):
                    items[str(i)] = {"delete": _shown(old[i])}
                else:
                    diff = _value_diff(old[i], new[i])
                    items[str(i)] = diff if diff is not None else {"same": _shown(new[i])}
            return {"array": items}
    return {"old": _shown(old), "new": _shown(new)}


def property_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """resource.PropertyMap.Diff of two wrapped property maps, made printable: key ->
    {"add": v} | {"delete": v} | {"old": a, "new": b} | {"object": {...}} | {"array": {...}};
    nulls count as absent, equal keys are left out."""
    result: dict[str, Any] = {}
    for key in sorted(set(old) | set(new)):
        o, n = old.get(key), new.get(key)
        if o is None and n is None:
            continue
        if o is None:
            result[key] = {"add": _shown(n)}
        elif n is None:
            result[key] = {"delete": _shown(o)}
        else:
            diff = _value_diff(o, n)
            if diff is not None:
                result[key] = diff
    return result


# ---------------------------------------------------------------- which steps show


def shown_steps(
    steps: list[dict[str, Any]], show_sames: bool = False, show_replacement_steps: bool = False
) -> list[dict[str, Any]]:
    """display.go shouldShow (the root stack always shows in the diff view)."""
    result = []
    for step in steps:
        if step["op"] == "same" and not show_sames and step["type"] != "pulumi:pulumi:Stack":
            continue
        if step["op"] in REPLACEMENT_STEPS and not step["logical"] and not show_replacement_steps:
            continue
        result.append(step)
    return result


# ---------------------------------------------------------------- --json


def render_json(
    steps: list[dict[str, Any]],
    change_summary: dict[str, int],
    show_sames: bool = False,
    show_replacement_steps: bool = False,
) -> str:
    """`pulumi preview --json`: the PreviewDigest, indented with four spaces like the CLI's."""
    digest_steps = []
    for step in steps:
        if step["op"] == "same" and not show_sames and step["type"] != "pulumi:pulumi:Stack":
            continue
        if step["op"] in REPLACEMENT_STEPS and not show_replacement_steps:
            continue
        item: dict[str, Any] = {"op": step["op"], "urn": step["urn"]}
        if step["provider"]:
            item["provider"] = step["provider"]
        if step["diffReasons"]:
            item["diffReasons"] = step["diffReasons"]
        if step["replaceReasons"]:
            item["replaceReasons"] = step["replaceReasons"]
        item["detailedDiff"] = step["detailedDiff"]
        digest_steps.append(item)
    digest: dict[str, Any] = {}
    if digest_steps:
        digest["steps"] = digest_steps
    if change_summary:
        digest["changeSummary"] = change_summary
    return json.dumps(digest, indent=4)


# ---------------------------------------------------------------- --diff


def _primitive(value: Any) -> str:
    if value is None:
        return "<null>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:.0f}" if float(value).is_integer() else f"{value:g}"
    if value in (SECRET_PLACEHOLDER, UNKNOWN_TEXT):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


class _Printer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    @staticmethod
    def lead(indent: int, op: str, prefix: bool) -> str:
        """object_diff.go getIndentationString: 4 spaces a level, the op's 2-char prefix in the
        last two when prefixed."""
        text = "    " * indent
        if prefix and text:
            text = text[:-2] + PREFIX[op]
        return text

    def value(self, value: Any, indent: int, op: str, prefix: bool) -> str:
        """printPropertyValue: the text of a value, nested lines at `indent`."""
        if isinstance(value, dict):
            if not value:
                return "{}"
            width = max(len(k) for k in value)
            inner = [
                f"{self.lead(indent + 1, op, prefix)}{k:<{width}}: "
                f"{self.value(v, indent + 1, op, prefix)}"
                for k, v in sorted(value.items())
                if v is not None
            ]
            return "{\n" + "\n".join(inner) + "\n" + self.lead(indent, op, False) + "}"
        if isinstance(value, list):
            if not value:
                return "[]"
            inner = [
                f"{self.lead(indent + 1, op, prefix)}[{i}]: {self.value(v, indent + 1, op, prefix)}"
                for i, v in enumerate(value)
            ]
            return "[\n" + "\n".join(inner) + "\n" + self.lead(indent, op, False) + "]"
        return _primitive(value)

    def obj(self, props: dict[str, Any], indent: int, op: str) -> None:
        """PrintObject: every property with the op's prefix."""
        keys = [k for k in sorted(props) if props[k] is not None]
        width = max((len(k) for k in keys), default=0)
        for key in keys:
            self.lines.append(
                f"{self.lead(indent, op, True)}{key:<{width}}: "
                f"{self.value(props[key], indent, op, True)}"
            )

    def diff(self, diff: dict[str, Any], indent: int, title: str | None = None) -> None:
        """printObjectDiff / printPropertyValueDiff."""
        width = max((len(k) for k in diff), default=0)
        for key, entry in diff.items():
            self.entry(f"{key:<{width}}: ", entry, indent)

    def entry(self, title: str, entry: dict[str, Any], indent: int) -> None:
        if "add" in entry:
            value = self.value(entry["add"], indent, "create", True)
            self.lines.append(f"{self.lead(indent, 'create', True)}{title}{value}")
        elif "delete" in entry:
            value = self.value(entry["delete"], indent, "delete", True)
            self.lines.append(f"{self.lead(indent, 'delete', True)}{title}{value}")
        elif "same" in entry:
            value = self.value(entry["same"], indent, "same", False)
            self.lines.append(f"{self.lead(indent, 'same', False)}{title}{value}")
        elif "object" in entry:
            self.lines.append(f"{self.lead(indent, 'update', True)}{title}{{")
            self.diff(entry["object"], indent + 1)
            self.lines.append(f"{self.lead(indent, 'update', False)}}}")
        elif "array" in entry:
            self.lines.append(f"{self.lead(indent, 'update', True)}{title}[")
            for index, item in entry["array"].items():
                self.entry(f"[{index}]: ", item, indent + 1)
            self.lines.append(f"{self.lead(indent, 'update', False)}]")
        else:
            old, new = entry["old"], entry["new"]
            if isinstance(old, dict | list) or isinstance(new, dict | list):
                self.entry(title, {"delete": old}, indent)
                self.entry(title, {"add": new}, indent)
            else:
                self.lines.append(
                    f"{self.lead(indent, 'update', True)}{title}"
                    f"{_primitive(old)} => {_primitive(new)}"
                )


def _indent_of(step: dict[str, Any], shown: dict[str, dict[str, Any]]) -> int:
    """object_diff.go getIndent: one level per shown ancestor (the root stack is the parent of
    top-level resources)."""
    indent = 0
    parent = step.get("parent") or ""
    guard = 0
    while parent and parent in shown and guard < 100:
        indent += 1
        parent = shown[parent].get("parent") or ""
        guard += 1
    return indent


def _stack_parent(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    stack = next((s["urn"] for s in steps if s["type"] == "pulumi:pulumi:Stack"), "")
    result = []
    for step in steps:
        step = dict(step)
        if step["type"] != "pulumi:pulumi:Stack" and not step.get("parent"):
            step["parent"] = stack
        result.append(step)
    return result


def render_summary(change_summary: dict[str, int]) -> list[str]:
    """diff.go renderSummaryEvent for a preview."""
    lines = ["Resources:"]
    kinds = 0
    total = 0
    for op in SUMMARY_ORDER:
        count = change_summary.get(op, 0)
        if count:
            kinds += 1
            total += count
            lines.append(f"    {PREFIX[op]}{count} to {op}")
    pieces = []
    if kinds >= 2:
        pieces.append(f"{total} {'change' if total == 1 else 'changes'}")
    if change_summary.get("same"):
        pieces.append(f"{change_summary['same']} unchanged")
    if pieces:
        lines.append("    " + ". ".join(pieces))
    return lines


def render_diff(
    steps: list[dict[str, Any]],
    change_summary: dict[str, int],
    stack: str,
    show_sames: bool = False,
    show_replacement_steps: bool = False,
) -> str:
    """`pulumi preview --diff`."""
    printer = _Printer()
    printer.lines.append(f"Previewing update ({stack}):")
    steps = _stack_parent(steps)
    visible = shown_steps(steps, show_sames, show_replacement_steps)
    by_urn = {s["urn"]: s for s in visible}
    for step in visible:
        op = step["op"]
        indent = _indent_of(step, by_urn)
        simple = "same" if op not in ("create", "delete") else op
        printer.lines.append(
            f"{printer.lead(indent, 'same', False)}{PREFIX[op]}{step['type']}: ({op})"
        )
        if step.get("id"):
            printer.lines.append(f"{printer.lead(indent + 1, simple, False)}[id={step['id']}]")
        printer.lines.append(f"{printer.lead(indent + 1, simple, False)}[urn={step['urn']}]")
        if step.get("provider"):
            printer.lines.append(
                f"{printer.lead(indent + 1, simple, False)}[provider={step['provider']}]"
            )
        details = indent + 1
        if op == "create" or (op == "create-replacement" and step.get("diff") is None):
            printer.obj(step.get("new_inputs") or {}, details, "create")
        elif op == "delete":
            printer.obj(step.get("old_inputs") or {}, details, "delete")
        elif step.get("diff"):
            printer.diff(step["diff"], details)
    printer.lines.extend(render_summary(change_summary))
    return "\n".join(printer.lines) + "\n"


def render_table(steps: list[dict[str, Any]], change_summary: dict[str, int], stack: str) -> str:
    """The default (progress) view once it is done: one row per shown step, with its op and
    `[diff: ~key]` of the keys that change, then the summary."""
    steps = _stack_parent(steps)
    visible = [s for s in shown_steps(steps) if s["op"] != "same" or s["type"].endswith("Stack")]
    by_urn = {s["urn"]: s for s in visible}
    rows = [("", "Type", "Name", "Plan", "Info")]
    for step in visible:
        indent = _indent_of(step, by_urn)
        tree = ("├─ " if indent else "") if step["type"] != "pulumi:pulumi:Stack" else ""
        plan = "" if step["op"] == "same" else step["op"]
        info = ""
        if step["diffReasons"] and step["op"] in ("update", "replace"):
            marks = [
                ("+-" if key in step["replaceReasons"] else "~") + key
                for key in step["diffReasons"]
            ]
            info = f"[diff: {' '.join(marks)}]"
        symbol = PREFIX[step["op"]].strip() if step["op"] != "same" else ""
        rows.append(
            (symbol, "    " * max(indent - 1, 0) + tree + step["type"], step["name"], plan, info)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = [f"Previewing update ({stack}):", ""]
    for row in rows:
        lines.append(" " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    lines.append("")
    lines.extend(render_summary(change_summary))
    return "\n".join(lines) + "\n"
