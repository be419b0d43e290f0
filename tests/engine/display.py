"""What `pulumi preview` prints, from the engine double's preview steps.

- `translate_detailed_diff`: pkg/engine/detailedDiff.go TranslateDetailedDiff, the structure
  `--diff` prints for a step with a detailed diff (every update and replace here): one entry per
  detailed-diff path, the old value taken from the step's old outputs (its old inputs when the
  entry's inputDiff is true), the new one from its new inputs.
- `property_diff`: resource.PropertyMap.Diff (sdk/go/common/resource/properties_diff.go), what
  diff.go getResourcePropertiesDetails prints for a step without one; computed where secrets are
  still known as such, every secret shown as `[secret]` and unknowns as `[unknown]`.
- `render_diff`: `pulumi preview --diff` (pkg/backend/display/diff.go renderDiff and
  object_diff.go: `getResourcePropertiesSummary`, `printObjectDiff`, `printPropertyValueDiff`,
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

from tests.engine.paths import PathError, parse_path
from tests.engine.props import SECRET_PLACEHOLDER, UNKNOWN, is_secret, is_unknown, unwrap

# object_diff.go printPrimitivePropertyValue: a computed value prints `[unknown]` (pulumi/pulumi
# 2c7a8300c2, #19204, "Display [unknown] rather than output<T>", before v3.163).
UNKNOWN_TEXT = "[unknown]"
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
    """A wrapped value as the display shows it: secrets `[secret]`, unknowns `[unknown]`."""
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
    secrets: a changed secret is one `[secret] => [secret]` update), keeping their sames."""
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
    {"add": v} | {"delete": v} | {"same": v} | {"old": a, "new": b} | {"object": {...}} |
    {"array": {...}}; nulls count as absent."""
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
            result[key] = diff if diff is not None else {"same": _shown(o)}
    return result


class _Level:
    """One ObjectDiff or ArrayDiff being built by addDiff: adds, deletes and updates by key."""

    def __init__(self) -> None:
        self.adds: dict[Any, Any] = {}
        self.deletes: dict[Any, Any] = {}
        self.updates: dict[Any, Any] = {}  # key -> _Level (a nested diff) or a finished entry

    def entries(self) -> dict[str, Any]:
        """printObjectPropertyDiff's precedence: an add, else a delete, else an update."""
        out: dict[str, Any] = {}
        for key in sorted(set(self.adds) | set(self.deletes) | set(self.updates), key=_order):
            if key in self.adds:
                out[str(key)] = {"add": _shown(self.adds[key])}
            elif key in self.deletes:
                out[str(key)] = {"delete": _shown(self.deletes[key])}
            else:
                update = self.updates[key]
                out[str(key)] = update.finish() if isinstance(update, _Nested) else update
        return out


def _order(key: Any) -> tuple[int, Any]:
    return (0, key) if isinstance(key, int) else (1, key)


class _Nested:
    """A ValueDiff whose Object or Array addDiff fills in."""

    def __init__(self) -> None:
        self.object: _Level | None = None
        self.array: _Level | None = None

    def finish(self) -> dict[str, Any]:
        if self.object is not None:
            return {"object": self.object.entries()}
        if self.array is not None:
            return {"array": self.array.entries()}
        return {"old": None, "new": None}


_MISSING = object()


def _get_property(key: Any, value: Any) -> tuple[Any, bool]:
    """detailedDiff.go getProperty: an array index or object key; secrets and unknowns are
    opaque and returned as they are."""
    if is_secret(value) or is_unknown(value):
        return value, True
    if isinstance(value, list) and isinstance(key, int):
        return (value[key], True) if 0 <= key < len(value) else (None, False)
    if isinstance(value, dict) and isinstance(key, str):
        return value.get(key), key in value
    return None, False


def _leaf_update(old: Any, new: Any) -> dict[str, Any]:
    diff = _value_diff(old, new)
    return diff if diff is not None else {"old": _shown(old), "new": _shown(new)}


