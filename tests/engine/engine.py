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

from tests.engine.oplog import OpLog, step_dependencies
from tests.engine.paths import apply_replace_on_changes, diff_replaces, process_ignore_changes
from tests.engine.props import UNKNOWN, annotate_secrets, canonical, normalize, rewrap_outputs
from tests.engine.providers import PROVIDER_PREFIX, HandlerContext, Registry, ResourceView
from tests.engine.providers.base import (
    Handler,
    InitializationError,
    PropertyDiff,
    ProviderError,
    plain,
)
from tests.engine.registration import Registration, ResourceError, SkippedError
from tests.engine.state import ResourceState, StackState, provider_urn


@dataclass
class Plan:
    op: str  # create | update | replace | same
    changed: list[str] = field(default_factory=list)  # diffReasons (top-level keys)
    replaces: list[str] = field(default_factory=list)  # replaceReasons
    detailed_diff: dict[str, PropertyDiff] = field(default_factory=dict)
    delete_before_replace: bool = False  # what the provider's Diff asked for


def plan_step(
    old: ResourceState | None,
    reg: Registration,
    inputs: dict[str, Any],
    handler: Handler,
    provider_changed: bool = False,
) -> Plan:
    """The step for a registration, from its checked inputs (pkg/resource/deploy/
    step_generator.go: `diff` then `continueStepsFromDiff`): a provider change replaces (blaming
    `provider`); else the provider's Diff, with the registration's replaceOnChanges applied
    (`applyReplaceOnChanges`), decides between same, update and replace."""
    if old is None:
        return Plan("create")
    if provider_changed:
        return Plan("replace", replaces=["provider"])
    diff = apply_replace_on_changes(
        handler.diff(old, inputs, list(reg.ignore_changes)),
        list(reg.replace_on_changes),
        has_init_errors=bool(old.init_errors),
    )
    if not diff.changes:
        # An unchanged resource with init errors gets an empty update, "to attempt to
        # continue awaiting initialization" (continueStepsFromDiff, hasInitErrors).
        return Plan("update") if old.init_errors else Plan("same")
    op = "replace" if diff_replaces(diff) else "update"
    return Plan(
        op,
        changed=list(diff.diffs),
        replaces=list(diff.replaces),
        detailed_diff=dict(diff.detailed_diff),
        delete_before_replace=diff.delete_before_replace,
    )


def _topological(resources: list[ResourceState]) -> list[ResourceState]:
    """Resources in dependency order (each after what it depends on), stable otherwise."""
    by_urn = {r.urn: r for r in resources}
    done: set[str] = set()
    order: list[ResourceState] = []

    def visit(res: ResourceState, path: set[str]) -> None:
        if res.urn in done or res.urn in path:
            return
        path.add(res.urn)
        for urn in sorted(res.depends_on() | res.dependency_edges()):
            if urn in by_urn:
                visit(by_urn[urn], path)
        done.add(res.urn)
        order.append(res)

    for res in resources:
        visit(res, set())
    return order


def _waits_for(reg: Registration) -> list[str]:
    return step_dependencies(reg.parent, reg.provider, reg.dependencies, reg.property_dependencies)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ProviderError):
        return str(exc)
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


