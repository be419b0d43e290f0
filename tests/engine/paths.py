"""Property paths and property diffs, as the Pulumi engine handles them: ignoreChanges,
replaceOnChanges and the detailed diff decide what a preview shows and what gets replaced.
Upstream files and functions: FIDELITY.md, "Property paths".

Values are the engine double's wrapped form: secrets are `{sig: secret, value: ...}` dicts,
unknowns the UNKNOWN sentinel string.
"""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from typing import Any

from tests.engine.props import is_secret, is_unknown, wrap_secret
from tests.engine.providers.base import DiffResult, PropertyDiff

Path = list[str | int]


class PathError(ValueError):
    pass


def parse_path(text: str) -> Path:
    """properties_path.go parsePropertyPath (non-strict): `a.b[0]["c.d"][*]`."""
    elements: Path = []
    if text.startswith("."):
        raise PathError("expected property path to start with a name or index")
    rest = text
    while rest:
        if rest[0] == ".":
            rest = rest[1:]
            if not rest:
                raise PathError("expected property path to end with a name or index")
        elif rest[0] == "[":
            if len(rest) > 1 and rest[1] == '"':
                key: list[str] = []
                i = 2
                while True:
                    if i >= len(rest):
                        raise PathError("missing closing quote in property name")
                    if rest[i] == '"':
                        i += 1
                        break
                    if rest[i] == "\\" and i + 1 < len(rest) and rest[i + 1] == '"':
                        key.append('"')
                        i += 2
                    else:
                        key.append(rest[i])
                        i += 1
                if i >= len(rest) or rest[i] != "]":
                    raise PathError("missing closing bracket in property access")
                elements.append("".join(key))
                rest = rest[i + 1 :]
            else:
                end = rest.find("]")
                if end == -1:
                    raise PathError("missing closing bracket in array index")
                segment = rest[1:end]
                if segment == "*":
                    elements.append("*")
                else:
                    try:
                        elements.append(int(segment))
                    except ValueError as exc:
                        raise PathError(f"invalid array index: {segment!r}") from exc
                rest = rest[end + 1 :]
        else:
            match = re.match(r"[^.\[]*", rest)
            assert match is not None
            elements.append(match.group(0))
            rest = rest[match.end() :]
    return elements


def path_string(path: Path) -> str:
    """properties_path.go PropertyPath.String: `a.b[0]["c.d"]`."""
    out = ""
    for element in path:
        if isinstance(element, int):
            out += f"[{element}]"
        elif element == "*":
            out += "[*]"
        elif re.fullmatch(r"[A-Za-z0-9_]+", element):
            out += ("." if out else "") + element
        else:
            out += '["' + element.replace('"', '\\"') + '"]'
    return out


def path_contains(pattern: Path, other: Path) -> bool:
    """properties_path.go PropertyPath.Contains: `other` is `pattern` or inside it; `*` matches
    any one element."""
    if len(other) < len(pattern):
        return False
    for mine, theirs in zip(pattern, other, strict=False):
        if mine == "*":
            continue
        if type(mine) is not type(theirs) or mine != theirs:
            return False
    return True


def _unwrap(value: Any) -> tuple[Any, bool]:
    secret = False
    while is_secret(value):
        value, secret = value.get("value"), True
    return value, secret


def _reset(path: Path, old: Any, new: Any, old_secret: bool, new_secret: bool) -> bool:
    """properties_path.go PropertyPath.reset: set `new` at `path` to `old`'s value, in place."""
    if not path:
        return False
    old, was = _unwrap(old)
    old_secret = old_secret or was
    new, was = _unwrap(new)
    new_secret = new_secret or was

    def carry(value: Any) -> Any:
        return wrap_secret(value) if old_secret and not new_secret else value

    key = path[0]
    if isinstance(key, int):
        if key < 0:
            return False
        if len(path) == 1:
            if not isinstance(old, list) and not isinstance(new, list):
                return True
            if not isinstance(old, list) or not isinstance(new, list):
                return False
            if key >= len(old) and key >= len(new):
                return True
            if key >= len(old) or key >= len(new):
                return False
            new[key] = carry(copy.deepcopy(old[key]))
            return True
        if not isinstance(old, list) or not isinstance(new, list):
            return not isinstance(old, list) and not isinstance(new, list)
        if key >= len(old) or key >= len(new):
            return False
        return _reset(path[1:], old[key], new[key], old_secret, new_secret)
    if key == "*":
        if len(path) == 1:
            if isinstance(new, dict):
                if isinstance(old, dict):
                    for k in list(new):
                        if k not in old:
                            del new[k]
                    for k, v in old.items():
                        new[k] = carry(copy.deepcopy(v))
                return True
            if isinstance(new, list):
                if isinstance(old, list):
                    for i, v in enumerate(old[: len(new)]):
                        new[i] = carry(copy.deepcopy(v))
                    if len(old) != len(new):
                        return False
                return True
            return False
        if isinstance(old, dict) and isinstance(new, dict):
            for k in old:
                if k not in new:
                    return False
                if not _reset(path[1:], old[k], new[k], old_secret, new_secret):
                    return False
            return True
        if isinstance(old, list) and isinstance(new, list):
            for i in range(min(len(old), len(new))):
                if not _reset(path[1:], old[i], new[i], old_secret, new_secret):
                    return False
            return len(old) == len(new)
        return False
    if len(path) == 1:
        has = isinstance(old, dict) and key in old
        if has:
            if not isinstance(new, dict):
                return False
            new[key] = carry(copy.deepcopy(old[key]))
        elif isinstance(new, dict):
            new.pop(key, None)
        return True
    if not isinstance(old, dict) or not isinstance(new, dict):
        return not isinstance(old, dict) and not isinstance(new, dict)
    has_old, has_new = key in old, key in new
    if has_old and not has_new:
        return False
    if not has_old and not has_new:
        return True
    return _reset(path[1:], old.get(key), new[key], old_secret, new_secret)