def _add_diff(
    path: list[Any], kind: str, parent: _Nested, old_parent: Any, new_parent: Any
) -> None:
    """detailedDiff.go addDiff: at the leaf the provider's kind decides (a missing side is
    unknown); above it, a side that is null makes the whole property an add or a delete."""
    element = path[0]
    old, has_old = _get_property(element, old_parent)
    new, has_new = _get_property(element, new_parent)
    if isinstance(element, int):
        if parent.array is None:
            parent.array = _Level()
        level = parent.array
    else:
        if parent.object is None:
            parent.object = _Level()
        level = parent.object
    base = kind.split("-")[0]
    if len(path) == 1:
        if base == "add":
            level.adds[element] = new if has_new else UNKNOWN
        elif base == "delete":
            level.deletes[element] = old if has_old else UNKNOWN
        else:
            level.updates[element] = _leaf_update(old, new)
        return
    if old is None and new is not None:
        level.adds[element] = new
    elif old is not None and new is None:
        level.deletes[element] = old
    else:
        nested = level.updates.get(element)
        if not isinstance(nested, _Nested):
            nested = _Nested()
            level.updates[element] = nested
        _add_diff(path[1:], kind, nested, old, new)


def translate_detailed_diff(
    detailed: dict[str, dict[str, Any]],
    old_outputs: dict[str, Any],
    old_inputs: dict[str, Any],
    new_inputs: dict[str, Any],
) -> dict[str, Any] | None:
    """detailedDiff.go TranslateDetailedDiff (not a refresh): the printable ObjectDiff of a
    step's detailed diff, None when it has no entry. Old values come from the old outputs, or
    the old inputs for an entry with inputDiff; new values from the new inputs."""
    root = _Nested()
    for text, entry in detailed.items():
        try:
            elements: list[Any] = list(parse_path(text))
        except PathError:
            elements = [text]
        if not elements:
            elements = [text]
        olds = old_inputs if entry.get("inputDiff") else old_outputs
        _add_diff(elements, entry["kind"], root, olds, new_inputs)
    return root.object.entries() if root.object is not None else None


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


def _should_print(value: Any) -> bool:
    """object_diff.go shouldPrintPropertyValue: no nulls, empty strings, arrays or objects."""
    return value not in (None, "", [], {})


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
            # printPropertyValueRecurse: each element's title is written at the array's own
            # indent ("    [i]: " after the prefix), its value one level in.
            inner = [
                f"{self.lead(indent, op, prefix)}    [{i}]: {self.value(v, indent + 1, op, prefix)}"
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
        """printObjectDiff / printObjectPropertyDiff: every key aligned (sames included in the
        width), a same printed only when shouldPrintPropertyValue."""
        width = max((len(k) for k in diff), default=0)
        for key, entry in diff.items():
            if "same" in entry and not _should_print(entry["same"]):
                continue
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
            for index, item in sorted(entry["array"].items(), key=lambda kv: int(kv[0])):
                self.entry(f"[{index}]: ", item, indent + 1)
            self.lines.append(f"{self.lead(indent, 'update', False)}]")
        else:
            # printPropertyValueDiff: `old => new` when both print and are primitive; else a
            # delete line for an old value that prints, an add line for a new one.
            old, new = entry["old"], entry["new"]
            print_old, print_new = _should_print(old), _should_print(new)
            primitive = not isinstance(old, dict | list) and not isinstance(new, dict | list)
            if print_old and print_new and primitive:
                self.lines.append(
                    f"{self.lead(indent, 'update', True)}{title}"
                    f"{_primitive(old)} => {_primitive(new)}"
                )
                return
            if print_old:
                self.entry(title, {"delete": old}, indent)
            if print_new:
                self.entry(title, {"add": new}, indent)


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
        elif step.get("detailedDiff") is not None and step.get("old_inputs") is not None:
            # diff.go renderDiff: a detailed diff that translates to nothing prints the old
            # inputs as unchanged.
            printer.obj(step["old_inputs"], details, "same")
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
