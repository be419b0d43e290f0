"""Reading the current stack's configuration through pulumi.Config, into validated settings."""

from __future__ import annotations

import json
import os
from typing import Any

import pulumi

from federation.config.model import FederationConfig, StackSettings
from federation.config.validation import validate
from federation.samples import samples_accepted

NAMESPACE = "mip-federation"

# Pulumi.yaml declares these defaults (a declared key without one is mandatory), and the CLI writes
# a default into the stack's config when the key is absent: the program treats them as not set.
UNSET_DEFAULTS: dict[str, Any] = {
    "ssh": {},
    "sshPrivateKey": "",
    "ldsmPasswords": {},
    "network": {},
    "exareme": {},
    "portal": {},
    "swarm": {},
}


def known_keys() -> list[str]:
    """Every top-level key of the mip-federation namespace, as written in a stack file."""
    return [field.alias or name for name, field in StackSettings.model_fields.items()]


def _is_json(key: str, text: str) -> bool:
    """Whether a key's text is JSON to decode: the CLI stores an object or a list as JSON (the SSH
    key is text whatever it starts with)."""
    if key == "sshPrivateKey":
        return False
    return text[:1] in ("{", "[") or key in ("nodes", "ldsmPasswords")


def _decode(key: str, value: Any) -> Any:
    if not isinstance(value, str) or not _is_json(key, value):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def _read(config: pulumi.Config, key: str) -> Any:
    """A key's value (None when unset): structured values through get_object; a value that is not
    JSON stays text, for validation to name."""
    text = config.get(key)
    if text is None or not _is_json(key, text):
        return text
    try:
        return config.get_object(key)
    except pulumi.ConfigTypeError:
        return text


def read_raw() -> dict[str, Any]:
    """Every key set in this stack's mip-federation namespace (keys without the namespace), read
    through the public config API. Keys equal to their Pulumi.yaml default count as unset.

    Known keys are read with pulumi.Config; the whole config map, which only serves to find keys
    the program does not know (a typo), comes from the PULUMI_CONFIG environment variable the
    language host sets (pulumi.runtime.get_config_env()).
    """
    config = pulumi.Config(NAMESPACE)
    raw: dict[str, Any] = {}
    for key in known_keys():
        value = _read(config, key)
        if value is not None:
            raw[key] = value
    prefix = f"{NAMESPACE}:"
    for full_key, value in pulumi.runtime.get_config_env().items():
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix) :]
        if key not in raw and key not in known_keys():
            raw[key] = _decode(key, value)
    return {k: v for k, v in raw.items() if not (k in UNSET_DEFAULTS and v == UNSET_DEFAULTS[k])}


def secret_keys_of(keys: Any) -> set[str]:
    """Which of `keys` (without namespace) hold a value set with --secret."""
    return {k for k in keys if pulumi.runtime.is_config_secret(f"{NAMESPACE}:{k}")}


def _private_key(settings: StackSettings) -> pulumi.Output[str] | None:
    """The SSH private key from the stack or its file; None when Pulumi logs in through the SSH
    agent, or during a preview whose key file is not on this machine (validate warned)."""
    if settings.ssh_private_key is not None:
        return pulumi.Output.secret(settings.ssh_private_key.get_secret_value())
    path = settings.ssh.private_key_file
    if path is None or not os.path.isfile(os.path.expanduser(path)):
        return None
    with open(os.path.expanduser(path), encoding="utf-8") as handle:
        return pulumi.Output.secret(handle.read())


def load_config() -> FederationConfig:
    """Read and validate the current stack's configuration."""
    stack = pulumi.get_stack()
    raw = read_raw()
    preview = pulumi.runtime.is_dry_run()
    settings = validate(
        raw,
        stack,
        secret_keys_of(raw),
        preview=preview,
        passwords=True,
        allow_samples=samples_accepted(),
    )
    return FederationConfig(
        stack=stack,
        settings=settings,
        ssh_private_key=_private_key(settings),
        ldsm_passwords={
            alias: pulumi.Output.secret(password.get_secret_value())
            for alias, password in settings.ldsm_passwords.items()
        },
    )
