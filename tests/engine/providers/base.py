"""The interface every resource handler implements, and the context it runs in."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.engine.props import canonical, normalize, unwrap
from tests.engine.state import ResourceState


class ProviderError(Exception):
    """A provider operation failed; the message is the provider's own error text."""


class InitializationError(ProviderError):
    """A create or update failed after the object existed (pulumi-terraform-bridge
    pkg/tfbridge/provider.go `initializationError`: the TF Apply returned a state with an ID and
    an error). The engine keeps the object, with these outputs and the error as its init error.
    """

    def __init__(self, message: str, resource_id: str, outputs: dict[str, Any]) -> None:
        super().__init__(message)
        self.resource_id = resource_id
        self.outputs = outputs


DIFF_KINDS = ("add", "add-replace", "delete", "delete-replace", "update", "update-replace")


@dataclass
class PropertyDiff:
    """One entry of a DiffResponse's detailedDiff (as `pulumi preview --json` prints it)."""

    kind: str  # one of DIFF_KINDS
    # False: the display renders the old outputs against the new inputs at this path
    # (pkg/engine/detailedDiff.go TranslateDetailedDiff); pulumi-command (pulumi-go-provider
    # infer/resource.go diff: NewDetailedDiffFromObjectDiff(objDiff, false)) and the bridge's
    # Diff (makeDetailedDiffV2 sets no InputDiff) report false.
    input_diff: bool = False


@dataclass
class DiffResult:
    """What a provider's Diff answers (pulumirpc.DiffResponse): whether anything changes, the
    top-level keys that differ (diffReasons) and those that force a replacement (replaces), and
    the detailed diff by property path (`taskSpec.containerSpec.image`, `ipamConfigs[0].subnet`).
    """

    changes: bool
    diffs: list[str] = field(default_factory=list)
    replaces: list[str] = field(default_factory=list)
    detailed_diff: dict[str, PropertyDiff] = field(default_factory=dict)
    delete_before_replace: bool = False


@dataclass
class ResourceView:
    """One resource as a provider sees it: unwrapped, normalised inputs."""

    urn: str
    name: str
    type: str
    inputs: dict[str, Any]
    provider: str = ""
    # The registration's ignoreChanges, as the provider's Update receives them.
    ignore_changes: list[str] = field(default_factory=list)


@dataclass
class ProviderConfigs:
    """Explicit provider instances by reference ("URN::ID"), from state and this run."""

    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, reference: str, inputs: dict[str, Any]) -> None:
        with self.lock:
            self.configs[reference] = inputs

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
    # What the default diff reports as each detailed-diff entry's inputDiff.
    input_diff = False

    def __init__(self, ctx: HandlerContext) -> None:
        self.ctx = ctx

    def check(self, res: ResourceView, old: ResourceState | None) -> dict[str, Any]:
        """Fill in defaults the provider computes at check time (e.g. auto-names)."""
        return res.inputs

    def diff(
        self, old: ResourceState, news: dict[str, Any], ignore_changes: list[str]
    ) -> DiffResult:
        """The provider's Diff of the checked new inputs against the resource's state.

        Default: compare with the recorded inputs, top-level key by key (what pulumi-command's
        and the provider resource's diffs do); `replace_keys` force a replacement. Providers
        that diff against what their Read stored (pulumi-docker) override this. Engine-level
        ignoreChanges have already been applied to `news`; `ignore_changes` is passed on as the
        bridge receives it (DiffRequest.ignoreChanges).
        """
        old_inputs = plain(old.inputs)
        changed = sorted(
            key
            for key in set(old_inputs) | set(news)
            if canonical(old_inputs.get(key)) != canonical(news.get(key))
        )
        replaces = (
            list(changed)
            if self.replace_keys is None
            else [key for key in changed if key in self.replace_keys]
        )
        from tests.engine.paths import detailed_diff, top_key

        detailed = {
            path: PropertyDiff(
                entry.kind + "-replace" if top_key(path) in replaces else entry.kind,
                self.input_diff,
            )
            for path, entry in detailed_diff(old_inputs, news).items()
        }
        return DiffResult(
            changes=bool(changed),
            diffs=changed,
            replaces=replaces,
            detailed_diff=detailed,
            delete_before_replace=self.delete_before_replace,
        )

    def preview_update(self, old: ResourceState, news: dict[str, Any]) -> dict[str, Any]:
        """What the provider's Update answers under a preview (UpdateRequest.preview), from the
        stored state and the checked new inputs (both wrapped). Default: the old outputs with
        the new inputs over them, no output made unknown."""
        return {**old.outputs, **news}

    def read(self, old: ResourceState) -> dict[str, Any] | None:
        """Refresh: the outputs the provider's Read would store now, or None when the object is
        gone. Default, for providers without a Read (pulumi-command): the recorded outputs."""
        return old.outputs

    def create(self, res: ResourceView) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def update(self, res: ResourceView, old: ResourceState) -> dict[str, Any]:
        raise NotImplementedError

    def delete(self, old: ResourceState) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections held for the run."""
