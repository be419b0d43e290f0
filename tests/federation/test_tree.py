"""The one walk over dicts and lists, and the secret views built on it."""

from __future__ import annotations

from pulumi.runtime import rpc

from federation.tree import DESCEND, contains, find, is_secret_wrapper, rebuild, redact, unwrap


def secret(value: object) -> dict[str, object]:
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


TREE = {
    "plain": 1,
    "env": {"A": "a", "TOKEN": secret("s-tok")},
    "list": [secret("s-x"), {"deep": [secret(secret("s-twice"))]}],
    "whole": secret({"inner": secret("s-y"), "open": "s-z"}),
}


def test_rebuild_replaces_where_told_and_keeps_the_rest():
    doubled = rebuild(
        {"a": 1, "b": [2, {"c": 3}], "d": "s"}, lambda v: v * 2 if isinstance(v, int) else DESCEND
    )
    assert doubled == {"a": 2, "b": [4, {"c": 6}], "d": "s"}


def test_rebuild_does_not_look_inside_a_replaced_node():
    seen: list[object] = []

    def replace(node: object) -> object:
        seen.append(node)
        return "cut" if isinstance(node, dict) and "stop" in node else DESCEND

    assert rebuild([{"stop": {"inner": 1}}, 2], replace) == ["cut", 2]
    assert {"inner": 1} not in seen


def test_find_names_paths_as_pulumi_config_path_does():
    found = find(TREE, is_secret_wrapper)
    assert [path for path, _ in found] == ["env.TOKEN", "list[0]", "list[1].deep[0]", "whole"]
    assert find([{"a": [0, 7]}], lambda v: v == 7, "key") == [("key[0].a[1]", 7)]
    assert find({"a": 1}, lambda v: v == 2) == []


def test_contains():
    assert contains(TREE, is_secret_wrapper)
    assert not contains({"a": [1, {"b": "c"}]}, is_secret_wrapper)


def test_unwrap_removes_every_wrapper_even_nested_ones():
    assert unwrap(TREE) == {
        "plain": 1,
        "env": {"A": "a", "TOKEN": "s-tok"},
        "list": ["s-x", {"deep": ["s-twice"]}],
        "whole": {"inner": "s-y", "open": "s-z"},
    }


def test_redact_leaves_no_secret_value():
    mark = object()
    redacted = redact(TREE, mark)
    assert redacted["env"] == {"A": "a", "TOKEN": mark}
    assert redacted["list"] == [mark, {"deep": [mark]}]
    assert redacted["whole"] is mark
    for value in ("s-tok", "s-x", "s-twice", "s-y", "s-z"):
        assert value not in repr(redacted)
