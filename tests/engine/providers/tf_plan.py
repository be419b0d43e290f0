"""The planned state of a Terraform resource: its prior state with the attribute diff applied, as
terraform-plugin-sdk's PlanResourceChange returns it (helper/schema grpc_provider.go
PlanResourceChange: schemaMap.Diff, then InstanceDiff applied to the prior state). The bridge
compares it with the prior state for its detailed diff (upstream: FIDELITY.md)."""

from __future__ import annotations

import copy
from typing import Any

from tests.engine.props import UNKNOWN
from tests.engine.providers.tf_diff import AttrDiff
from tests.engine.providers.tf_schema import BOOL, FLOAT, INT, LIST, MAP, SET, S, code

_REMOVED = object()


def _typed(text: str, sch: S) -> Any:
    """A flatmap string as the attribute's type."""
    try:
        if sch.type == INT:
            return int(text)
        if sch.type == FLOAT:
            return float(text)
    except ValueError:
        return text
    if sch.type == BOOL:
        return text in ("1", "true")
    return text


class _Applier:
    def __init__(self) -> None:
        # set path -> {code: index}, built from the prior elements at the first visit
        self.codes: dict[str, dict[str, int]] = {}
        self.counts: list[tuple[list[Any], int]] = []

    def set_index(self, where: str, items: list[Any], sch: S, ident: str) -> int:
        codes = self.codes.get(where)
        if codes is None:
            codes = {code(v, sch, False): i for i, v in enumerate(items)}
            self.codes[where] = codes
        if ident not in codes:
            items.append({} if sch.block is not None else None)
            codes[ident] = len(items) - 1
        return codes[ident]

    def apply(
        self, obj: dict[str, Any], fields: dict[str, S], parts: list[str], d: AttrDiff, where: str
    ) -> None:
        name, rest = parts[0], parts[1:]
        sch = fields.get(name)
        if sch is None:
            return
        here = f"{where}.{name}" if where else name
        if not rest:
            self.leaf(obj, name, sch, d)
            return
        if sch.type == MAP:
            if rest == ["%"]:
                if d.new_computed:
                    obj[name] = UNKNOWN
                elif d.new_removed or d.new == "0":
                    obj[name] = {}
                return
            mapping = obj.get(name)
            if not isinstance(mapping, dict):
                mapping = {}
                obj[name] = mapping
            self.leaf(mapping, ".".join(rest), sch.element, d)
            return
        if sch.type not in (LIST, SET):
            return
        if rest == ["#"]:
            if d.new_computed:
                obj[name] = UNKNOWN
            elif d.new_removed:
                obj.pop(name, None)
            elif isinstance(obj.get(name), list) and d.new.isdigit():
                self.counts.append((obj[name], int(d.new)))
            elif d.new.isdigit() and int(d.new) == 0:
                obj[name] = []
            return
        items = obj.get(name)
        if not isinstance(items, list):
            items = []
            obj[name] = items
        ident, tail = rest[0], rest[1:]
        if sch.type == LIST:
            index = int(ident)
            while len(items) <= index:
                items.append({} if sch.block is not None else None)
        else:
            index = self.set_index(here, items, sch, ident)
        if sch.block is not None:
            if not tail:
                return
            if not isinstance(items[index], dict):
                items[index] = {}
            self.apply(items[index], sch.block, tail, d, f"{here}.{ident}")
        elif not tail:
            if d.new_removed:
                items[index] = _REMOVED
            elif d.new_computed:
                items[index] = UNKNOWN
            else:
                items[index] = _typed(d.new, sch.element)

    @staticmethod
    def leaf(obj: dict[str, Any], name: str, sch: S, d: AttrDiff) -> None:
        if d.new_removed:
            obj.pop(name, None)
        elif d.new_computed:
            obj[name] = UNKNOWN
        else:
            obj[name] = _typed(d.new, sch)


def _prune(value: Any, fields: dict[str, S]) -> dict[str, Any]:
    """Drop removed elements, and block elements left with no field but empty collections."""
    out: dict[str, Any] = {}
    for name, v in value.items():
        sch = fields.get(name)
        if sch is not None and sch.type in (LIST, SET) and isinstance(v, list):
            kept = []
            for item in v:
                if item is _REMOVED:
                    continue
                if sch.block is not None and isinstance(item, dict):
                    item = _prune(item, sch.block)
                    if all(v in (None, [], {}) for v in item.values()):
                        continue  # every field removed (a set element that left)
                kept.append(item)
            v = kept
        out[name] = v
    return out


def apply_diff(
    state: dict[str, Any], attrs: dict[str, AttrDiff], schema: dict[str, S]
) -> dict[str, Any]:
    """TF shape: `state` with every attribute diff that changes something applied (a removed
    attribute goes, a computed one is unknown, a count shrinks its list)."""
    planned = copy.deepcopy(state)
    applier = _Applier()
    for key, d in sorted(attrs.items()):
        if d.old == d.new and not d.new_removed and not d.new_computed:
            continue
        applier.apply(planned, schema, key.split("."), d, "")
    for items, count in applier.counts:
        del items[count:]
    return _prune(planned, schema)
