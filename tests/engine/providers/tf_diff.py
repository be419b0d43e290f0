"""terraform-plugin-sdk v2's schemaMap.Diff for one resource: the attribute diff of a config
against a state, both in the TF shape (upstream: FIDELITY.md)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from tests.engine.props import is_unknown
from tests.engine.providers.tf_schema import (
    BOOL,
    INT,
    LIST,
    MAP,
    PRIMITIVES,
    SET,
    STR,
    S,
    canonical,
    code,
    weak_decode,
    zero,
)


@dataclass
class AttrDiff:
    """terraform.ResourceAttrDiff."""

    old: str = ""
    new: str = ""
    new_computed: bool = False
    new_removed: bool = False
    requires_new: bool = False


_MISSING = object()


@dataclass
class DiffContext:
    """What a DiffSuppressFunc's *ResourceData exposes: the state and the config."""

    schema: dict[str, S]
    state: dict[str, Any]
    config: dict[str, Any]
    resource_id: str = "id"

    def config_with_defaults(self, key: str) -> Any:
        value = self.config.get(key)
        sch = self.schema[key]
        return None if value is None else canonical(value, sch, True)

    def lookup(self, root: dict[str, Any], parts: list[str], defaults: bool) -> Any:
        """The value at a flat TF key, or _MISSING. The config side applies Defaults."""
        value: Any = root
        schema: dict[str, S] | None = self.schema
        sch: S | None = None
        i = 0
        while i < len(parts):
            part = parts[i]
            if sch is not None and sch.type in (LIST, SET):
                if not isinstance(value, list):
                    return _MISSING
                if sch.type == LIST:
                    idx = int(part)
                    if idx >= len(value):
                        return _MISSING
                    value = value[idx]
                else:
                    found = [v for v in value if code(v, sch, defaults) == part]
                    if not found:
                        return _MISSING
                    value = found[0]
                schema = sch.block
                if schema is None:
                    sch = sch.element
                    i += 1
                    continue
                sch = None
                i += 1
                continue
            if sch is not None and sch.type == MAP:
                key = ".".join(parts[i:])  # flatmap keys of a map may contain dots
                return value.get(key, _MISSING) if isinstance(value, dict) else _MISSING
            assert schema is not None
            sch = schema[part]
            if not isinstance(value, dict) or value.get(part) is None:
                if defaults and sch.type in PRIMITIVES and sch.default is not None:
                    value = sch.default
                else:
                    return _MISSING
            else:
                value = value[part]
            i += 1
        return value


