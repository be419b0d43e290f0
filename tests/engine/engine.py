"""The deployment engine double: decides and applies each registered resource's step, then
deletes what the program no longer declares, in reverse dependency order.

Steps run on the SDK's executor threads as registrations arrive (so independent resources run in
parallel, as with the real engine). Once one step fails, or the run is cancelled (Ctrl-C), no new
step starts; steps in flight finish and are recorded; nothing is deleted for resources the program
did not reach. Like the real engine's checkpoints, the state is saved after every completed step
that changed something, so a crash loses at most the steps in flight.
"""

from __future__ import annotations

import contextlib
import threading
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any

from tests.engine.oplog import OpLog
from tests.engine.props import canonical, normalize, rewrap_outputs, unwrap
from tests.engine.providers import PROVIDER_PREFIX, HandlerContext, Registry, ResourceView
from tests.engine.providers.base import Handler, ProviderError, plain
from tests.engine.registration import Registration, ResourceError, SkippedError
from tests.engine.state import ResourceState, StackState


@dataclass
class Plan:
    op: str  # create | update | replace | same
    changed: list[str] = field(default_factory=list)


def _top_key(path: str) -> str:
    for sep in (".", "["):
        path = path.split(sep, 1)[0]
    return path


def plan_step(
    old: ResourceState | None, reg: Registration, inputs: dict[str, Any], handler: Handler
) -> Plan:
    if old is None:
        return Plan("create")
    old_inputs = plain(old.inputs)
    changed = sorted(
        key
        for key in set(old_inputs) | set(inputs)
        if canonical(old_inputs.get(key)) != canonical(inputs.get(key))
    )
    provider_changed = (old.provider or "") != (reg.provider or "")
    if not changed and not provider_changed:
        return Plan("same")
    patterns = {_top_key(p) for p in reg.replace_on_changes}
    forced = handler.replace_keys is None or bool(
        set(changed) & (set(handler.replace_keys) | patterns)
    )
    if provider_changed or forced or "*" in patterns:
        return Plan("replace", changed)
    return Plan("update", changed)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ProviderError):
        return str(exc)
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


