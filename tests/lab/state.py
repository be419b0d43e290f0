"""What a running lab started, kept in /run/mip-lab/<prefix>.json so that any process can drive or
stop it; the machine-wide lock; and the directories labs had to create."""

import contextlib
import errno
import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .paths import DATA, NETNS, PRIVATE_DIRS, STATE

CREATED = STATE / "created-directories.json"


@dataclass
class State:
    # host index -> root-namespace pid of the host's PID 1
    hosts: dict[int, int] = field(default_factory=dict)
    # stand-in images pushed to the lab's registry
    images: list[str] = field(default_factory=list)
    # iptables rules this lab inserted (down deletes exactly these)
    rules: list[list[str]] = field(default_factory=list)
    # pid of the lab's registry; None in the state of a lab from before the registry
    registry: int | None = None
    # the .lab/ folder whose keys the hosts trust and present; None in a lab from before
    keys: str | None = None

    @classmethod
    def load(cls, path: Path) -> "State | None":
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        hosts = {int(i): pid for i, pid in data["hosts"].items()}
        return cls(hosts, data["images"], data["rules"], data.get("registry"), data.get("keys"))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1))
        tmp.replace(path)


@contextmanager
def lock(timeout: float = 600.0) -> Iterator[None]:
    """Machine-wide lock for changing labs, held as an abstract unix socket: it leaves no file and
    goes away with its process."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock.bind("\0mip-lab.lock")
                break
            except OSError as error:
                if error.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield


def note_missing_directories() -> None:
    """Remember which of the directories labs need do not exist yet (the mount points for the
    hosts' private directories; /run/netns, which `ip netns` creates and bind-mounts), so that
    the last lab to go down removes them again. Create the mount points."""
    created = json.loads(CREATED.read_text()) if CREATED.exists() else []
    for directory in (*PRIVATE_DIRS, str(NETNS)):
        if not os.path.isdir(directory):
            created.append(directory)
    for directory in PRIVATE_DIRS:
        os.makedirs(directory, exist_ok=True)
    STATE.mkdir(parents=True, exist_ok=True)
    CREATED.write_text(json.dumps(created))


def _is_mount_point(directory: str) -> bool:
    """Also true for bind mounts within one file system, unlike os.path.ismount."""
    with open("/proc/self/mountinfo") as mounts:
        return any(line.split()[4] == directory for line in mounts)


def remove_directories_if_last() -> None:
    """When no lab is left, remove the directories labs created (if empty) and the lab's own."""
    if any(path != CREATED for path in STATE.glob("*.json")):
        return
    # Not while a lab runs: removing a mount point detaches the mounts made on it in other mount
    # namespaces. Not when something else has put files there since.
    for directory in json.loads(CREATED.read_text()) if CREATED.exists() else []:
        if os.path.isdir(directory) and not os.listdir(directory):
            if _is_mount_point(directory):
                subprocess.run(["umount", directory], check=False, capture_output=True)
            with contextlib.suppress(OSError):
                os.rmdir(directory)
    CREATED.unlink(missing_ok=True)
    for directory in (DATA, STATE):
        with contextlib.suppress(OSError):
            directory.rmdir()
