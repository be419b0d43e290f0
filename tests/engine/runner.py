"""Runs one deployment or destroy in this process, the way Pulumi's Python language host does.

The program runs under `pulumi.runtime.run_in_stack` (what `pulumi-language-python-exec` uses)
with the engine's monitor in place of the gRPC one. Pulumi's runtime settings are process-global,
so a process runs one operation: `tests.engine.api` starts a fresh worker process for each.

Signals are handled as the Pulumi CLI does (`tests.engine.interrupts`): the first SIGINT or SIGTERM
cancels the run, the second terminates the process. The state is checkpointed after every step.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import runpy
import sys
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.mocks import MockEngine
from pulumi.runtime.stack import run_in_stack

from federation.plan.harness import set_config_like_the_cli
from federation.stackfile import config_text
from tests.engine.display import property_diff, translate_detailed_diff
from tests.engine.engine import Engine
from tests.engine.interrupts import INTERRUPTS
from tests.engine.monitor import EngineMonitor
from tests.engine.oplog import OpLog
from tests.engine.props import normalize, redact
from tests.engine.providers import HandlerContext, Registry
from tests.engine.registration import ResourceError, SkippedError
from tests.engine.state import StackState, append_ops_log, load_state, save_state


def default_parallel() -> int:
    """The CLI's default `--parallel` (pkg/cmd/pulumi/operations/up.go defaultParallel):
    PULUMI_PARALLEL when it is set above 0, else 4 x GOMAXPROCS, which Go sets to the number of
    CPUs the process may run on."""
    try:
        configured = int(os.environ.get("PULUMI_PARALLEL", "") or 0)
    except ValueError:
        configured = 0
    if configured > 0:
        return configured
    if hasattr(os, "sched_getaffinity"):
        return 4 * max(1, len(os.sched_getaffinity(0)))
    return 4 * (os.cpu_count() or 1)


def _encode_config(config: dict[str, Any]) -> dict[str, str]:
    return {k: config_text(v) for k, v in config.items()}


def _set_config(config: dict[str, str], secret_keys: list[str]) -> None:
    """The config as the CLI's language host gives it to the program. The environment it sets is
    left in place: the program reads it for the whole run."""
    set_config_like_the_cli(config, secret_keys)


def _program_error(exc: BaseException) -> str | None:
    """The message for a program failure, or None when it only echoes a failed step."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ResourceError | SkippedError):
            return None
        seen = seen.__cause__ or seen.__context__
    if isinstance(exc, pulumi.RunError):
        return str(exc)
    return "Program failed with an unhandled exception:\n" + "".join(
        traceback.format_exception(exc)
    )


async def _drain(engine: Engine) -> None:
    """After a failure, let steps already in flight finish (new ones are refused)."""
    quiet = 0
    while quiet < 3:
        await asyncio.sleep(0.05)
        quiet = quiet + 1 if engine.inflight == 0 else 0


def _configure_runtime(
    engine: Engine, program_dir: Path, project: str, stack: str, parallel: int, dry_run: bool
) -> None:
    pulumi_settings.ROOT.set(None)
    pulumi_settings.configure(
        pulumi_settings.Settings(
            project=project,
            stack=stack,
            monitor=EngineMonitor(engine),
            engine=MockEngine(logging.getLogger("pulumi")),
            root_directory=str(program_dir),
            parallel=parallel,
            dry_run=dry_run,
            organization="organization",
        )
    )


def _run_program(engine: Engine, program_dir: Path, parallel: int) -> str | None:
    main = program_dir / "__main__.py"
    if not main.exists():
        return f"no Pulumi program: {main} does not exist"
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # Each executor thread gets its own event loop up front (the mock monitor needs one to
    # (de)serialize), so the loops can be closed cleanly when the run ends.
    thread_loops: list[asyncio.AbstractEventLoop] = []

    def _thread_loop() -> None:
        thread_loop = asyncio.new_event_loop()
        asyncio.set_event_loop(thread_loop)
        thread_loops.append(thread_loop)

    # pulumi-language-python-exec `_set_default_executor`: the SDK's RegisterResource calls run
    # on a pool of 4 x parallel threads; the engine itself runs at most `parallel` steps at once.
    executor = ThreadPoolExecutor(
        max_workers=max(parallel, 1) * 4, thread_name_prefix="engine-step", initializer=_thread_loop
    )
    loop.set_default_executor(executor)
    saved_cwd, saved_path, saved_argv = os.getcwd(), list(sys.path), list(sys.argv)
    os.chdir(program_dir)
    sys.path.insert(0, str(program_dir))
    sys.argv = [str(main)]
    error: str | None = None
    try:

        def program() -> None:
            runpy.run_path(str(main), run_name="__main__")

        loop.run_until_complete(run_in_stack(program))
    except BaseException as exc:
        error = _program_error(exc)
        loop.run_until_complete(_drain(engine))
    finally:
        for task in asyncio.all_tasks(loop):
            task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(task)
        loop.close()
        executor.shutdown(wait=True)
        for thread_loop in thread_loops:
            thread_loop.close()
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        sys.argv = saved_argv
    return error