class Engine:
    def __init__(
        self,
        prior: StackState,
        oplog: OpLog,
        ctx: HandlerContext,
        registry: Registry,
        parallel: int,
        checkpoint: Callable[[StackState], None] | None = None,
    ) -> None:
        self.prior = prior
        self.prior_live = prior.by_urn()
        self.oplog = oplog
        self.ctx = ctx
        self.registry = registry
        self.parallel = parallel
        self.lock = threading.Lock()
        self.new: dict[str, ResourceState] = {}
        self.replaced: list[ResourceState] = []
        self.deleted: set[int] = set()
        self.gone: set[str] = set()
        self.errors: list[tuple[str, str]] = []
        self.skipped: list[str] = []
        self.failed = threading.Event()
        self.cancelled = threading.Event()
        self.inflight = 0
        # Checkpoints: `changes` counts completed steps that changed the state; a save writes
        # the state as of its own count, so concurrent steps coalesce into one write.
        self._save = checkpoint
        self._save_lock = threading.Lock()
        self._changes = 0
        self._saved = 0
        self.stack_urn = ""
        self.stack_outputs: dict[str, Any] | None = None
        for res in prior.resources:
            if res.type.startswith(PROVIDER_PREFIX) and not res.pending_delete:
                ctx.providers.set(f"{res.urn}::{res.id}", plain(res.inputs))

    # ------------------------------------------------------------ cancel, checkpoints

    @property
    def stopping(self) -> bool:
        """No new step may start: a step failed or the run was cancelled."""
        return self.failed.is_set() or self.cancelled.is_set()

    def cancel(self) -> None:
        """Graceful cancel (the first Ctrl-C): start no new step, let the ones in flight finish.
        Safe to call from a signal handler: it only sets an event."""
        self.cancelled.set()

    def _changed(self) -> None:
        with self.lock:
            self._changes += 1
        self.checkpoint()

    def checkpoint(self, state: StackState | None = None) -> None:
        """Save `state`, or the current state (what a run interrupted now would leave)."""
        if self._save is None:
            return
        with self._save_lock:
            with self.lock:
                version = self._changes
                if state is None:
                    if version == self._saved:
                        return  # a concurrent save already wrote this change
                    state = self.final_state(False)
            self._save(state)
            self._saved = version

    def hold_checkpoints(self, timeout: float) -> None:
        """Before exiting at once: wait up to `timeout` for a checkpoint being written, then
        start no other, so no half-written temp file is left behind."""
        self._save_lock.acquire(timeout=timeout)

    # ------------------------------------------------------------ registrations

    @contextlib.contextmanager
    def _tracked(self) -> Iterator[None]:
        with self.lock:
            self.inflight += 1
        try:
            yield
        finally:
            with self.lock:
                self.inflight -= 1

    def register(self, reg: Registration) -> tuple[str, dict[str, Any]]:
        with self.lock:
            duplicate = reg.urn in self.new
        if duplicate:
            raise self._fail(reg.name, ProviderError(f"Duplicate resource URN '{reg.urn}'"))
        if not reg.custom:
            entry = ResourceState(
                urn=reg.urn,
                type=reg.type,
                name=reg.name,
                custom=False,
                parent=reg.parent,
                dependencies=list(reg.dependencies),
                inputs=reg.inputs,
            )
            with self.lock:
                self.new[reg.urn] = entry
            return "", {}
        with self._tracked():
            if self.stopping:
                with self.lock:
                    self.skipped.append(reg.name)
                why = "an earlier step failed" if self.failed.is_set() else "the run was cancelled"
                raise SkippedError(f"{reg.name}: not applied because {why}")
            return self._apply(reg)

    def register_outputs(self, urn: str, outputs: dict[str, Any]) -> None:
        with self.lock:
            if urn == self.stack_urn:
                self.stack_outputs = outputs
            elif urn in self.new:
                self.new[urn].outputs = outputs

    def _fail(self, name: str, exc: BaseException) -> ResourceError:
        message = _describe(exc)
        with self.lock:
            self.errors.append((name, message))
        self.failed.set()
        return ResourceError(name, message)

    def _apply(self, reg: Registration) -> tuple[str, dict[str, Any]]:
        old = self.prior_live.get(reg.urn)
        try:
            handler = self.registry.handler(reg.type)
            view = ResourceView(
                reg.urn, reg.name, reg.type, normalize(unwrap(reg.inputs)), reg.provider
            )
            ignored = {_top_key(p) for p in reg.ignore_changes}
            if old is not None:
                old_inputs = plain(old.inputs)
                for key in ignored & set(old_inputs):
                    view.inputs[key] = old_inputs[key]
            checked = handler.check(view, old)
            wrapped = dict(reg.inputs)
            for key, value in checked.items():
                if key not in view.inputs or key in ignored:
                    wrapped[key] = old.inputs[key] if old and key in old.inputs else value
            view.inputs = checked
            plan = plan_step(old, reg, checked, handler)
        except Exception as exc:
            raise self._fail(reg.name, exc) from exc

        if plan.op == "same":
            assert old is not None
            with self.oplog.step(reg.urn, reg.name, reg.type, "same"):
                pass
            entry = self._entry(reg, old.id, wrapped, old.outputs)
            return self._record(entry)

        dbr = reg.delete_before_replace or handler.delete_before_replace
        replaced: ResourceState | None = None
        try:
            with self.oplog.step(reg.urn, reg.name, reg.type, plan.op):
                if plan.op == "create":
                    resource_id, outputs = handler.create(view)
                elif plan.op == "update":
                    assert old is not None
                    resource_id, outputs = old.id, handler.update(view, old)
                else:
                    assert old is not None
                    if dbr:
                        handler.delete(old)
                        with self.lock:
                            self.gone.add(reg.urn)
                        self._changed()
                    resource_id, outputs = handler.create(view)
                    if not dbr:
                        replaced = replace(old, pending_delete=True)
        except Exception as exc:
            raise self._fail(reg.name, exc) from exc
        wrapped_outputs = rewrap_outputs(
            normalize(outputs), wrapped, list(reg.additional_secret_outputs)
        )
        entry = self._entry(reg, resource_id, wrapped, wrapped_outputs)
        result = self._record(entry, replaced)
        self._changed()
        return result

    def _entry(
        self, reg: Registration, resource_id: str, inputs: dict[str, Any], outputs: dict[str, Any]
    ) -> ResourceState:
        return ResourceState(
            urn=reg.urn,
            type=reg.type,
            name=reg.name,
            custom=True,
            id=resource_id,
            parent=reg.parent,
            provider=reg.provider,
            dependencies=list(reg.dependencies),
            inputs=inputs,
            outputs=outputs,
            delete_before_replace=reg.delete_before_replace,
            additional_secret_outputs=list(reg.additional_secret_outputs),
            retain_on_delete=reg.retain_on_delete,
        )

    def _record(
        self, entry: ResourceState, replaced: ResourceState | None = None
    ) -> tuple[str, dict[str, Any]]:
        if entry.type.startswith(PROVIDER_PREFIX):
            self.ctx.providers.set(f"{entry.urn}::{entry.id}", plain(entry.inputs))
        with self.lock:  # the new entry and the old one's pending delete land together
            self.new[entry.urn] = entry
            if replaced is not None:
                self.replaced.append(replaced)
        return entry.id, entry.outputs

    # ------------------------------------------------------------ deletes

    def removed_resources(self) -> list[ResourceState]:
        """What a successful run deletes: resources no longer declared, and replaced ones."""
        stale = [r for r in self.prior.resources if not r.pending_delete and r.urn not in self.new]
        pending = [r for r in self.prior.resources if r.pending_delete]
        return stale + pending + list(self.replaced)

    def delete_all(self, entries: list[ResourceState]) -> None:
        """Delete in reverse dependency order, independent deletes in parallel. After a failure
        or a cancel no new delete starts, and what the failed one depends on is kept."""
        ids = {id(e): e for e in entries}
        by_urn: dict[str, list[int]] = {}
        for key, entry in ids.items():
            by_urn.setdefault(entry.urn, []).append(key)
        needs: dict[int, set[int]] = {key: set() for key in ids}  # key -> deps in the set
        waiting_on: dict[int, int] = dict.fromkeys(ids, 0)  # dependents not yet deleted
        for key, entry in ids.items():
            for urn in entry.depends_on():
                for dep in by_urn.get(urn, []):
                    if dep != key:
                        needs[key].add(dep)
                        waiting_on[dep] += 1
        ready = [k for k, n in waiting_on.items() if n == 0]
        running: dict[Future[bool], int] = {}
        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            while ready or running:
                while ready and not self.stopping:
                    key = ready.pop(0)
                    running[pool.submit(self._delete_one, ids[key])] = key
                if not running:
                    break
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    key = running.pop(future)
                    if future.result():
                        for dep in needs[key]:
                            waiting_on[dep] -= 1
                            if waiting_on[dep] == 0:
                                ready.append(dep)

    def _delete_one(self, entry: ResourceState) -> bool:
        if not entry.custom:
            with self.lock:
                self.deleted.add(id(entry))
            return True
        reason = "replaced" if entry.pending_delete else ""
        try:
            handler = self.registry.handler(entry.type)
            with self.oplog.step(entry.urn, entry.name, entry.type, "delete", reason):
                if not entry.retain_on_delete:
                    handler.delete(entry)
        except Exception as exc:
            self._fail(entry.name, exc)
            return False
        with self.lock:
            self.deleted.add(id(entry))
        self._changed()
        return True

    # ------------------------------------------------------------ final state

    def final_state(self, succeeded: bool) -> StackState:
        resources: list[ResourceState] = list(self.new.values())
        for res in self.prior.resources:
            if id(res) in self.deleted:
                continue
            if res.pending_delete or (res.urn not in self.new and res.urn not in self.gone):
                resources.append(res)
        resources += [r for r in self.replaced if id(r) not in self.deleted]
        outputs = self.prior.outputs
        if succeeded and self.stack_outputs is not None:
            outputs = self.stack_outputs
        return StackState(
            stack=self.prior.stack,
            project=self.prior.project,
            resources=resources,
            outputs=outputs,
        )
