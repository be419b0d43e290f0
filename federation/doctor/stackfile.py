"""Reading a stack file: the validated settings, without decrypting any `secure:` value."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from federation.config import NAMESPACE, ConfigError, StackSettings, validate
from federation.doctor.model import DoctorError
from federation.stackfile import StackFileError, read_stack_file

UNDECRYPTED = "[secure value: the doctor does not decrypt it]"
STACK_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def read_stack(path: Path, stack: str, key_file: str | None = None) -> StackSettings:
    """The validated settings of a stack file. `key_file` (--key) replaces ssh.privateKeyFile."""
    try:
        file = read_stack_file(path, UNDECRYPTED)
    except StackFileError as error:
        raise DoctorError(str(error)) from None
    if not file.config:
        raise DoctorError(f"{path}: no `config:` block")
    raw: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for full_key, value in file.config.items():
        namespace, _, key = full_key.rpartition(":")
        if namespace not in ("", NAMESPACE):
            continue
        if full_key in file.secure_keys:
            secret_keys.add(key)
        raw[key] = value
    ssh = raw.get("ssh")
    if key_file is not None and isinstance(ssh, dict) and "privateKeyFile" in ssh:
        raw["ssh"] = {**ssh, "privateKeyFile": key_file}
    try:
        # The doctor changes nothing, so the sample stack's values are warnings, as in a preview.
        return validate(raw, stack, secret_keys, allow_samples=True)
    except ConfigError as error:
        raise DoctorError(f"{path}: {error}") from None
