"""Reading a stack file: the validated settings, without decrypting any `secure:` value."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from federation.config import NAMESPACE, ConfigError, StackSettings, validate
from federation.doctor.model import DoctorError

UNDECRYPTED = "[secure value: the doctor does not decrypt it]"
STACK_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def _has_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def _mask_secure(value: Any) -> Any:
    """`{secure: ...}` values replaced by a placeholder string: the doctor never decrypts."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return UNDECRYPTED
        return {k: _mask_secure(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_secure(v) for v in value]
    return value


def read_stack(path: Path, stack: str, key_file: str | None = None) -> StackSettings:
    """The validated settings of a stack file. `key_file` (--key) replaces ssh.privateKeyFile."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise DoctorError(f"cannot read the stack file {path}: {error}") from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise DoctorError(f"{path}: no `config:` block")
    raw: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for full_key, value in config.items():
        namespace, _, key = str(full_key).rpartition(":")
        if namespace not in ("", NAMESPACE):
            continue
        if _has_secure(value):
            secret_keys.add(key)
            value = _mask_secure(value)
        raw[key] = value
    ssh = raw.get("ssh")
    if key_file is not None and isinstance(ssh, dict) and "privateKeyFile" in ssh:
        raw["ssh"] = {**ssh, "privateKeyFile": key_file}
    try:
        return validate(raw, stack, secret_keys)
    except ConfigError as error:
        raise DoctorError(f"{path}: {error}") from None