class Differ:
    """schemaMap.Diff for one resource (the non-destroy, non-customized path)."""

    def __init__(self, schema: dict[str, S], state: dict[str, Any], config: dict[str, Any]):
        self.ctx = DiffContext(schema, state, config)
        self.schema = schema

    def change(self, key: str) -> tuple[Any, Any, bool]:
        parts = key.split(".")
        o = self.ctx.lookup(self.ctx.state, parts, False)
        n = self.ctx.lookup(self.ctx.config, parts, True)
        computed = n is not _MISSING and is_unknown(n)
        return (None if o is _MISSING else o), (None if n is _MISSING else n), computed

    def diff(self) -> dict[str, AttrDiff]:
        result: dict[str, AttrDiff | None] = {}
        for k, sch in self.schema.items():
            self._diff(k, sch, result, False)
        return {k: v for k, v in result.items() if v is not None}

    def _diff(self, k: str, sch: S, out: dict[str, AttrDiff | None], all_: bool) -> None:
        unsuppressed: dict[str, AttrDiff | None] = {}
        if sch.type in PRIMITIVES:
            self._diff_string(k, sch, unsuppressed, all_)
        elif sch.type == LIST:
            self._diff_list(k, sch, unsuppressed, all_)
        elif sch.type == MAP:
            self._diff_map(k, sch, unsuppressed, all_)
        else:
            self._diff_set(k, sch, unsuppressed, all_)
        for attr_k, attr_v in unsuppressed.items():
            if (
                sch.suppress is not None
                and attr_v is not None
                and sch.suppress(attr_k, attr_v.old, attr_v.new, self.ctx)
            ):
                if not all_:
                    continue
                attr_v = AttrDiff(old=attr_v.old, new=attr_v.old)
            out[attr_k] = attr_v

    @staticmethod
    def finalize(sch: S, d: AttrDiff | None) -> AttrDiff | None:
        """Schema.finalizeDiff (customized is always false here)."""
        if d is None:
            return d
        if sch.type == BOOL:
            d.old = {"0": "false", "1": "true"}.get(d.old, d.old)
            d.new = {"0": "false", "1": "true"}.get(d.new, d.new)
        if sch.computed and not d.new_removed and d.new == "":
            d.new_computed = True
        if sch.force_new:
            d.requires_new = d.old != d.new or d.new_computed
        if d.new_removed:
            return d
        if sch.computed:
            if d.old != "" and d.new == "":
                return None
            if d.new == "" and not d.new_computed:
                d.new_computed = True
        return d

    def _diff_string(self, k: str, sch: S, out: dict[str, AttrDiff | None], all_: bool) -> None:
        o, n, computed = self.change(k)
        if sch.state_func is not None and n is not None:
            n = sch.state_func(n)
        nraw = n
        if nraw is None and o is not None:
            nraw = zero(sch)
        os_, ns = weak_decode(o), weak_decode(nraw)
        if os_ == ns and not all_ and not computed:
            return  # d.Id() != "": an existing resource
        removed = o is not None and n is None and not computed
        if removed and sch.computed:
            return
        attr = self.finalize(
            sch, AttrDiff(old=os_, new=ns, new_removed=removed, new_computed=computed)
        )
        if attr is not None:
            out[k] = attr

    def _diff_list(self, k: str, sch: S, out: dict[str, AttrDiff | None], all_: bool) -> None:
        o, n, computed_list = self.change(k)
        if computed_list:
            n = None
        n_set = n is not None
        if o is not None and n is None and not computed_list and sch.computed:
            return
        os_ = o or []
        vs = n or []
        if not all_ and n_set and canonical(os_, sch, False) == canonical(vs, sch, True):
            return
        old_len, new_len = len(os_), len(vs)
        old_str = str(old_len)
        if computed_list:
            out[k + ".#"] = AttrDiff(old=old_str, new_computed=True, requires_new=sch.force_new)
            return
        changed = old_len != new_len
        computed = old_len == 0 and new_len == 0 and sch.computed
        if changed or computed or all_:
            count = S(INT, computed=sch.computed, force_new=sch.force_new)
            new_str = ""
            if not computed:
                new_str = str(new_len)
            else:
                old_str = ""
            attr = self.finalize(count, AttrDiff(old=old_str, new=new_str))
            if attr is not None:
                out[k + ".#"] = attr
            else:
                out.pop(k + ".#", None)
        for i in range(max(old_len, new_len)):
            self._diff_element(f"{k}.{i}", sch, out, all_)

    def _diff_map(self, k: str, sch: S, out: dict[str, AttrDiff | None], all_: bool) -> None:
        o, n, n_computed = self.change(k)
        state_map = {str(a): weak_decode(b) for a, b in (o or {}).items()}
        config_map = (
            {str(a): weak_decode(b) for a, b in n.items()}
            if isinstance(n, dict) and not n_computed
            else {}
        )
        state_exists = o is not None
        old_len, new_len = len(state_map), len(config_map)
        changed = old_len != new_len
        if old_len != 0 and new_len == 0 and sch.computed:
            changed = False
        computed = old_len == 0 and new_len == 0 and sch.computed and not state_exists
        if changed or computed or n_computed:
            count = S(INT, computed=sch.computed or n_computed, force_new=sch.force_new)
            old_str = str(old_len)
            new_str = ""
            if not computed and not n_computed:
                new_str = str(new_len)
            else:
                old_str = ""
            attr = self.finalize(count, AttrDiff(old=old_str, new=new_str))
            if attr is not None:
                out[k + ".%"] = attr
            else:
                out.pop(k + ".%", None)
        if n is None and sch.computed:
            return
        elem = S(STR, computed=sch.computed, force_new=sch.force_new)
        for key, value in config_map.items():
            old = state_map.pop(key, None)
            if old == value and not all_:
                continue
            attr = self.finalize(elem, AttrDiff(old=old or "", new=value))
            if attr is not None:
                out[f"{k}.{key}"] = attr
        for key, value in state_map.items():
            attr = self.finalize(elem, AttrDiff(old=value, new_removed=True))
            if attr is not None:
                out[f"{k}.{key}"] = attr

    def _diff_set(self, k: str, sch: S, out: dict[str, AttrDiff | None], all_: bool) -> None:
        o, n, computed_set = self.change(k)
        if computed_set:
            n = None
        n_set = n is not None
        if o is not None and n is None and not computed_set and sch.computed:
            return
        old_codes = [code(v, sch, False) for v in o or []]
        new_codes = [code(v, sch, True) for v in n or []]
        old_codes = list(dict.fromkeys(old_codes))
        new_codes = list(dict.fromkeys(new_codes))
        if not all_ and n_set and sorted(old_codes) == sorted(new_codes):
            return
        count = S(INT, computed=sch.computed, force_new=sch.force_new)
        if computed_set or (sch.computed and not n_set):
            # d.GetOk(k + ".#") with no state (o is None here): not ok, so countStr is "".
            attr = self.finalize(count, AttrDiff(old="", new_computed=True))
            if attr is not None:
                out[k + ".#"] = attr
            return
        if len(old_codes) != len(new_codes) or all_:
            attr = self.finalize(count, AttrDiff(old=str(len(old_codes)), new=str(len(new_codes))))
            if attr is not None:
                out[k + ".#"] = attr
        gone = [c for c in old_codes if c not in new_codes]
        for c in gone + new_codes:
            self._diff_element(f"{k}.{c}", sch, out, True)

    def _diff_element(self, k: str, sch: S, out: dict[str, AttrDiff | None], all_: bool) -> None:
        """One element of a list or set (diffList/diffSet): each field of a block, or the
        primitive element itself, which takes the collection's ForceNew."""
        block = sch.block
        if block is not None:
            for k2, sub in block.items():
                self._diff(f"{k}.{k2}", sub, out, all_)
        else:
            self._diff(k, dataclasses.replace(sch.element, force_new=sch.force_new), out, all_)
