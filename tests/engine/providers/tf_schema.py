"""The Terraform schema model (terraform-plugin-sdk helper/schema.Schema, the attributes the
double uses) and the value shapes around it: Pulumi property values to the TF shape and back, set
element identity, and the defaults the SDK's config reader fills in (upstream: FIDELITY.md).

Values in the TF shape are nested Python: primitives, lists (TypeList; MaxItems=1 blocks are
one-element lists), sets (lists whose identity is `code()`), maps (dicts), and blocks (dicts).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.engine.props import is_unknown

if TYPE_CHECKING:
    from tests.engine.providers.tf_diff import DiffContext

STR, INT, BOOL, FLOAT, LIST, SET, MAP = "str", "int", "bool", "float", "list", "set", "map"
PRIMITIVES = (STR, INT, BOOL, FLOAT)


@dataclass
class S:
    """One helper/schema.Schema: the attributes the differ uses."""

    type: str
    optional: bool = False
    required: bool = False
    computed: bool = False
    force_new: bool = False
    default: Any = None
    max_items: int = 0
    elem: dict[str, S] | S | None = None  # a block's fields, or a collection's element schema
    suppress: Callable[[str, str, str, DiffContext], bool] | None = None
    state_func: Callable[[Any], Any] | None = None
    p: str = ""  # the Pulumi name, when not the camelCase of the TF name

    @property
    def block(self) -> dict[str, S] | None:
        return self.elem if isinstance(self.elem, dict) else None

    @property
    def element(self) -> S:
        """A collection's element schema: TypeString when it names none."""
        return self.elem if isinstance(self.elem, S) else S(STR)

    @property
    def max_one(self) -> bool:
        """MaxItems=1 blocks are objects in Pulumi (pulumi-docker keeps the bridge default)."""
        return self.type in (LIST, SET) and self.max_items == 1 and self.block is not None


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def pname(name: str, schema: S) -> str:
    return schema.p or camel(name)


def zero(schema: S) -> Any:
    return {STR: "", INT: 0, BOOL: False, FLOAT: 0.0}.get(schema.type)


