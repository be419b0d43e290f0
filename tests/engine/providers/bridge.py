"""pulumi-terraform-bridge's Diff: the TF attribute diff mapped to a Pulumi DiffResponse
(changed and replaced properties, the detailed diff by property path) and ignoreChanges
(upstream: FIDELITY.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tests.engine.providers.detailed_diff import detailed_diff_v2
from tests.engine.providers.tf_diff import AttrDiff, Differ
from tests.engine.providers.tf_plan import apply_diff
from tests.engine.providers.tf_schema import (
    LIST,
    MAP,
    SET,
    S,
    code,
    pname,
    to_pulumi,
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
    effective = {
        k: d for k, d in attrs.items() if d.old != d.new or d.new_removed or d.new_computed
    }
    changes = bool(effective)
    detailed: dict[str, str] = {}
    if changes:
        # pkg/tfbridge/provider.go Diff: the sdk-v2 shim (pkg/tfshim/sdk-v2/provider2.go
        # v2Provider.Diff, PlanResourceChange) always sets a DiffEqualDecisionOverride, so the
        # detailed diff is makeDetailedDiffV2's: the prior state against the planned one (the
        # state with the diff applied; ignored keys keep the state's value), with RequiresNew as
        # the replace override.
        planned = apply_diff(state, effective, schema)
        requires_new = any(d.requires_new for d in effective.values())
        detailed = detailed_diff_v2(
            schema,
            to_pulumi(state, schema),
            to_pulumi(planned, schema),
            to_pulumi(config, schema),
            requires_new,
        )
    # provider.go Diff: the properties are the detailed diff's top-level names, the replaces
    # those of a replace kind.
    tops = sorted({re.split(r"[.\[]", p, maxsplit=1)[0] for p in detailed})
    replaces = sorted(
        {re.split(r"[.\[]", p, maxsplit=1)[0] for p, k in detailed.items() if k.endswith("replace")}
    )
    return BridgeDiff(changes, tops, replaces, detailed, attrs)
