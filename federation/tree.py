"""Trees of dicts and lists (config values, resource inputs): one walk, and the views of secrets
built on it. A secret is either Pulumi's wire wrapper (a resource input or output marked secret)
or a stack file's `secure:` entry (see federation.stackfile)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from pulumi.runtime import rpc

DESCEND: Final = object()
"""What a `rebuild` replacer returns for a node it leaves to the walk."""


def rebuild(value: Any, replace: Callable[[Any], Any]) -> Any:
    """The value rebuilt top-down: where `replace(node)` returns anything but DESCEND, that stands
    in for the node and its insides are not visited; other dicts and lists are rebuilt from their
    items, other scalars kept."""
    replaced = replace(value)
    if replaced is not DESCEND:
        return replaced
    if isinstance(value, dict):
        return {key: rebuild(item, replace) for key, item in value.items()}
    if isinstance(value, list):
        return [rebuild(item, replace) for item in value]
    return value


def find(value: Any, matches: Callable[[Any], bool], path: str = "") -> list[tuple[str, Any]]:
    """(path, node) of every node that matches, without looking inside a match. Paths read as
    `pulumi config --path` writes them: `key.field`, `key[0]`."""
    if matches(value):
        return [(path, value)]
    if isinstance(value, dict):
        return [
            found
            for key, item in value.items()
            for found in find(item, matches, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(value, list):
        return [
            found
            for index, item in enumerate(value)
            for found in find(item, matches, f"{path}[{index}]")
        ]
    return []


def contains(value: Any, matches: Callable[[Any], bool]) -> bool:
    """Whether the value, or anything nested in its dicts and lists, matches."""
    return bool(find(value, matches))


def is_secret_wrapper(value: Any) -> bool:
    """Whether a value is a secret as the SDK serializes it."""
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def unwrap(value: Any) -> Any:
    """The value with every secret wrapper removed: what a provider receives."""

    def inner(node: Any) -> Any:
        return rebuild(node.get("value"), inner) if is_secret_wrapper(node) else DESCEND

    return rebuild(value, inner)


def redact(value: Any, mark: Any) -> Any:
    """The value with every secret replaced by `mark`: what is visible in plain text."""
    return rebuild(value, lambda node: mark if is_secret_wrapper(node) else DESCEND)
