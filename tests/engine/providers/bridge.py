"""pulumi-terraform-bridge's Diff: the TF attribute diff mapped to a Pulumi DiffResponse
(changed and replaced properties, the detailed diff by property path) and ignoreChanges
(upstream: FIDELITY.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tests.engine.providers.tf_diff import AttrDiff, Differ
from tests.engine.providers.tf_schema import (
    LIST,
    MAP,
    SET,
    S,
    code,
    pname,
    with_empty_collections,
)


@dataclass
class BridgeDiff:
    changes: bool
    diffs: list[str]
    replaces: list[str]
    detailed: dict[str, str]  # Pulumi property path -> kind
    attributes: dict[str, AttrDiff] = field(default_factory=dict)


_PATH_PART = re.compile(r"\[(\d+)\]|\[\"((?:[^\"\\]|\\.)*)\"\]|\.?([^.\[]+)")


def _split_pulumi_path(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for m in _PATH_PART.finditer(path):
        if m.group(1) is not None:
            parts.append(int(m.group(1)))
        elif m.group(2) is not None:
            parts.append(m.group(2))
        elif m.group(3) not in (None, "*"):
            parts.append(m.group(3))
        else:
            parts.append("*")
    return parts


def ignore_keys(
    schema: dict[str, S], olds: dict[str, Any], news: dict[str, Any], paths: list[str]
) -> list[str]:
    """Pulumi ignoreChanges paths as TF flat-key prefixes (pkg/tfbridge/diff.go
    computeIgnoreChanges, simplified: `*` and indexes into sets resolve against olds, then news)."""
    keys: list[str] = []
    for path in paths:
        parts = _split_pulumi_path(path)
        tf_parts: list[str] = []
        block: dict[str, S] | None = schema
        sch: S | None = None
        old_v: Any = olds
        new_v: Any = news
        ok = True
        i = 0
        while i < len(parts):
            part = parts[i]
            if sch is not None and sch.type == MAP:
                tf_parts.append(str(part))
                i += 1
                continue
            if sch is not None and sch.type in (LIST, SET) and not sch.max_one:
                if part == "*":
                    break
                if not isinstance(part, int):
                    ok = False
                    break
                if sch.type == LIST:
                    tf_parts.append(str(part))
                else:
                    source, defaults = (old_v, False) if isinstance(old_v, list) else (new_v, True)
                    if not isinstance(source, list) or part >= len(source):
                        ok = False
                        break
                    tf_parts.append(code(source[part], sch, defaults))
                old_v = old_v[part] if isinstance(old_v, list) and part < len(old_v) else None
                new_v = new_v[part] if isinstance(new_v, list) and part < len(new_v) else None
                block = sch.block
                sch = None
                i += 1
                continue
            if block is None:
                ok = False
                break
            match = [(n, s) for n, s in block.items() if pname(n, s) == part]
            if not match:
                ok = False
                break
            name, sch = match[0]
            tf_parts.append(name)
            old_v = old_v.get(part) if isinstance(old_v, dict) else None
            new_v = new_v.get(part) if isinstance(new_v, dict) else None
            if sch.max_one:
                tf_parts.append("0")
                block = sch.block
                old_v = old_v[0] if isinstance(old_v, list) and old_v else old_v
                new_v = new_v[0] if isinstance(new_v, list) and new_v else new_v
                sch = None
            i += 1
        if ok:
            keys.append(".".join(tf_parts))
    return keys


def process_ignore_changes(attrs: dict[str, AttrDiff], keys: list[str]) -> dict[str, AttrDiff]:
    """pkg/tfshim/sdk-v2/instance_diff.go processIgnoreChanges: drop a key equal to an ignored
    key or under it."""
    return {
        k: v for k, v in attrs.items() if not any(k == ig or k.startswith(ig + ".") for ig in keys)
    }


def _pulumi_path(
    key: str, schema: dict[str, S], olds: dict[str, Any], news: dict[str, Any]
) -> tuple[str, bool, bool]:
    """A TF flat key as a Pulumi property path, and whether it exists in olds and in news."""
    parts = key.split(".")
    out = ""
    block: dict[str, S] | None = schema
    sch: S | None = None
    old_v: Any = olds
    new_v: Any = news
    i = 0
    while i < len(parts):
        part = parts[i]
        if part in ("#", "%"):
            break
        if sch is not None and sch.type == MAP:
            part = ".".join(parts[i:])  # flatmap keys of a map may contain dots
            out += f".{part}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part) else f'["{part}"]'
            old_v = old_v.get(part) if isinstance(old_v, dict) else None
            new_v = new_v.get(part) if isinstance(new_v, dict) else None
            break
        if sch is not None and sch.type in (LIST, SET):
            if sch.max_one:
                old_v = old_v if isinstance(old_v, dict) else None
                new_v = new_v if isinstance(new_v, dict) else None
            else:
                if sch.type == LIST:
                    idx = int(part)
                else:
                    olds_l = old_v if isinstance(old_v, list) else []
                    news_l = new_v if isinstance(new_v, list) else []
                    new_idx = [j for j, v in enumerate(news_l) if code(v, sch, True) == part]
                    old_idx = [j for j, v in enumerate(olds_l) if code(v, sch, False) == part]
                    idx = (new_idx or old_idx or [0])[0]
                    if not new_idx:
                        new_v = None
                    if not old_idx:
                        old_v = None
                out += f"[{idx}]"
                old_v = old_v[idx] if isinstance(old_v, list) and idx < len(old_v) else None
                new_v = new_v[idx] if isinstance(new_v, list) and idx < len(new_v) else None
            block = sch.block
            sch = sch if block is None else None
            i += 1
            continue
        assert block is not None
        sch = block[part]
        out += ("." if out else "") + pname(part, sch)
        old_v = old_v.get(part) if isinstance(old_v, dict) else None
        new_v = new_v.get(part) if isinstance(new_v, dict) else None
        if sch.max_one and i + 1 < len(parts) and parts[i + 1] == "0":
            old_v = old_v[0] if isinstance(old_v, list) and old_v else None
            new_v = new_v[0] if isinstance(new_v, list) and new_v else None
            block = sch.block
            sch = None
            i += 2
            continue
        i += 1
    return out, old_v is not None, new_v is not None


def _is_max_one(key: str, schema: dict[str, S]) -> bool:
    parts = key.split(".")[:-1]
    block: dict[str, S] | None = schema
    sch: S | None = None
    for part in parts:
        if block is not None and part in block:
            sch = block[part]
            block = sch.block
    return sch is not None and sch.max_one


def bridge_diff(
    schema: dict[str, S],
    state: dict[str, Any],
    config: dict[str, Any],
    ignore_changes: list[str] | None = None,
) -> BridgeDiff:
    """The DiffResponse that pulumi-terraform-bridge builds from the TF diff of `config` (the
    checked news, TF shape) against `state` (the stored outputs, TF shape)."""
    state = with_empty_collections(state, schema)
    attrs = Differ(schema, state, config).diff()
    if ignore_changes:
        attrs = process_ignore_changes(attrs, ignore_keys(schema, state, config, ignore_changes))
    detailed: dict[str, str] = {}
    collections: dict[str, str] = {}
    for key, d in sorted(attrs.items()):
        if d.old == d.new and not d.new_removed and not d.new_computed:
            continue
        path, in_old, in_new = _pulumi_path(key, schema, state, config)
        top = key.split(".")[0]
        arr = attrs.get(top + ".#")
        replace = d.requires_new or bool(arr and arr.requires_new and "." in key)
        if key.endswith((".#", ".%")):
            # makePropertyDiff: a count change of a list/set/map the values hold is a
            # collection diff of kind UPDATE (MaxItems=1 blocks are objects: no ".%" key)
            # A collection that will be computed (an unknown input: a preview, or the engine's
            # dependent-replacement check) is an update of the whole property.
            if d.new_computed:
                collections[path] = "update-replace" if d.requires_new else "update"
            elif d.old != d.new and not _is_max_one(key, schema):
                collections[path] = "update"
            continue
        if d.new_removed:
            kind = "delete"
        elif in_old and in_new:
            kind = "update"
        else:
            kind = "add"
        kind += "-replace" if replace else ""
        previous = detailed.get(path, "")
        if {previous.split("-")[0], kind.split("-")[0]} == {"delete", "add"}:
            # olds are visited first, then news: the same path in both is an update
            kind = "update" + ("-replace" if replace or previous.endswith("replace") else "")
        detailed[path] = kind
    for path, kind in collections.items():
        detailed[path] = kind
    changes = any(d.old != d.new or d.new_removed or d.new_computed for d in attrs.values())
    tops = sorted({re.split(r"[.\[]", p, maxsplit=1)[0] for p in detailed})
    replaces = sorted(
        {re.split(r"[.\[]", p, maxsplit=1)[0] for p, k in detailed.items() if k.endswith("replace")}
    )
    return BridgeDiff(changes, tops, replaces, detailed, attrs)
