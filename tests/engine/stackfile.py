"""Reading `Pulumi.<stack>.yaml` and a secrets file into the config the program receives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml


class StackFileError(Exception):
    pass


def _encode(value: Any) -> str:
    """How `pulumi config` hands a value to the program: strings as-is, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def _find_secure(value: Any, path: str) -> list[str]:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return [path]
        found: list[str] = []
        for key, item in value.items():
            found += _find_secure(item, f"{path}.{key}")
        return found
    if isinstance(value, list):
        found = []
        for index, item in enumerate(value):
            found += _find_secure(item, f"{path}[{index}]")
        return found
    return []


def _read_yaml(path: Path, what: str) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise StackFileError(f"cannot read {what} {path}: {exc}") from exc
    if not isinstance(doc, dict):
        raise StackFileError(f"{what} {path} must be a YAML mapping")
    return doc


def load_stack_file(
    path: Path, secrets_file: Path | None = None
) -> tuple[dict[str, str], list[str]]:
    """(config, secret_keys) for a stack file, with the secrets file's values merged in.

    `secure:` values are encrypted with a Pulumi secrets provider this machine does not have:
    each must be given in the secrets file (`namespace:key: value`), which replaces it whole.
    Every key from the secrets file is secret.
    """
    doc = _read_yaml(path, "stack file")
    raw = doc.get("config") or {}
    if not isinstance(raw, dict):
        raise StackFileError(f"stack file {path}: `config` must be a mapping")
    secrets: dict[str, Any] = {}
    if secrets_file is not None:
        secrets = _read_yaml(secrets_file, "secrets file")
    unresolved = [
        p for key, value in raw.items() if key not in secrets for p in _find_secure(value, key)
    ]
    if unresolved:
        where = f" {secrets_file}" if secrets_file else " (pass one with --secrets FILE)"
        raise StackFileError(
            f"stack file {path} has encrypted values that cannot be decrypted here: "
            f"{', '.join(unresolved)}. Put their plain values in the secrets file{where} as "
            "`<namespace>:<key>: <value>` (the whole key, e.g. `mip-federation:sshPrivateKey`)."
        )
    config = {str(k): _encode(v) for k, v in raw.items()}
    secret_keys = [k for k, v in raw.items() if _find_secure(v, k)]
    for key, value in secrets.items():
        config[str(key)] = _encode(value)
        if key not in secret_keys:
            secret_keys.append(str(key))
    return config, secret_keys
