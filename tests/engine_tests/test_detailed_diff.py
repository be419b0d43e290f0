"""The bridge's detailed diff (tests/engine/providers/detailed_diff.py) and the planned state it
compares (tf_plan.py), on small schemas."""

from __future__ import annotations

from tests.engine.props import UNKNOWN
from tests.engine.providers.detailed_diff import detailed_diff_v2
from tests.engine.providers.tf_diff import AttrDiff
from tests.engine.providers.tf_plan import apply_diff
from tests.engine.providers.tf_schema import LIST, MAP, SET, STR, S, code

SCHEMA = {
    "name": S(STR, optional=True),
    "fixed": S(STR, optional=True, force_new=True),
    "tags": S(LIST, optional=True, elem=S(STR)),
    "labels": S(MAP, optional=True, elem=S(STR)),
    "spec": S(
        LIST,
        optional=True,
        max_items=1,
        elem={
            "image": S(STR, required=True),
            "mounts": S(SET, optional=True, elem={"target": S(STR, required=True)}),
            "aliases": S(SET, optional=True, force_new=True, elem=S(STR)),
        },
    ),
}


def test_replace_override_adds_meta_or_demotes() -> None:
    """pulumi-terraform-bridge v3.136.0 pkg/tfbridge/detailed_diff.go MakeDetailedDiffV2 with
    replaceOverride (provider.go Diff passes diff.RequiresNew()): a replacement none of whose
    paths replaces gets `__meta: UPDATE_REPLACE` (pkg/reservedkeys Meta); no replacement
    demotes every kind; a ForceNew property replaces itself (property_path.go
    propertyPathTriggersReplacement)."""
    prior, planned = {"name": "a", "fixed": "x"}, {"name": "b", "fixed": "x"}
    assert detailed_diff_v2(SCHEMA, prior, planned, planned, True) == {
        "name": "update",
        "__meta": "update-replace",
    }
    moved = {"name": "a", "fixed": "y"}
    assert detailed_diff_v2(SCHEMA, prior, moved, moved, True) == {"fixed": "update-replace"}
    assert detailed_diff_v2(SCHEMA, prior, moved, moved, False) == {"fixed": "update"}


def test_reserved_keys_are_not_diffed() -> None:
    """detailed_diff.go makePropDiff: path.IsReservedKey() (`__meta`, `__defaults`) gives no
    entry, whatever the values."""
    prior = {"name": "a", "__meta": '{"schema_version":"1"}'}
    planned = {"name": "a", "__meta": '{"schema_version":"2"}'}
    assert detailed_diff_v2(SCHEMA, prior, planned, planned, False) == {}


def test_values_on_one_side_are_one_entry_and_empty_lists_are_absent() -> None:
    """detailed_diff.go makeShortCircuitDiff and isPresent (pkg/tfbridge/schema.go
    MakeTerraformOutput makes an empty list nil): an added or removed block is one entry at its
    own path, an emptied list is a delete, an unknown is an update, and a removed value that
    holds a ForceNew path replaces (propertyValueTriggersReplacement)."""
    prior = {"spec": {"image": "i", "aliases": ["a"]}, "tags": ["x"]}
    planned = {"tags": [], "labels": UNKNOWN}
    assert detailed_diff_v2(SCHEMA, prior, planned, planned, True) == {
        "spec": "delete-replace",
        "tags": "delete",
        "labels": "add",
    }
    assert detailed_diff_v2(SCHEMA, {"labels": {"a": "1"}}, {"labels": UNKNOWN}, {}, False) == {
        "labels": "update"
    }


def test_scalar_lists_diff_by_edit_script() -> None:
    """detailed_diff.go makeListAttributeDiff (unstable/difft/difft.go DiffT): a removal is a
    delete at its old index, an insert an add at its new index, both at one index an update."""
    prior = {"tags": ["a", "b", "c"]}
    assert detailed_diff_v2(SCHEMA, prior, {"tags": ["a", "c", "d"]}, {}, False) == {
        "tags[1]": "delete",
        "tags[2]": "add",
    }
    assert detailed_diff_v2(SCHEMA, prior, {"tags": ["a", "x", "c"]}, {}, False) == {
        "tags[1]": "update"
    }
    # A tie between keeping and removing removes (choose: Keep only when strictly cheaper).
    assert detailed_diff_v2(SCHEMA, {"tags": ["a", "a"]}, {"tags": ["a"]}, {}, False) == {
        "tags[0]": "delete"
    }


def test_sets_match_elements_to_the_inputs_or_diff_whole() -> None:
    """detailed_diff.go makeSetDiff/matchPlanElementsToInputs: an added element found in the
    new inputs gives element-wise entries (a changed element at one index is an update of its
    field; a ForceNew set's element replaces: propertyPathTriggersReplacement's parent check);
    one the inputs cannot account for makes one entry for the whole set."""
    prior = {"spec": {"image": "i", "mounts": [{"target": "/a"}], "aliases": ["x"]}}
    planned = {"spec": {"image": "i", "mounts": [{"target": "/b"}], "aliases": ["y"]}}
    assert detailed_diff_v2(SCHEMA, prior, planned, planned, True) == {
        "spec.mounts[0].target": "update",
        "spec.aliases[0]": "update-replace",
    }
    inputs = {"spec": {"image": "i", "aliases": ["y"]}}  # mounts not in the inputs
    assert detailed_diff_v2(SCHEMA, prior, planned, inputs, True) == {
        "spec.mounts": "update",
        "spec.aliases[0]": "update-replace",
    }


def test_planned_state_is_the_prior_state_with_the_diff_applied() -> None:
    """terraform-plugin-sdk helper/schema grpc_provider.go PlanResourceChange (the InstanceDiff
    applied to the prior state): changed attributes take their new value, removed ones go, a
    computed one is unknown, a set element whose fields all go leaves, and what the diff does
    not name (an ignored key, a suppressed diff) keeps the prior value."""
    state = {
        "name": "a",
        "fixed": "keep",
        "labels": {"k": "1", "gone": "2"},
        "spec": [{"image": "i", "mounts": [{"target": "/a"}], "aliases": []}],
    }
    mounts = SCHEMA["spec"].block["mounts"]  # type: ignore[index]
    old_code = code({"target": "/a"}, mounts, False)
    new_code = code({"target": "/b"}, mounts, True)
    attrs = {
        "name": AttrDiff(old="a", new="b"),
        "labels.gone": AttrDiff(old="2", new_removed=True),
        "labels.k": AttrDiff(old="1", new_computed=True),
        f"spec.0.mounts.{old_code}.target": AttrDiff(old="/a", new_removed=True),
        f"spec.0.mounts.{new_code}.target": AttrDiff(new="/b"),
    }
    assert apply_diff(state, attrs, SCHEMA) == {
        "name": "b",
        "fixed": "keep",
        "labels": {"k": UNKNOWN},
        "spec": [{"image": "i", "mounts": [{"target": "/b"}], "aliases": []}],
    }
