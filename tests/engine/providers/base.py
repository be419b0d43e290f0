"""The interface every resource handler implements, and the context it runs in."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.engine.props import normalize, unwrap
from tests.engine.state import ResourceState


class ProviderError(Exception):
    """A provider operation failed; the message is the provider's own error text."""


@dataclass
class ResourceView:
    """One resource as a provider sees it: unwrapped, normalised inputs."""

    urn: str
    name: str
    type: str
    inputs: dict[str, Any]
    provider: str = ""


@dataclass
class ProviderConfigs:
    """Explicit provider instances by reference ("URN::ID"), from state and this run."""

    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Called with (reference, inputs) whenever a provider becomes known: Pulumi configures it.
    on_configure: list[Callable[[str, dict[str, Any]], None]] = field(default_factory=list)

    def set(self, reference: str, inputs: dict[str, Any]) -> None:
        with self.lock:
            self.configs[reference] = inputs
        for listener in self.on_configure:
            listener(reference, inputs)

    def get(self, reference: str) -> dict[str, Any] | None:
        with self.lock:
            return self.configs.get(reference)


def _no_progress(_text: str) -> None:
    return None


@dataclass
class HandlerContext:
    providers: ProviderConfigs = field(default_factory=ProviderConfigs)
    progress: Callable[[str], None] = _no_progress


def plain(value: Any) -> Any:
    """A stored (wrapped) value as a provider sees it."""
    return normalize(unwrap(value))


class Handler:
    """Base handler: subclasses implement create/update/delete for one resource type."""

    # Input keys whose change forces a replacement; None means every change replaces.
    replace_keys: frozenset[str] | None = None
    delete_before_replace = False

    def __init__(self, ctx: HandlerContext) -> None:
        self.ctx = ctx

    def check(self, res: ResourceView, old: ResourceState | None) -> dict[str, Any]:
        """Fill in defaults the provider computes at check time (e.g. auto-names)."""
        return res.inputs

    def create(self, res: ResourceView) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def update(self, res: ResourceView, old: ResourceState) -> dict[str, Any]:
        raise NotImplementedError

    def delete(self, old: ResourceState) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections held for the run."""