def _report(engine: Engine, oplog: OpLog, extra_errors: list[tuple[str, str]]) -> dict[str, Any]:
    errors = list(engine.errors) + extra_errors
    outputs = engine.stack_outputs if engine.stack_outputs is not None else {}
    return {
        "ok": not errors,
        "outputs": redact(normalize(outputs)),
        "operations": [op.to_dict() for op in oplog.operations],
        "errors": [list(e) for e in errors],
        "skipped": list(engine.skipped),
    }


def _result(
    engine: Engine,
    oplog: OpLog,
    extra_errors: list[tuple[str, str]],
    state_file: Path,
    action: str,
) -> dict[str, Any]:
    """The report of a run that saves: its operations are appended to the ops log too."""
    run = {"run": uuid.uuid4().hex[:12], "action": action, "stack": engine.prior.stack}
    append_ops_log(state_file, [{**run, **op.to_dict()} for op in oplog.operations])
    return _report(engine, oplog, extra_errors)


def _new_engine(
    prior: StackState, oplog: OpLog, parallel: int, state_file: Path, preview: bool = False
) -> tuple[Engine, Registry]:
    ctx = HandlerContext(progress=oplog.progress)
    registry = Registry(ctx)

    def checkpoint(state: StackState) -> None:
        save_state(state_file, state)

    engine = Engine(prior, oplog, ctx, registry, parallel, checkpoint, preview=preview)
    INTERRUPTS.attach(engine)
    return engine, registry


def _cancelled(engine: Engine, name: str, action: str) -> list[tuple[str, str]]:
    if not engine.cancelled.is_set():
        return []
    engine.oplog.progress(f"{action} canceled")
    return [(name, f"{action} canceled")]


def _refresh(engine: Engine, stack: str, project: str) -> None:
    engine.oplog.progress(f"Refreshing stack {project}/{stack}")
    engine.refresh()


def _update(
    engine: Engine,
    program_dir: Path,
    stack: str,
    project: str,
    config: dict[str, Any],
    secret_keys: list[str],
    parallel: int,
    refresh: bool,
) -> str | None:
    """What `pulumi up` and `pulumi preview` both run: the optional refresh, the program, then
    the deletes of what it no longer registers. Returns the program's error, if any."""
    if refresh:
        _refresh(engine, stack, project)
    if engine.stopping:
        return None
    doing = "Previewing update of" if engine.preview else "Updating"
    engine.oplog.progress(f"{doing} stack {project}/{stack} ({program_dir})")
    _set_config(_encode_config(config), list(secret_keys))
    _configure_runtime(engine, program_dir, project, stack, parallel, dry_run=engine.preview)
    program_error = _run_program(engine, program_dir, parallel)
    if program_error is None and not engine.stopping:
        engine.delete_all(engine.removed_resources())
    return program_error


def _update_errors(
    engine: Engine, name: str, program_error: str | None, action: str
) -> list[tuple[str, str]]:
    program = [(name, program_error)] if program_error else []
    return program + _cancelled(engine, name, action)


def run_deploy(
    program_dir: Path,
    stack: str,
    config: dict[str, Any],
    secret_keys: list[str],
    state_file: Path,
    project: str = "mip-federation",
    parallel: int | None = None,
    refresh: bool = False,
) -> dict[str, Any]:
    parallel = parallel or default_parallel()
    program_dir = program_dir.resolve()
    prior = load_state(state_file, stack, project)
    oplog = OpLog()
    engine, registry = _new_engine(prior, oplog, parallel, state_file)
    program_error: str | None = None
    try:
        program_error = _update(
            engine, program_dir, stack, project, config, secret_keys, parallel, refresh
        )
    finally:
        registry.close()
        succeeded = program_error is None and not engine.stopping
        engine.checkpoint(engine.final_state(succeeded))
    extra = _update_errors(engine, f"{project}-{stack}", program_error, "update")
    return _result(engine, oplog, extra, state_file, "deploy")


