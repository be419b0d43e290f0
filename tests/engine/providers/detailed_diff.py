"""pulumi-terraform-bridge's detailed diff (v3.136.0 pkg/tfbridge/detailed_diff.go
MakeDetailedDiffV2, property_path.go): the prior state against the planned state, both as
Pulumi values, walked by the Terraform schema. Each path that differs is one entry; a value
present on one side only is one add or delete at its own path (no entries inside it, none for
the collections around it); a set is matched by element identity. The provider's RequiresNew
overrides the kinds: a replacement with no replacing path gets `__meta: update-replace`, an
update has every kind demoted. No entry sets inputDiff."""

from __future__ import annotations

from typing import Any

from tests.engine.props import is_unknown
from tests.engine.providers.tf_schema import LIST, MAP, SET, S, code, pname, to_tf

OBJECT = "object"  # a block's fields: a MaxItems=1 block, or an element of a block collection
RESERVED = ("__meta", "__defaults")  # pkg/reservedkeys IsBridgeReservedKey
META = "__meta"
Path = list[str | int]


def path_string(path: Path) -> str:
    """PropertyPath.String (tests.engine.paths, imported here late: paths imports providers)."""
    from tests.engine.paths import path_string as string

    return string(path)


def _lookup(schema: dict[str, S], path: Path) -> S | None:
    """LookupSchemas(PropertyPathToSchemaPath(path)): MaxItems=1 blocks take no index."""
    cur = S(OBJECT, elem=schema)
    for element in path:
        if cur.type == OBJECT or cur.max_one:
            block = cur.block
            if not isinstance(element, str) or block is None:
                return None
            found = next((s for n, s in block.items() if pname(n, s) == element), None)
            if found is None:
                return None
            cur = found
        elif cur.type in (LIST, SET):
            if not isinstance(element, int):
                return None
            cur = S(OBJECT, elem=cur.block) if cur.block is not None else cur.element
        elif cur.type == MAP:
            cur = cur.element
        else:
            return None
    return cur


def _effective(sch: S | None) -> str:
    """getEffectiveType: a MaxItems=1 block is its element (an object)."""
    if sch is None:
        return ""
    return OBJECT if sch.max_one else sch.type


def _present(value: Any) -> bool:
    """isPresent: not null, and not a nil array (MakeTerraformOutput makes an empty list nil).
    An empty map is taken as absent too: the double's state cannot tell one from a null."""
    return value is not None and value != [] and value != {}


def _replace(kind: str | None) -> str | None:
    return None if kind is None or kind.endswith("-replace") else kind + "-replace"


