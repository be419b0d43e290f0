"""The public API: deploy and destroy, each in a fresh worker process.

Pulumi's runtime keeps its settings, config and root stack in process globals (and the program's
own modules stay imported), so every operation runs in a new `python -m tests.engine _worker`
process. The request, including secret config, goes over the worker's stdin (never argv); the
result comes back in a 0600 JSON file. The worker's stdout is sent to stderr, so anything the
program prints never mixes with a caller's JSON output.

The worker runs in a session of its own, so a Ctrl-C meant for the caller reaches it exactly once,
forwarded: the caller waits for the worker to cancel and save its state instead of dying first
(see `forward_signals` and `tests.engine.interrupts`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT = "mip-federation"


@dataclass
class DeployResult:
    outputs: dict[str, Any] = field(default_factory=dict)
    operations: list[dict[str, Any]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # Preview only: every step the engine decided, and the changeSummary (logical steps by op).
    steps: list[dict[str, Any]] = field(default_factory=list)
    change_summary: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def ops(self, op: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
        """Operations filtered by kind and/or resource name (helper for tests)."""
        return [
            o
            for o in self.operations
            if (op is None or o["op"] == op) and (name is None or o["name"] == name)
        ]

    def step_ops(self, op: str | None = None) -> dict[str, str]:
        """Preview helper: resource name -> op of its logical step (sames included)."""
        return {
            s["name"]: s["op"] for s in self.steps if s["logical"] and (op is None or s["op"] == op)
        }


DestroyResult = DeployResult
PreviewResult = DeployResult


def default_state_file(program_dir: Path, stack: str) -> Path:
    return program_dir / ".lab" / "state" / f"{stack}.json"


# Workers running now, and signals received (by `forward_signals`' handler) before one started.
_WORKERS: set[subprocess.Popen[bytes]] = set()
_PENDING: list[int] = []


def _forward(signum: int, _frame: object = None) -> None:
    if not _WORKERS:
        _PENDING.append(signum)
    for proc in list(_WORKERS):
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signum)


def forward_signals() -> None:
    """For a command-line caller: send SIGINT and SIGTERM on to the running worker, which
    cancels gracefully (a second one terminates it), and keep waiting for its result."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _forward)


def _wait(proc: subprocess.Popen[bytes], timeout: float | None) -> int:
    """Wait for the worker. A KeyboardInterrupt (a library caller's Ctrl-C) is forwarded to
    the worker, which cancels; it is raised again once the worker has finished."""
    deadline = None if timeout is None else time.monotonic() + timeout
    interrupted: KeyboardInterrupt | None = None
    while True:
        try:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            returncode = proc.wait(timeout=left)
            break
        except KeyboardInterrupt as exc:
            interrupted = exc
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    if interrupted is not None:
        raise interrupted
    return returncode


def _run_worker(request: dict[str, Any], timeout: float | None) -> DeployResult:
    with tempfile.TemporaryDirectory(prefix="engine-") as tmp:
        result_file = Path(tmp) / "result.json"
        request = {**request, "result_file": str(result_file)}
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])]
        )
        env.setdefault("PYTHONUNBUFFERED", "1")
        if _PENDING:
            _PENDING.clear()
            what = "update" if request["action"] == "deploy" else request["action"]
            return DeployResult(errors=[("engine", f"{what} canceled")])
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.engine", "_worker"],
            stdin=subprocess.PIPE,
            cwd=REPO_ROOT,
            env=env,
            start_new_session=True,
        )
        _WORKERS.add(proc)
        try:
            for signum in _PENDING:  # received while the worker was starting
                proc.send_signal(signum)
            _PENDING.clear()
            assert proc.stdin is not None
            with contextlib.suppress(BrokenPipeError), proc.stdin:
                proc.stdin.write(json.dumps(request).encode())
            returncode = _wait(proc, timeout)
        finally:
            _WORKERS.discard(proc)
            if proc.returncode is None:
                proc.kill()
                proc.wait()
        if not result_file.exists():
            return DeployResult(
                errors=[("engine", f"engine worker exited with status {returncode}")]
            )
        raw = json.loads(result_file.read_text())
    return DeployResult(
        outputs=raw["outputs"],
        operations=raw["operations"],
        errors=[(str(n), str(m)) for n, m in raw["errors"]],
        skipped=list(raw.get("skipped", [])),
        steps=list(raw.get("steps", [])),
        change_summary=dict(raw.get("changeSummary", {})),
    )


