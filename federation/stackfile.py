"""Reading `Pulumi.<stack>.yaml` without decrypting anything: its config with every `secure:`
entry masked, and where those entries are. The tools (plan, doctor) and the tests read stack
files through this; the program itself gets its config from Pulumi."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from federation.tree import DESCEND, find, rebuild


class StackFileError(ValueError):
    """A stack file that cannot be read: the message names the file and what is wrong."""


def is_secure(value: Any) -> bool:
    """Whether a config value is a `secure:` entry (`{secure: <ciphertext>}`), well-formed or not:
    its ciphertext is never shown, whatever it holds."""
    return isinstance(value, dict) and set(value) == {"secure"}


def secure_entries(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """(config path, ciphertext) of every `secure:` entry in a config value."""
    return [(where, entry["secure"]) for where, entry in find(value, is_secure, path)]


def config_text(value: Any) -> str:
    """How `pulumi config` hands a value to the program: strings as they are, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def stack_name(path: Path) -> str:
    return path.name.removeprefix("Pulumi.").removesuffix(".yaml")


@dataclass(frozen=True)
class StackFile:
    path: Path
    config: dict[str, Any]
    """Config keys as written (`namespace:key`), each value with its `secure:` entries masked."""
    secure_paths: dict[str, list[str]]
    """Per config key that holds `secure:` entries, their config paths, e.g.
    `mip-federation:ldsmPasswords` -> [`mip-federation:ldsmPasswords.hug`]."""

    @property
    def secure_keys(self) -> list[str]:
        """The config keys that hold a `secure:` entry, in file order."""
        return list(self.secure_paths)

    @property
    def stack(self) -> str:
        return stack_name(self.path)


def read_yaml_mapping(path: Path, what: str) -> dict[str, Any]:
    """A YAML file that must hold a mapping (an empty file is an empty one)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise StackFileError(f"cannot read the {what} {path}: {error}") from None
    if not isinstance(document, dict):
        raise StackFileError(f"the {what} {path} must be a YAML mapping")
    return document


def read_stack_file(path: Path, mask: Any) -> StackFile:
    """The config of a stack file, every `secure:` entry replaced by `mask`."""
    config = read_yaml_mapping(path, "stack file").get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"the stack file {path}: `config` must be a mapping")
    masked: dict[str, Any] = {}
    secure_paths: dict[str, list[str]] = {}
    for key, value in config.items():
        key = str(key)
        masked[key] = rebuild(value, lambda node: mask if is_secure(node) else DESCEND)
        if found := [where for where, _ in find(value, is_secure, key)]:
            secure_paths[key] = found
    return StackFile(path, masked, secure_paths)
