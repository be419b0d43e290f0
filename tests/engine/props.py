"""Property values as the engine double sees them: secret wrappers, normalisation, Go formatting.

Values reach the mocks in Pulumi's wire form: secrets are dicts carrying the special signature
key. The engine keeps that wrapped form as the canonical one (so secretness survives into the
outputs and the state file) and hands providers the unwrapped, normalised view.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi.runtime import rpc

from federation.tree import contains, is_secret_wrapper
from federation.tree import redact as redact_with
from federation.tree import unwrap as unwrap

SIG_KEY: str = rpc._special_sig_key
SECRET_SIG: str = rpc._special_secret_sig
SECRET_PLACEHOLDER = "[secret]"
# What the SDK sends for a value not known yet (a preview's outputs of resources to be created).
UNKNOWN: str = rpc.UNKNOWN


is_secret = is_secret_wrapper


def wrap_secret(value: Any) -> dict[str, Any]:
    if is_secret(value):
        return dict(value)
    return {SIG_KEY: SECRET_SIG, "value": value}


def contains_secret(value: Any) -> bool:
    return contains(value, is_secret)


def is_unknown(value: Any) -> bool:
    return bool(value == UNKNOWN) if isinstance(value, str) else False


def normalize(value: Any) -> Any:
    """Plain JSON-like data: integral floats (protobuf numbers) become ints, tuples become lists,
    the SDK's `Unknown` becomes the UNKNOWN sentinel, anything else that JSON cannot hold becomes
    its string form. Secret wrappers are kept."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {str(k): normalize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalize(v) for v in value]
    if type(value).__name__ == "Unknown":
        return UNKNOWN
    return str(value)


def from_wire(value: Any) -> Any:
    """A RegisterResource property (protobuf Struct/ListValue/scalar) as the engine sees it: secrets
    stay where they are, leaf by leaf (the SDK's own deserializer lifts a nested secret up to the
    whole enclosing object, which the real engine's unmarshalling with KeepSecrets does not), and
    unknowns stay the UNKNOWN sentinel."""
    if isinstance(value, Mapping):  # protobuf Struct
        if SIG_KEY in value:
            if value[SIG_KEY] == SECRET_SIG:
                return wrap_secret(from_wire(value["value"]))
            return normalize(rpc.deserialize_property(value, keep_unknowns=True))
        return {str(k): from_wire(v) for k, v in value.items()}
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
        return [from_wire(v) for v in value]
    return normalize(value)


def redact(value: Any) -> Any:
    """The value with every secret replaced by a placeholder: safe to print."""
    return redact_with(value, SECRET_PLACEHOLDER)


def canonical(value: Any) -> str:
    """A stable text form of the unwrapped value, for comparing inputs."""
    return json.dumps(normalize(unwrap(value)), sort_keys=True, separators=(",", ":"))


def annotate_secrets(outs: dict[str, Any], ins: dict[str, Any]) -> dict[str, Any]:
    """pulumi/pulumi pkg/resource/plugin/provider_plugin.go `annotateSecrets`: for each input key
    the output also has, recurse when both are objects, else make the output secret when the
    input contains a secret. So a secret env var inside `taskSpec` makes only that leaf secret,
    while a list holding a secret becomes secret whole."""
    result = dict(outs)
    for key, in_value in ins.items():
        if key not in result:
            continue
        out_value = result[key]
        if (
            isinstance(out_value, dict)
            and not is_secret(out_value)
            and isinstance(in_value, dict)
            and not is_secret(in_value)
        ):
            result[key] = annotate_secrets(out_value, in_value)
        elif not is_secret(out_value) and contains_secret(in_value):
            result[key] = wrap_secret(out_value)
    return result


def rewrap_outputs(
    outputs: dict[str, Any], inputs: dict[str, Any], secret_keys: list[str]
) -> dict[str, Any]:
    """Mark a provider's (plain) outputs secret the way the engine does: `annotateSecrets` from
    the inputs, then every key listed in additionalSecretOutputs is made secret whole
    (pkg/resource/deploy/step_executor.go, after a step's Apply). Null outputs are dropped."""
    result = annotate_secrets({k: v for k, v in outputs.items() if v is not None}, inputs)
    for key in secret_keys:
        if key in result and not is_secret(result[key]):
            result[key] = wrap_secret(result[key])
    return result


_GO_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\v": "\\v",
}


def go_quote(text: str) -> str:
    """Go's strconv.Quote (the %q verb) for a string: what the real providers print."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif ch.isprintable():
            out.append(ch)
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}


def parse_duration_ns(text: str) -> int:
    """Go's time.ParseDuration, in nanoseconds ("5s", "1m30s", "250ms", "0")."""
    s = text.strip()
    if s in ("0", "+0", "-0"):
        return 0
    sign = 1
    if s and s[0] in "+-":
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if not s:
        raise ValueError(f"time: invalid duration {go_quote(text)}")
    total = 0.0
    pos = 0
    while pos < len(s):
        match = _DURATION_PART.match(s, pos)
        if not match or match.group(1) in ("", "."):
            raise ValueError(f"time: invalid duration {go_quote(text)}")
        total += float(match.group(1)) * _UNIT_NS[match.group(2)]
        pos = match.end()
    return sign * round(total)
