"""Reading `Pulumi.<stack>.yaml` and a secrets file into the config the program receives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from federation.stackfile import StackFileError, config_text, read_stack_file, read_yaml_mapping

__all__ = ["StackFileError", "load_stack_file"]


def load_stack_file(
    path: Path, secrets_file: Path | None = None
) -> tuple[dict[str, str], list[str]]:
    """(config, secret_keys) for a stack file, with the secrets file's values merged in.

    `secure:` values are encrypted with a Pulumi secrets provider this machine does not have:
    each must be given in the secrets file (`namespace:key: value`), which replaces it whole.
    Every key from the secrets file is secret.
    """
    file = read_stack_file(path, None)
    secrets: dict[str, Any] = {}
    if secrets_file is not None:
        secrets = read_yaml_mapping(secrets_file, "secrets file")
    unresolved = [
        where for key, paths in file.secure_paths.items() if key not in secrets for where in paths
    ]
    if unresolved:
        where = f" {secrets_file}" if secrets_file else " (pass one with --secrets FILE)"
        raise StackFileError(
            f"stack file {path} has encrypted values that cannot be decrypted here: "
            f"{', '.join(unresolved)}. Put their plain values in the secrets file{where} as "
            "`<namespace>:<key>: <value>` (the whole key, e.g. `mip-federation:sshPrivateKey`)."
        )
    config = {key: config_text(value) for key, value in file.config.items()}
    secret_keys = list(file.secure_keys)
    for key, value in secrets.items():
        config[str(key)] = config_text(value)
        if key not in secret_keys:
            secret_keys.append(str(key))
    return config, secret_keys