def weak_decode(value: Any) -> str:
    """mapstructure.WeakDecode(value, &string)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def to_tf(value: dict[str, Any], schema: dict[str, S]) -> dict[str, Any]:
    """Pulumi property values (camelCase, MaxItems=1 blocks as objects) to the TF shape."""
    out: dict[str, Any] = {}
    for name, sch in schema.items():
        key = pname(name, sch)
        if key in value and value[key] is not None:
            out[name] = _to_tf_value(value[key], sch)
    return out


def _to_tf_value(value: Any, sch: S) -> Any:
    if is_unknown(value):
        return value
    block = sch.block
    if block is not None and sch.max_one:
        return (
            [to_tf(value, block)] if isinstance(value, dict) else [to_tf(v, block) for v in value]
        )
    if sch.type in (LIST, SET):
        items = value if isinstance(value, list) else [value]
        if block is not None:
            return [to_tf(v, block) if isinstance(v, dict) else v for v in items]
        return list(items)
    if sch.type == MAP:
        return dict(value)
    return value


def to_pulumi(value: dict[str, Any], schema: dict[str, S]) -> dict[str, Any]:
    """TF-shaped state to Pulumi outputs (every attribute of the schema; absent ones omitted)."""
    out: dict[str, Any] = {}
    for name, sch in schema.items():
        if name in value and value[name] is not None:
            out[pname(name, sch)] = _to_pulumi_value(value[name], sch)
    return out


def _to_pulumi_value(value: Any, sch: S) -> Any:
    if is_unknown(value):
        return value
    block = sch.block
    if block is not None and sch.max_one:
        return to_pulumi(value[0], block) if value else None
    if sch.type in (LIST, SET):
        if block is not None:
            return [to_pulumi(v, block) for v in value]
        return list(value)
    if sch.type == MAP:
        return dict(value)
    return value


def canonical(value: Any, sch: S, defaults: bool) -> Any:
    """A value as the TF readers return it: every field of a block present (config: Default,
    else the type's zero), sets ordered by code. The basis of set-element identity
    (schema.HashResource hashes Optional/Required fields)."""
    if value is None:
        if sch.type in PRIMITIVES:
            return sch.default if defaults and sch.default is not None else zero(sch)
        return {MAP: {}}.get(sch.type, [])
    if is_unknown(value):
        return value
    block = sch.block
    if sch.type in (LIST, SET):
        if block is not None:
            items = [
                {
                    k: canonical(v.get(k) if isinstance(v, dict) else None, s, defaults)
                    for k, s in block.items()
                    if s.optional or s.required
                }
                for v in value
            ]
        else:
            items = [canonical(v, sch.element, defaults) for v in value]
        if sch.type == SET:
            return sorted(items, key=lambda i: json.dumps(i, sort_keys=True))
        return items
    if sch.type == MAP:
        return {str(k): weak_decode(v) for k, v in value.items()}
    if sch.state_func is not None:
        value = sch.state_func(value)
    return value


def code(element: Any, sch: S, defaults: bool) -> str:
    """A stable identity for a set element (stands in for the SDK's hash code)."""
    elem = sch.block
    if elem is not None:
        canon = canonical([element], S(LIST, elem=elem), defaults)[0]
    else:
        canon = canonical(element, sch.element, defaults)
    digest = hashlib.sha256(json.dumps(canon, sort_keys=True).encode()).hexdigest()
    return str(int(digest[:8], 16))


def with_empty_collections(state: dict[str, Any], schema: dict[str, S]) -> dict[str, Any]:
    """The SDK writes a zero count for a top-level list/set nothing set ("labels.#" = "0")."""
    out = dict(state)
    for name, sch in schema.items():
        if out.get(name) is None and sch.type in (LIST, SET):
            out[name] = []
    return out


def apply_defaults(
    value: dict[str, Any], schema: dict[str, S], falsy: bool = True
) -> dict[str, Any]:
    """TF shape: a block with the schema's Defaults filled in where the config has no value
    (what the SDK's config reader returns). With `falsy=False`, what the bridge's Check adds to
    the inputs: no default that is false, 0 or "" (pkg/tfbridge/schema.go
    shouldSuppressTFSchemaDefaultValue, pulumi-terraform-bridge#2618)."""
    out = dict(value)
    for name, sch in schema.items():
        v = out.get(name)
        if v is None:
            kept = falsy or sch.default not in (False, 0, "")
            if sch.type in PRIMITIVES and sch.default is not None and kept:
                out[name] = sch.default
            continue
        if is_unknown(v):
            continue
        block = sch.block
        if block is not None and isinstance(v, list):
            out[name] = [apply_defaults(e, block, falsy) if isinstance(e, dict) else e for e in v]
    return out


def planned_state(
    state: dict[str, Any], config: dict[str, Any], schema: dict[str, S], ignored: list[str]
) -> dict[str, Any]:
    """TF shape: what an Update's ResourceData reads (the state with the diff applied): the
    config, except that an Optional+Computed attribute the config leaves out keeps its state
    value (schemaMap.diff makes no diff for it), and so does an attribute under an ignored
    flat key (the bridge drops its diff). MaxItems=1 blocks in both are merged field by field.
    """
    return _planned(state, config, schema, ignored, "")


def _planned(
    state: dict[str, Any],
    config: dict[str, Any],
    schema: dict[str, S],
    ignored: list[str],
    prefix: str,
) -> dict[str, Any]:
    out = dict(config)
    for name, sch in schema.items():
        key = prefix + name
        old, new = state.get(name), config.get(name)
        if any(key == ig or key.startswith(ig + ".") for ig in ignored):
            out[name] = old
        elif new is None:
            if sch.computed and old is not None:
                out[name] = old
        elif (
            sch.block is not None
            and sch.type == LIST
            and sch.max_items == 1
            and isinstance(old, list)
            and len(old) == 1
            and isinstance(new, list)
            and len(new) == 1
            and isinstance(old[0], dict)
            and isinstance(new[0], dict)
        ):
            out[name] = [_planned(old[0], new[0], sch.block, ignored, f"{key}.0.")]
    return {k: v for k, v in out.items() if v is not None}