def _program_request(
    action: str,
    program_dir: Path,
    stack: str,
    config: dict[str, Any],
    secret_keys: list[str],
    state_file: Path | None,
    project: str,
    parallel: int | None,
    refresh: bool,
) -> dict[str, Any]:
    program_dir = Path(program_dir).resolve()
    state = Path(state_file) if state_file else default_state_file(program_dir, stack)
    return {
        "action": action,
        "program_dir": str(program_dir),
        "stack": stack,
        "config": config,
        "secret_keys": list(secret_keys),
        "state_file": str(state.resolve()),
        "project": project,
        "parallel": parallel,
        "refresh": refresh,
    }


def deploy(
    program_dir: Path,
    stack: str,
    config: dict[str, Any],
    secret_keys: list[str],
    state_file: Path | None = None,
    project: str = PROJECT,
    timeout: float | None = None,
    parallel: int | None = None,
    refresh: bool = False,
) -> DeployResult:
    """`pulumi up` of program_dir/__main__.py: apply, delete what disappeared, save state.
    `parallel`: resource operations at once (default: the CLI's, 4 x CPUs or PULUMI_PARALLEL);
    `refresh`: read every resource first (`pulumi up --refresh`)."""
    request = _program_request(
        "deploy", program_dir, stack, config, secret_keys, state_file, project, parallel, refresh
    )
    return _run_worker(request, timeout)


def preview(
    program_dir: Path,
    stack: str,
    config: dict[str, Any],
    secret_keys: list[str],
    state_file: Path | None = None,
    project: str = PROJECT,
    timeout: float | None = None,
    parallel: int | None = None,
    refresh: bool = False,
) -> PreviewResult:
    """`pulumi preview`: the steps a deploy would take (`steps`, `change_summary`), with
    nothing applied and nothing saved."""
    request = _program_request(
        "preview", program_dir, stack, config, secret_keys, state_file, project, parallel, refresh
    )
    return _run_worker(request, timeout)


def _state_request(
    action: str,
    stack: str,
    state_file: Path | None,
    program_dir: Path | None,
    project: str,
    parallel: int | None,
) -> dict[str, Any]:
    if state_file is None:
        if program_dir is None:
            raise ValueError(f"{action} needs state_file or program_dir")
        state_file = default_state_file(Path(program_dir).resolve(), stack)
    return {
        "action": action,
        "stack": stack,
        "state_file": str(Path(state_file).resolve()),
        "project": project,
        "parallel": parallel,
    }


def destroy(
    stack: str,
    state_file: Path | None = None,
    program_dir: Path | None = None,
    project: str = PROJECT,
    timeout: float | None = None,
    parallel: int | None = None,
) -> DestroyResult:
    """`pulumi destroy`: delete everything in the state, in reverse dependency order."""
    request = _state_request("destroy", stack, state_file, program_dir, project, parallel)
    return _run_worker(request, timeout)


def refresh(
    stack: str,
    state_file: Path | None = None,
    program_dir: Path | None = None,
    project: str = PROJECT,
    timeout: float | None = None,
    parallel: int | None = None,
) -> DeployResult:
    """`pulumi refresh`: read every resource of the state through its provider; drop the ones
    that are gone, store the others' outputs."""
    request = _state_request("refresh", stack, state_file, program_dir, project, parallel)
    return _run_worker(request, timeout)


def worker_main() -> int:
    """Entry of the worker process: one request on stdin, the result in request.result_file."""
    from tests.engine.interrupts import INTERRUPTS

    INTERRUPTS.install()
    os.dup2(2, 1)  # the program's prints go to stderr
    request = json.loads(sys.stdin.read())
    from tests.engine import runner

    action = request["action"]
    project = request.get("project", PROJECT)
    parallel = request.get("parallel")
    if action in ("deploy", "preview"):
        run = runner.run_deploy if action == "deploy" else runner.run_preview
        result = run(
            Path(request["program_dir"]),
            request["stack"],
            request["config"],
            request["secret_keys"],
            Path(request["state_file"]),
            project,
            parallel=parallel,
            refresh=bool(request.get("refresh")),
        )
    elif action == "refresh":
        result = runner.run_refresh(
            request["stack"], Path(request["state_file"]), project, parallel=parallel
        )
    else:
        result = runner.run_destroy(
            request["stack"], Path(request["state_file"]), project, parallel=parallel
        )
    result_file = Path(request["result_file"])
    fd = os.open(result_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(result, handle)
    # Leave without interpreter finalization: tearing down the double's own objects (paramiko
    # transports, Docker connections, their threads) takes seconds (measured 3.5-4 s after a
    # 10-node deploy; the program alone under mocks exits in 0.1 s), and `pulumi up` never waits
    # for that: the real engine and providers are other processes. State and result are saved.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0 if result["ok"] else 1)
