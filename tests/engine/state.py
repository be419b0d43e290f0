"""The stack's state file: one JSON document per stack, secrets encrypted.

Every secret wrapper in inputs and outputs is stored as {"__secret__": <Fernet token>} with a
key kept beside the state file (`<state>.key`, mode 0600), the way Pulumi's passphrase secrets
provider keeps ciphertext in the checkpoint. Files are written atomically with mode 0600.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from tests.engine.props import is_secret, wrap_secret

STATE_VERSION = 1
ENC_KEY = "__secret__"


@dataclass
class ResourceState:
    urn: str
    type: str
    name: str
    custom: bool
    id: str = ""
    parent: str = ""
    provider: str = ""
    dependencies: list[str] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    delete_before_replace: bool = False
    additional_secret_outputs: list[str] = field(default_factory=list)
    retain_on_delete: bool = False
    pending_delete: bool = False
    # Input key -> URNs its value came from (RegisterResourceRequest.propertyDependencies).
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    # resource.State.InitErrors: why the create or update that left this object failed.
    init_errors: list[str] = field(default_factory=list)

    def depends_on(self) -> set[str]:
        """URNs this resource needs to exist while it exists: dependencies, parent, provider."""
        urns = set(self.dependencies)
        if self.parent:
            urns.add(self.parent)
        if self.provider:
            urns.add(provider_urn(self.provider))
        urns.discard(self.urn)
        return urns

    def dependency_edges(self) -> set[str]:
        """What the engine's DependencyGraph.DependingOn follows (children excluded): the
        provider, dependencies and property dependencies."""
        urns = set(self.dependencies)
        for deps in self.property_dependencies.values():
            urns.update(deps)
        if self.provider:
            urns.add(provider_urn(self.provider))
        urns.discard(self.urn)
        return urns


def provider_urn(reference: str) -> str:
    """The URN part of a provider reference "URN::ID"."""
    return reference.rsplit("::", 1)[0] if "::" in reference else reference


@dataclass
class StackState:
    stack: str
    project: str
    resources: list[ResourceState] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def by_urn(self) -> dict[str, ResourceState]:
        """The live (not pending-delete) resource for each URN."""
        return {r.urn: r for r in self.resources if not r.pending_delete}


class SecretBox:
    """Encrypts secret wrappers for storage and restores them on load."""

    def __init__(self, key_file: Path) -> None:
        self.key_file = key_file
        self._fernet: Fernet | None = None

    def _cipher(self) -> Fernet:
        if self._fernet is None:
            if self.key_file.exists():
                key = self.key_file.read_bytes().strip()
            else:
                key = Fernet.generate_key()
                _write_private(self.key_file, key + b"\n")
            self._fernet = Fernet(key)
        return self._fernet

    def seal(self, value: Any) -> Any:
        if is_secret(value):
            plain = json.dumps(value.get("value")).encode()
            return {ENC_KEY: self._cipher().encrypt(plain).decode()}
        if isinstance(value, dict):
            return {k: self.seal(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.seal(v) for v in value]
        return value

    def open(self, value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {ENC_KEY}:
            plain = self._cipher().decrypt(value[ENC_KEY].encode())
            return wrap_secret(json.loads(plain))
        if isinstance(value, dict):
            return {k: self.open(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.open(v) for v in value]
        return value


def key_file_for(state_file: Path) -> Path:
    return state_file.with_suffix(".key")


def ops_log_for(state_file: Path) -> Path:
    return state_file.with_suffix(".ops.jsonl")


def append_ops_log(state_file: Path, records: list[dict[str, Any]]) -> None:
    """Append this run's operations (one JSON object per line) beside the state file."""
    path = ops_log_for(state_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")


def load_state(state_file: Path, stack: str, project: str) -> StackState:
    if not state_file.exists():
        return StackState(stack=stack, project=project)
    box = SecretBox(key_file_for(state_file))
    doc = json.loads(state_file.read_text())
    resources = []
    for raw in doc.get("resources", []):
        raw = {k: v for k, v in raw.items() if k in ResourceState.__dataclass_fields__}
        raw["inputs"] = box.open(raw.get("inputs", {}))
        raw["outputs"] = box.open(raw.get("outputs", {}))
        resources.append(ResourceState(**raw))
    return StackState(
        stack=doc.get("stack", stack),
        project=doc.get("project", project),
        resources=resources,
        outputs=box.open(doc.get("outputs", {})),
    )


def save_state(state_file: Path, state: StackState) -> None:
    box = SecretBox(key_file_for(state_file))
    resources = []
    for res in state.resources:
        raw = asdict(res)
        raw["inputs"] = box.seal(res.inputs)
        raw["outputs"] = box.seal(res.outputs)
        resources.append(raw)
    doc = {
        "version": STATE_VERSION,
        "stack": state.stack,
        "project": state.project,
        "updated": datetime.now(UTC).isoformat(),
        "outputs": box.seal(state.outputs),
        "resources": resources,
    }
    _write_private(state_file, (json.dumps(doc, indent=2, sort_keys=False) + "\n").encode())


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