class Engine:
    """One run: `preview=True` decides every step without applying any (`pulumi preview`)."""

    def __init__(
        self,
        prior: StackState,
        oplog: OpLog,
        ctx: HandlerContext,
        registry: Registry,
        parallel: int,
        checkpoint: Callable[[StackState], None] | None = None,
        preview: bool = False,
    ) -> None:
        self.prior = prior
        self.prior_live = prior.by_urn()
        self.oplog = oplog
        self.ctx = ctx
        self.registry = registry
        self.parallel = max(1, parallel)
        self.preview = preview
        # The step executor runs at most `parallel` resource operations at once.
        self.slots = threading.BoundedSemaphore(self.parallel)
        self.lock = threading.Lock()
        self.new: dict[str, ResourceState] = {}
        self.replaced: list[ResourceState] = []
        self.deleted: set[int] = set()
        self.gone: set[str] = set()  # old entries already deleted (delete-before-replace)
        # Dependents deleted because a resource they depend on is replaced delete-first: their
        # registration, if it comes, is a replacement (step_generator.go "recreating").
        self.condemned: dict[str, list[str]] = {}
        self.seen: set[str] = set()  # URNs registered in this run
        self.errors: list[tuple[str, str]] = []
        self.skipped: list[str] = []
        self.steps: list[dict[str, Any]] = []  # every step decided, in order (the preview)
        self.failed = threading.Event()
        self.cancelled = threading.Event()
        self.inflight = 0
        # Checkpoints: `changes` counts completed steps that changed the state; a save writes
        # the state as of its own count, so concurrent steps coalesce into one write.
        self._save = None if preview else checkpoint
        self._save_lock = threading.Lock()
        self._changes = 0
        self._saved = 0
        self.stack_urn = ""
        self.stack_outputs: dict[str, Any] | None = None
        self._load_providers()

    def _load_providers(self) -> None:
        for res in self.prior.resources:
            if res.type.startswith(PROVIDER_PREFIX) and not res.pending_delete:
                self.ctx.providers.set(f"{res.urn}::{res.id}", plain(res.inputs))

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

    # ------------------------------------------------------------ steps decided (preview)

    def _step(
        self,
        op: str,
        urn: str,
        type_: str,
        name: str,
        *,
        old: ResourceState | None = None,
        new_inputs: dict[str, Any] | None = None,
        parent: str = "",
        provider: str = "",
        plan: Plan | None = None,
        logical: bool = True,
    ) -> None:
        """Record a step as the engine emits it (the preview's digest is made of these)."""
        record = {
            "op": op,
            "urn": urn,
            "type": type_,
            "name": name,
            "parent": parent,
            "provider": provider,
            "id": old.id if old is not None else "",
            "old_inputs": old.inputs if old is not None else None,
            "old_outputs": old.outputs if old is not None else None,
            "new_inputs": new_inputs,
            "diffReasons": list(plan.changed) if plan else [],
            "replaceReasons": list(plan.replaces) if plan else [],
            "detailedDiff": (
                {
                    path: {"kind": d.kind, "inputDiff": d.input_diff}
                    for path, d in plan.detailed_diff.items()
                }
                if plan and (plan.detailed_diff or op in ("update", "replace"))
                else None
            ),
            "logical": logical,
        }
        with self.lock:
            self.steps.append(record)

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
            self.seen.add(reg.urn)
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
                property_dependencies=dict(reg.property_dependencies),
            )
            old = self.prior_live.get(reg.urn)
            op = "create" if old is None else "same"
            if old is not None and canonical(old.inputs) != canonical(reg.inputs):
                op = "update"  # step_generator.go diff: no provider, inputs differ
            self._step(
                op, reg.urn, reg.type, reg.name, old=old, new_inputs=reg.inputs, parent=reg.parent
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

    def _check(
        self,
        handler: Handler,
        reg: Registration,
        inputs: dict[str, Any],
        old: ResourceState | None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The provider's Check: (plain checked inputs, the same with the secrets of `inputs`
        kept, as annotateSecrets does for a Check)."""
        view = ResourceView(reg.urn, reg.name, reg.type, plain(inputs), reg.provider)
        checked = handler.check(view, old)
        wrapped: dict[str, Any] = {}
        for key, value in checked.items():
            if key in inputs and canonical(inputs[key]) == canonical(value):
                wrapped[key] = inputs[key]
            else:
                wrapped[key] = annotate_secrets({key: value}, inputs)[key]
        return checked, wrapped

    def _provider_changed(self, old: ResourceState, reg: Registration) -> bool:
        """step_generator.go providerChanged: a different provider reference replaces the
        resource when one side has none, or when the new provider's DiffConfig of the old
        provider's config says replace."""
        if old.provider == reg.provider:
            return False
        if not old.provider or not reg.provider:
            return True
        old_provider = self.prior_live.get(provider_urn(old.provider))
        with self.lock:
            new_provider = self.new.get(provider_urn(reg.provider))
        if old_provider is None or new_provider is None:
            return True
        handler = self.registry.handler(new_provider.type)
        return diff_replaces(handler.diff(old_provider, plain(new_provider.inputs), []))

    def _apply(self, reg: Registration) -> tuple[str, dict[str, Any]]:
        old = self.prior_live.get(reg.urn)
        with self.lock:
            recreating = reg.urn in self.condemned
            condemned_keys = list(self.condemned.get(reg.urn, []))
        try:
            handler = self.registry.handler(reg.type)
            inputs = reg.inputs
            if old is not None and reg.ignore_changes:
                inputs, invalid = process_ignore_changes(
                    reg.inputs, old.inputs, list(reg.ignore_changes)
                )
                if invalid:
                    self.oplog.progress(
                        f"  info: {reg.name}: cannot ignore changes in added or removed "
                        f"elements of the path: {', '.join(map(repr, invalid))}"
                    )
            checked, wrapped = self._check(handler, reg, inputs, None if recreating else old)
            if old is None:
                plan = Plan("create")
            elif recreating:
                plan = Plan("replace", replaces=condemned_keys)
            else:
                plan = plan_step(old, reg, checked, handler, self._provider_changed(old, reg))
                if plan.op == "replace":
                    # A replacement recomputes the defaults from the program's inputs alone
                    # (step_generator.go: Check without olds), so ignored changes apply too.
                    checked, wrapped = self._check(handler, reg, reg.inputs, None)
        except Exception as exc:
            raise self._fail(reg.name, exc) from exc

        if reg.delete_before_replace_defined:
            dbr = reg.delete_before_replace
        else:
            dbr = plan.delete_before_replace or handler.delete_before_replace
        if self.preview:
            return self._plan_only(reg, old, plan, wrapped, dbr, recreating)

        if plan.op == "same":
            assert old is not None
            with self.oplog.step(reg.urn, reg.name, reg.type, "same", deps=_waits_for(reg)):
                pass
            entry = self._entry(reg, old.id, wrapped, old.outputs)
            return self._record(entry)

        view = ResourceView(
            reg.urn, reg.name, reg.type, checked, reg.provider, list(reg.ignore_changes)
        )
        replaced: ResourceState | None = None
        try:
            with self.slots:
                if self.stopping:
                    with self.lock:
                        self.skipped.append(reg.name)
                    raise SkippedError(f"{reg.name}: not applied because the run stopped")
                if plan.op == "replace" and dbr and not recreating:
                    assert old is not None
                    self._delete_dependents(old)
                with self.oplog.step(reg.urn, reg.name, reg.type, plan.op, deps=_waits_for(reg)):
                    if plan.op == "create":
                        resource_id, outputs = handler.create(view)
                    elif plan.op == "update":
                        assert old is not None
                        resource_id, outputs = old.id, handler.update(view, old)
                    else:
                        assert old is not None
                        if dbr and not recreating:
                            handler.delete(old)
                            with self.lock:
                                self.gone.add(reg.urn)
                            self._changed()
                        resource_id, outputs = handler.create(view)
                        if not dbr and not recreating:
                            replaced = replace(old, pending_delete=True)
        except SkippedError:
            raise
        except InitializationError as exc:
            # The step fails, but the object it made stays in the state with its init errors
            # (resource.StatusPartialFailure), so the next run updates it.
            secret_outputs = list(reg.additional_secret_outputs)
            partial = self._entry(
                reg,
                exc.resource_id,
                wrapped,
                rewrap_outputs(normalize(exc.outputs), wrapped, secret_outputs),
            )
            verb = "updating" if plan.op == "update" else "creating"
            partial.init_errors = [f"{verb} {reg.urn}: {exc}"]
            self._record(partial)
            self._changed()
            raise self._fail(reg.name, exc) from exc
        except Exception as exc:
            raise self._fail(reg.name, exc) from exc
        wrapped_outputs = rewrap_outputs(
            normalize(outputs), wrapped, list(reg.additional_secret_outputs)
        )
        entry = self._entry(reg, resource_id, wrapped, wrapped_outputs)
        result = self._record(entry, replaced)
        self._changed()
        return result

    def _plan_only(
        self,
        reg: Registration,
        old: ResourceState | None,
        plan: Plan,
        wrapped: dict[str, Any],
        dbr: bool,
        recreating: bool,
    ) -> tuple[str, dict[str, Any]]:
        """Preview: record the steps the engine would run and answer with what a provider's
        preview answers: for a create or replacement, no id and only the inputs as outputs (the
        SDK makes every other output unknown); for an update, what the provider's Update answers
        under a preview (`Handler.preview_update`); for a same, the old outputs."""
        urn, type_, name = reg.urn, reg.type, reg.name

        def step(op: str, logical: bool = True, step_plan: Plan | None = plan) -> None:
            self._step(
                op,
                urn,
                type_,
                name,
                old=old,
                new_inputs=wrapped,
                parent=reg.parent,
                provider=reg.provider,
                plan=step_plan,
                logical=logical,
            )

        if plan.op == "replace" and dbr and not recreating:
            assert old is not None
            for dependent, _keys in reversed(self._condemn_dependents(old)):
                with self.lock:
                    self.gone.add(dependent.urn)
                self._step(
                    "delete-replaced",
                    dependent.urn,
                    dependent.type,
                    dependent.name,
                    old=dependent,
                    provider=dependent.provider,
                    logical=False,
                )
            self._step(
                "delete-replaced", urn, type_, name, old=old, provider=old.provider, logical=False
            )
            with self.lock:
                self.gone.add(urn)
            step("replace")
            step("create-replacement", logical=False)
        elif plan.op == "replace" and recreating:
            # step_generator.go, "Case 1: recreating" (a dependent deleted for a
            # delete-before-replace): NewReplaceStep(old, new, nil, nil, nil) carries no keys,
            # diffs or detailed diff; only the create-replacement step has the dependent's
            # replace keys (dependentReplaceKeys), and no diffs or detailed diff either.
            step("replace", step_plan=None)
            step(
                "create-replacement",
                logical=False,
                step_plan=Plan("replace", replaces=plan.replaces),
            )
        elif plan.op == "replace":
            step("create-replacement", logical=False)
            step("replace")
        else:
            step(plan.op)
        unknown_id = UNKNOWN if type_.startswith(PROVIDER_PREFIX) else ""
        if plan.op == "same":
            assert old is not None
            resource_id, outputs = old.id, old.outputs
        elif plan.op == "update":
            assert old is not None
            handler = self.registry.handler(type_)
            resource_id, outputs = old.id, handler.preview_update(old, wrapped)
        else:
            resource_id, outputs = unknown_id, dict(wrapped)
        replaced = (
            replace(old, pending_delete=True)
            if plan.op == "replace" and old and not (dbr or recreating)
            else None
        )
        return self._record(self._entry(reg, resource_id, wrapped, outputs), replaced)

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
            property_dependencies=dict(reg.property_dependencies),
            ignore_changes=list(reg.ignore_changes),
            replace_on_changes=list(reg.replace_on_changes),
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

    # ------------------------------------------------------------ delete-before-replace

    def dependent_replacements(self, root: ResourceState) -> list[tuple[ResourceState, list[str]]]:
        """step_generator.go calculateDependentReplacements: the resources of the previous state
        that depend on `root` (DependingOn: provider, dependencies, property dependencies;
        transitively; not those already registered in this run), in dependency order, that must
        be replaced with it. One is when its provider is replaced, or when the provider's Diff,
        given its inputs with every property that depends on a replaced resource set unknown,
        answers replace (replaceOnChanges applied)."""
        with self.lock:
            registered = set(self.seen)
        live = [r for r in self.prior.resources if not r.pending_delete]
        reached = {root.urn}
        candidates: list[ResourceState] = []
        for res in _topological(live):
            if res.urn == root.urn or res.urn in registered:
                continue
            if res.dependency_edges() & reached:
                reached.add(res.urn)
                candidates.append(res)
        replace_set = {root.urn}
        result: list[tuple[ResourceState, list[str]]] = []
        for res in candidates:
            needed, keys = self._requires_replacement(res, replace_set)
            if needed:
                replace_set.add(res.urn)
                result.append((res, keys))
        return result

    def _requires_replacement(
        self, res: ResourceState, replace_set: set[str]
    ) -> tuple[bool, list[str]]:
        if not res.custom:
            return False, []
        if res.provider and provider_urn(res.provider) in replace_set:
            return True, []
        inputs: dict[str, Any] = {}
        touched = False
        for key, value in res.inputs.items():
            if set(res.property_dependencies.get(key, [])) & replace_set:
                touched = True
                value = UNKNOWN
            inputs[key] = value
        if not touched:
            return False, []
        handler = self.registry.handler(res.type)
        diff = apply_replace_on_changes(
            handler.diff(res, plain(inputs), list(res.ignore_changes)),
            list(res.replace_on_changes),
        )
        return diff_replaces(diff), list(diff.replaces)

    def _condemn_dependents(self, root: ResourceState) -> list[tuple[ResourceState, list[str]]]:
        """The dependents to delete before `root`, marked so that their registration becomes a
        replacement; those already condemned by another delete-before-replace are left out."""
        chosen = []
        for res, keys in self.dependent_replacements(root):
            with self.lock:
                if res.urn in self.condemned:
                    continue
                self.condemned[res.urn] = keys
            chosen.append((res, keys))
        return chosen

    def _delete_dependents(self, root: ResourceState) -> None:
        """Delete the dependents replaced with `root`, in reverse dependency order, one after
        the other (the engine runs them as one chain of steps before root's delete)."""
        for res, _keys in reversed(self._condemn_dependents(root)):
            handler = self.registry.handler(res.type)
            with self.oplog.step(res.urn, res.name, res.type, "delete", "replaced"):
                if not res.retain_on_delete:
                    handler.delete(res)
            with self.lock:
                self.gone.add(res.urn)
            self._changed()

    # ------------------------------------------------------------ refresh

    def refresh(self) -> None:
        """`pulumi refresh` (and `up --refresh`): every custom resource of the state is read
        through its provider. Read returning nothing (no ID) drops it from the state
        (pkg/resource/deploy/step.go RefreshStep.Apply); otherwise its outputs are replaced
        by what Read returned, secrets annotated from its inputs as Read's are."""
        resources = list(self.prior.resources)
        results: dict[int, dict[str, Any] | None] = {}

        def read_one(index: int, res: ResourceState) -> None:
            if self.stopping:
                return
            try:
                handler = self.registry.handler(res.type)
                with self.oplog.step(res.urn, res.name, res.type, "refresh") as step:
                    outputs = handler.read(res)
                    step.reason = (
                        "delete"
                        if outputs is None
                        else ("same" if canonical(outputs) == canonical(res.outputs) else "update")
                    )
            except Exception as exc:
                self._fail(res.name, exc)
                return
            with self.lock:
                results[index] = (
                    None
                    if outputs is None
                    else rewrap_outputs(
                        normalize(outputs), res.inputs, list(res.additional_secret_outputs)
                    )
                )

        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            futures = [
                pool.submit(read_one, i, res)
                for i, res in enumerate(resources)
                if res.custom and not res.type.startswith(PROVIDER_PREFIX)
            ]
            for future in futures:
                future.result()
        kept: list[ResourceState] = []
        for index, res in enumerate(resources):
            if index not in results:
                kept.append(res)
            elif results[index] is not None:
                kept.append(replace(res, outputs=results[index] or {}))
        self.prior = StackState(self.prior.stack, self.prior.project, kept, self.prior.outputs)
        self.prior_live = self.prior.by_urn()
        if len(kept) != len(resources) or any(
            res.outputs != old.outputs for res, old in zip(kept, resources, strict=False)
        ):
            self._changed()

    # ------------------------------------------------------------ deletes

    def removed_resources(self) -> list[ResourceState]:
        """What a successful run deletes: resources no longer declared, and replaced ones."""
        stale = [
            r
            for r in self.prior.resources
            if not r.pending_delete and r.urn not in self.new and r.urn not in self.gone
        ]
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
            for urn in entry.depends_on() | entry.dependency_edges():
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
        replaced = entry.pending_delete
        if self.preview:
            self._step(
                "delete-replaced" if replaced else "delete",
                entry.urn,
                entry.type,
                entry.name,
                old=entry,
                parent=entry.parent,
                provider=entry.provider,
                logical=not replaced,
            )
            with self.lock:
                self.deleted.add(id(entry))
            return True
        if not entry.custom:
            with self.lock:
                self.deleted.add(id(entry))
            return True
        reason = "replaced" if replaced else ""
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
