"""What a running lab started, kept in /run/mip-lab/<prefix>.json so that any process can drive or
stop it; the machine-wide lock; and the mount points the labs had to create."""

import contextlib
import errno
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .paths import PRIVATE_DIRS, STATE

MOUNTPOINTS = STATE / "mountpoints.json"


@dataclass
class State:
    # host index -> root-namespace pid of the host's PID 1
    hosts: dict[int, int] = field(default_factory=dict)
    # stand-in images loaded on every host
    images: list[str] = field(default_factory=list)
    # iptables rules this lab inserted (down deletes exactly these)
    rules: list[list[str]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> "State | None":
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        return cls({int(i): pid for i, pid in data["hosts"].items()}, data["images"], data["rules"])

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


def create_mountpoints() -> None:
    """Create the missing mount points for the hosts' private directories (/var/lib/docker when no
    docker ran here) and remember them, to be removed when the last lab goes down."""
    created = json.loads(MOUNTPOINTS.read_text()) if MOUNTPOINTS.exists() else []
    for directory in PRIVATE_DIRS:
        if not os.path.isdir(directory):
            os.makedirs(directory)
            created.append(directory)
    STATE.mkdir(parents=True, exist_ok=True)
    MOUNTPOINTS.write_text(json.dumps(created))


def remove_mountpoints_if_last() -> None:
    """When no lab is left: remove the mount points labs created, then the state directory."""
    if any(path != MOUNTPOINTS for path in STATE.glob("*.json")):
        return
    if MOUNTPOINTS.exists():
        for directory in json.loads(MOUNTPOINTS.read_text()):
            # Not while a lab runs: removing a mount point detaches the mounts made on it in other
            # mount namespaces. Not if something else put files there since.
            with contextlib.suppress(OSError):
                os.rmdir(directory)
        MOUNTPOINTS.unlink()
    if STATE.exists() and not any(STATE.iterdir()):
        STATE.rmdir()