def _logical_summary(steps: list[dict[str, Any]]) -> dict[str, int]:
    """The changeSummary: logical steps counted by op (pkg/engine/update.go, `acts.Ops[op]++`
    for `step.Logical()`): create-replacement and delete-replaced are not counted."""
    summary: dict[str, int] = {}
    for step in steps:
        if step["logical"]:
            summary[step["op"]] = summary.get(step["op"], 0) + 1
    return summary


def run_preview(
    program_dir: Path,
    stack: str,
    config: dict[str, Any],
    secret_keys: list[str],
    state_file: Path,
    project: str = "mip-federation",
    parallel: int | None = None,
    refresh: bool = False,
) -> dict[str, Any]:
    """`pulumi preview`: the program runs against the state (with outputs of resources to be
    created or replaced unknown), every step is decided, none is applied, nothing is saved."""
    parallel = parallel or default_parallel()
    program_dir = program_dir.resolve()
    prior = load_state(state_file, stack, project)
    oplog = OpLog()
    engine, registry = _new_engine(prior, oplog, parallel, state_file, preview=True)
    try:
        program_error = _update(
            engine, program_dir, stack, project, config, secret_keys, parallel, refresh
        )
    finally:
        registry.close()
    stack_urn = engine.stack_urn or (
        f"urn:pulumi:{stack}::{project}::pulumi:pulumi:Stack::{project}-{stack}"
    )
    existed = bool(prior.resources or prior.outputs)
    steps = [
        {
            "op": "same" if existed else "create",
            "urn": stack_urn,
            "type": "pulumi:pulumi:Stack",
            "name": f"{project}-{stack}",
            "parent": "",
            "provider": "",
            "id": "",
            "old_inputs": {} if existed else None,
            "old_outputs": {} if existed else None,
            "new_inputs": {},
            "diffReasons": [],
            "replaceReasons": [],
            "detailedDiff": None,
            "logical": True,
        },
        *engine.steps,
    ]
    for step in steps:
        step["diff"] = None
        if step["op"] in ("update", "replace", "create-replacement") and (
            step["old_inputs"] is not None and step["new_inputs"] is not None
        ):
            if step["detailedDiff"] is not None:
                # diff.go renderDiff -> TranslateDetailedDiff: old outputs against new inputs
                step["diff"] = translate_detailed_diff(
                    step["detailedDiff"],
                    step["old_outputs"] or {},
                    step["old_inputs"],
                    step["new_inputs"],
                )
            else:
                step["diff"] = property_diff(step["old_inputs"], step["new_inputs"])
        for key in ("old_inputs", "old_outputs", "new_inputs"):
            if step[key] is not None:
                step[key] = redact(normalize(step[key]))
    extra = _update_errors(engine, f"{project}-{stack}", program_error, "preview")
    return {
        **_report(engine, oplog, extra),
        "steps": steps,
        "changeSummary": _logical_summary(steps),
    }


def run_refresh(
    stack: str, state_file: Path, project: str = "mip-federation", parallel: int | None = None
) -> dict[str, Any]:
    """`pulumi refresh`: read every resource of the state through its provider and save."""
    parallel = parallel or default_parallel()
    prior = load_state(state_file, stack, project)
    oplog = OpLog()
    engine, registry = _new_engine(prior, oplog, parallel, state_file)
    try:
        _refresh(engine, stack, project)
    finally:
        registry.close()
        if not engine.stopping:
            engine.checkpoint(engine.final_state(False))
    extra = _cancelled(engine, f"{prior.project}-{stack}", "refresh")
    result = _result(engine, oplog, extra, state_file, "refresh")
    result["outputs"] = redact(normalize(engine.prior.outputs))
    return result


def run_destroy(
    stack: str,
    state_file: Path,
    project: str = "mip-federation",
    parallel: int | None = None,
) -> dict[str, Any]:
    parallel = parallel or default_parallel()
    prior = load_state(state_file, stack, project)
    oplog = OpLog()
    engine, registry = _new_engine(prior, oplog, parallel, state_file)
    oplog.progress(f"Destroying stack {prior.project}/{stack}")
    try:
        engine.delete_all(list(prior.resources))
    finally:
        registry.close()
        remaining = [r for r in prior.resources if id(r) not in engine.deleted]
        outputs = prior.outputs if remaining else {}
        engine.checkpoint(StackState(stack, prior.project, remaining, outputs))
    extra = _cancelled(engine, f"{prior.project}-{stack}", "destroy")
    result = _result(engine, oplog, extra, state_file, "destroy")
    result["outputs"] = {}
    return result
