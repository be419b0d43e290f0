"""What the program asked for when it registered one resource."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    parent: str = ""
    provider: str = ""
    dependencies: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    # Whether the program set delete_before_replace at all (else the provider's Diff decides).
    delete_before_replace_defined: bool = False
    additional_secret_outputs: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    ignore_changes: list[str] = field(default_factory=list)
    import_id: str = ""
    retain_on_delete: bool = False
    # Input key -> URNs its value came from (RegisterResourceRequest.propertyDependencies).
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)


class ResourceError(Exception):
    """A resource step failed: the message is what the provider reported."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.resource_name = name
        self.message = message


class SkippedError(Exception):
    """A registration that arrived after an earlier failure: like the real engine, the
    deployment stops starting new steps once one step has failed."""