class DetailedDiffer:
    def __init__(self, schema: dict[str, S], new_inputs: dict[str, Any]) -> None:
        self.schema = schema
        self.new_inputs = new_inputs

    # ------------------------------------------------------------ replacement

    def path_replaces(self, path: Path) -> bool:
        """propertyPathTriggersReplacement: the property is ForceNew, or its direct parent is a
        ForceNew list, set or map (TF's own types: a MaxItems=1 block counts)."""
        sch = _lookup(self.schema, path)
        if sch is None:
            return False
        if sch.force_new:
            return True
        if len(path) == 1:
            return False
        parent = _lookup(self.schema, path[:-1])
        return parent is not None and parent.type in (LIST, SET, MAP) and parent.force_new

    def value_replaces(self, path: Path, value: Any) -> bool:
        """propertyValueTriggersReplacement: any path inside the value replaces."""
        if self.path_replaces(path):
            return True
        if isinstance(value, dict):
            return any(self.value_replaces([*path, k], v) for k, v in value.items())
        if isinstance(value, list):
            return any(self.value_replaces([*path, i], v) for i, v in enumerate(value))
        return False

    # ------------------------------------------------------------ one property

    def prop(self, path: Path, old: Any, new: Any) -> dict[str, str]:
        """makePropDiff."""
        if isinstance(path[-1], str) and path[-1] in RESERVED:
            return {}
        kind = _effective(_lookup(self.schema, path))
        if self._mismatched(old, kind) or self._mismatched(new, kind):
            return self.plain(path, old, new)
        if not _present(old):
            old = None
        if not is_unknown(new) and not _present(new):
            new = None
        if old is None or new is None or is_unknown(new):
            return self.short_circuit(path, old, new)
        if kind == LIST:
            return self.list_diff(path, old, new)
        if kind == SET:
            return self.set_diff(path, old, new)
        if kind in (MAP, OBJECT):
            return self.map_diff(path, old, new)
        return self.plain(path, old, new)

    @staticmethod
    def _mismatched(value: Any, kind: str) -> bool:
        """isTypeShapeMismatched."""
        if is_unknown(value) or not _present(value):
            return False
        if kind in (LIST, SET):
            return not isinstance(value, list)
        if kind in (MAP, OBJECT):
            return not isinstance(value, dict)
        return False

    @staticmethod
    def _base(old: Any, new: Any) -> str | None:
        """makeBaseDiff: "" when both sides are present and known (undecided)."""
        if not _present(old):
            return "add" if _present(new) or is_unknown(new) else None
        if not _present(new) and not is_unknown(new):
            return "delete"
        return "update" if is_unknown(new) else ""

    def plain(self, path: Path, old: Any, new: Any) -> dict[str, str]:
        """makePlainPropDiff."""
        base = self._base(old, new)
        kind: str | None = base if base != "" else ("update" if old != new else None)
        if kind is not None and self.path_replaces(path):
            kind = _replace(kind)
        return {path_string(path): kind} if kind is not None else {}

    def short_circuit(self, path: Path, old: Any, new: Any) -> dict[str, str]:
        """makeShortCircuitDiff: one entry for a value null on one side or unknown."""
        if old is None and new is None:
            return {}
        kind = self._base(old, new) or "update"
        known = new is not None and not is_unknown(new)
        replaces = (
            (is_unknown(new) and self.path_replaces(path))
            or (known and self.value_replaces(path, new))
            or (old is not None and self.value_replaces(path, old))
        )
        return {path_string(path): (_replace(kind) or kind) if replaces else kind}

    # ------------------------------------------------------------ collections

    def list_diff(self, path: Path, old: list[Any], new: list[Any]) -> dict[str, str]:
        """makeListDiff: a list of scalars by an edit script (makeListAttributeDiff: an insert
        is an add at its new index, a removal a delete at its old index, both at one index an
        update; ForceNew promotes), a list of blocks element by element."""
        sch = _lookup(self.schema, path)
        if sch is None:
            return {}
        out: dict[str, str] = {}
        if sch.block is None and len(old) < 1000 and len(new) < 1000:
            for index, change in _edits(old, new):
                key = path_string([*path, index])
                kind = change if key not in out else "update"
                out[key] = (_replace(kind) or kind) if sch.force_new else kind
            return out
        for i in range(max(len(old), len(new))):
            out.update(
                self.prop(
                    [*path, i], old[i] if i < len(old) else None, new[i] if i < len(new) else None
                )
            )
        return out

    def _hashes(self, sch: S, items: list[Any]) -> dict[str, int]:
        """calculateSetHashIndexMap: element identity -> index (a later equal element wins)."""
        block = sch.block
        return {
            code(to_tf(v, block) if block is not None and isinstance(v, dict) else v, sch, False): i
            for i, v in enumerate(items)
        }

    def set_diff(self, path: Path, old: list[Any], new: list[Any]) -> dict[str, str]:
        """makeSetDiff: elements removed and added by identity; the added ones matched to the new
        inputs (matchPlanElementsToInputs) give element-wise entries, else one entry for the
        whole set (UPDATE, or UPDATE_REPLACE when the set is ForceNew)."""
        sch = _lookup(self.schema, path)
        if sch is None:
            return {}
        old_ids, new_ids = self._hashes(sch, old), self._hashes(sch, new)
        removed = sorted(i for h, i in old_ids.items() if h not in new_ids)
        added = sorted(i for h, i in new_ids.items() if h not in old_ids)
        if not removed and not added:
            return {}
        matched = self._match(path, added, new)
        if matched is None or len(matched) != len(added):
            return {path_string(path): "update-replace" if sch.force_new else "update"}
        changes: dict[int, tuple[bool, bool, int]] = {i: (True, False, 0) for i in removed}
        for input_index, plan_index in matched.items():
            was_old = input_index in changes
            changes[input_index] = (was_old, True, plan_index)
        out: dict[str, str] = {}
        for index, (old_changed, new_changed, plan_index) in changes.items():
            out.update(
                self.prop(
                    [*path, index],
                    old[index] if old_changed else None,
                    new[plan_index] if new_changed else None,
                )
            )
        return out

    def _match(self, path: Path, added: list[int], planned: list[Any]) -> dict[int, int] | None:
        value: Any = self.new_inputs
        for element in path:
            if isinstance(value, dict) and isinstance(element, str):
                value = value.get(element)
            elif isinstance(value, list) and isinstance(element, int) and element < len(value):
                value = value[element]
            else:
                value = None
        inputs = value if isinstance(value, list) else []
        if len(inputs) < len(planned):
            return None
        matched: dict[int, int] = {}
        used: set[int] = set()
        for index in added:
            for i, item in enumerate(inputs):
                if i not in used and _from_inputs(item, planned[index]):
                    matched[i] = index
                    used.add(i)
                    break
        return matched

    def map_diff(self, path: Path, old: dict[str, Any], new: dict[str, Any]) -> dict[str, str]:
        """makeMapDiff (objects too): key by key."""
        out: dict[str, str] = {}
        for key in sorted(set(old) | set(new)):
            out.update(self.prop([*path, key], old.get(key), new.get(key)))
        return out


