"""Finding, measuring and killing processes through /proc."""

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

NamespaceId = tuple[int, int]  # (device, inode) of a namespace file: identifies the namespace


def namespace_id(path: str | Path) -> NamespaceId | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def with_arguments(*arguments: str) -> list[int]:
    """Live processes whose command line holds every one of `arguments` (as whole arguments)."""
    wanted = {argument.encode() for argument in arguments}
    found = []
    for pid in pids():
        try:
            command_line = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if wanted <= set(command_line.split(b"\0")) and alive(pid):
            found.append(pid)
    return found


def start_detached(command: list[str], log_file: Path, env: dict[str, str] | None = None) -> None:
    """Start `command` in a session of its own that outlives this process (`setsid -f`), from
    /, with no stdin and its output appended to `log_file`; `env` replaces the environment."""
    with open(log_file, "ab") as log:
        subprocess.run(
            ["setsid", "-f", *command],
            env=env,
            cwd="/",
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            check=True,
        )


def _status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def alive(pid: int) -> bool:
    """True if the process exists and is not a zombie."""
    state = _status(pid).get("State", "Z")
    return not state.startswith(("Z", "X"))


def in_netns(netns: NamespaceId) -> list[int]:
    return [pid for pid in pids() if namespace_id(f"/proc/{pid}/ns/net") == netns]


def is_namespace_init(pid: int, netns: NamespaceId) -> bool:
    """True if the process is in network namespace `netns` and PID 1 of a child pid namespace."""
    nspid = _status(pid).get("NSpid", "").split()
    return nspid[1:] == ["1"] and namespace_id(f"/proc/{pid}/ns/net") == netns


def namespace_init(netns: NamespaceId) -> int | None:
    return next((pid for pid in in_netns(netns) if is_namespace_init(pid, netns)), None)


def descendants(root: int) -> list[int]:
    """`root` and all its descendants."""
    children: dict[int, list[int]] = {}
    for pid in pids():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in KiB; (0, 0) if it is gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    fields = dict(line.split(":", 1) for line in text.splitlines()[1:])
    return int(fields["Rss"].split()[0]), int(fields["Pss"].split()[0])


def kill_and_wait(pids_: list[int], timeout: float = 20.0) -> None:
    """SIGKILL the processes and wait until none of them is alive."""
    for pid in pids_:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in pids_):
        if time.monotonic() > deadline:
            raise TimeoutError(f"processes {pids_} still alive after SIGKILL")
        time.sleep(0.05)