def process_ignore_changes(
    inputs: dict[str, Any], old_inputs: dict[str, Any], ignore_changes: list[str]
) -> tuple[dict[str, Any], list[str]]:
    """step_generator.go processIgnoreChanges: a copy of `inputs` where each ignoreChanges path
    holds its value from `old_inputs`. Also returns the paths that could not be reset (the engine
    reports them: "cannot ignore changes in added or removed elements of the path")."""
    result = copy.deepcopy(inputs)
    invalid: list[str] = []
    for text in ignore_changes:
        try:
            path = parse_path(text)
        except PathError:
            continue
        if not _reset(path, old_inputs, result, False, False):
            invalid.append(text)
    return result, invalid


# ---------------------------------------------------------------- diffs


def _plain(value: Any) -> Any:
    """Secrets unwrapped for comparison (diffs compare values, not secretness)."""
    value, _ = _unwrap(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _value_diff(path: Path, old: Any, new: Any, acc: dict[str, PropertyDiff]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        _object_diff(path, old, new, acc)
    elif isinstance(old, list) and isinstance(new, list):
        for i in range(max(len(old), len(new))):
            if i >= len(old):
                acc[path_string([*path, i])] = PropertyDiff("add")
            elif i >= len(new):
                acc[path_string([*path, i])] = PropertyDiff("delete")
            elif old[i] != new[i] or is_unknown(new[i]):
                _value_diff([*path, i], old[i], new[i], acc)
    elif old is None and new is not None:
        acc[path_string(path)] = PropertyDiff("add")
    elif old is not None and new is None:
        acc[path_string(path)] = PropertyDiff("delete")
    else:
        acc[path_string(path)] = PropertyDiff("update")


def _object_diff(
    path: Path, old: dict[str, Any], new: dict[str, Any], acc: dict[str, PropertyDiff]
) -> None:
    for key in sorted(set(old) | set(new)):
        o, n = old.get(key), new.get(key)
        if o is None and n is None:
            continue
        if o is None:
            acc[path_string([*path, key])] = PropertyDiff("add")
        elif n is None:
            acc[path_string([*path, key])] = PropertyDiff("delete")
        elif o != n or is_unknown(n):
            _value_diff([*path, key], o, n, acc)


def detailed_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, PropertyDiff]:
    """The detailed diff of two property maps, leaf by leaf (`a.b[0]`: update/add/delete), as
    plugin.NewDetailedDiffFromObjectDiff(old.Diff(new)) makes it. Secrets compare by value; an
    unknown new value always differs. Nulls count as absent."""
    acc: dict[str, PropertyDiff] = {}
    _object_diff([], _plain(old), _plain(new), acc)
    return acc


def top_key(path_text: str) -> str:
    try:
        path = parse_path(path_text)
    except PathError:
        return path_text
    return str(path[0]) if path else path_text


def diff_replaces(diff: DiffResult) -> bool:
    """plugin.DiffResult.Replace: a replace key, or a detailed diff of a replace kind."""
    if any(d.kind.endswith("-replace") for d in diff.detailed_diff.values()):
        return True
    return bool(diff.replaces)


_TO_REPLACE = {"add": "add-replace", "delete": "delete-replace", "update": "update-replace"}


# step_generator.go initErrorSpecialKey: the key a replaceOnChanges path can match to replace a
# resource whose state holds init errors.
INIT_ERROR_KEY = "#initerror"


def apply_replace_on_changes(
    diff: DiffResult, replace_on_changes: list[str], has_init_errors: bool = False
) -> DiffResult:
    """step_generator.go applyReplaceOnChanges: a changed path inside a replaceOnChanges path
    becomes a replace (its detailed diff kind and its top-level key); with init errors in the
    old state, a path containing `#initerror` (e.g. `*`) makes the step a replacement."""
    if (not diff.changes and not has_init_errors) or not replace_on_changes:
        return diff
    patterns = [parse_path(p) for p in replace_on_changes]
    detailed: dict[str, PropertyDiff] = {}
    for key, entry in diff.detailed_diff.items():
        try:
            path = parse_path(key)
        except PathError:
            path = [key]
        if any(path_contains(p, path) for p in patterns):
            entry = PropertyDiff(_TO_REPLACE.get(entry.kind, entry.kind), entry.input_diff)
        detailed[key] = entry
    replaces = list(diff.replaces)
    for key in diff.diffs:
        try:
            path = parse_path(key)
        except PathError:
            continue
        if key not in replaces and any(path_contains(p, path) for p in patterns):
            replaces.append(key)
    changes = diff.changes
    if has_init_errors and any(path_contains(p, [INIT_ERROR_KEY]) for p in patterns):
        replaces.append(INIT_ERROR_KEY)
        detailed[INIT_ERROR_KEY] = PropertyDiff("update-replace", input_diff=False)
        changes = True
    return replace(diff, changes=changes, replaces=replaces, detailed_diff=detailed)