def _from_inputs(item: Any, plan: Any) -> bool:
    """validInputsFromPlan, simplified: every value the input sets is the plan's (the plan may
    fill in what the input leaves out)."""
    if item is None:
        return True
    if item in ([], {}) and plan in (None, [], {}):
        return True  # an empty collection: the plan's nil list or map (MakeTerraformOutput)
    if isinstance(item, dict) and isinstance(plan, dict):
        return all(_from_inputs(v, plan.get(k)) for k, v in item.items())
    if isinstance(item, list) and isinstance(plan, list):
        return len(item) == len(plan) and all(
            _from_inputs(a, b) for a, b in zip(item, plan, strict=True)
        )
    return bool(item == plan)


def _edits(old: list[Any], new: list[Any]) -> list[tuple[int, str]]:
    """unstable/difft/difft.go DiffT: the shortest insert/remove script (a keep costs nothing,
    each insert or remove 1; on a tie Remove wins over Insert, and Keep only when strictly
    cheaper): (new index, "add") for an insert, (old index, "delete") for a removal."""
    n, m = len(old), len(new)
    cost = [[0] * (m + 1) for _ in range(n + 1)]

    def choose(x: int, y: int) -> tuple[int, str]:
        if x == n:
            return m - y, "add"
        if y == m:
            return n - x, "delete"
        best, change = 1 + cost[x + 1][y], "delete"
        if 1 + cost[x][y + 1] < best:
            best, change = 1 + cost[x][y + 1], "add"
        if old[x] == new[y] and cost[x + 1][y + 1] < best:
            best, change = cost[x + 1][y + 1], "keep"
        return best, change

    for x in range(n, -1, -1):
        for y in range(m, -1, -1):
            cost[x][y] = choose(x, y)[0]
    edits: list[tuple[int, str]] = []
    x = y = 0
    while x < n or y < m:
        _, change = choose(x, y)
        if change == "delete":
            edits.append((x, "delete"))
            x += 1
        elif change == "add":
            edits.append((y, "add"))
            y += 1
        else:
            x, y = x + 1, y + 1
    return edits


def detailed_diff_v2(
    schema: dict[str, S],
    prior: dict[str, Any],
    planned: dict[str, Any],
    new_inputs: dict[str, Any],
    requires_new: bool,
) -> dict[str, str]:
    """MakeDetailedDiffV2 with the provider's RequiresNew as replaceOverride."""
    differ = DetailedDiffer(schema, new_inputs)
    result: dict[str, str] = {}
    for key in sorted(set(prior) | set(planned)):
        result.update(differ.prop([key], prior.get(key), planned.get(key)))
    if requires_new:
        if not any(kind.endswith("-replace") for kind in result.values()):
            result[META] = "update-replace"
    else:
        result = {k: v.removesuffix("-replace") for k, v in result.items()}
    return result
