"""Real services for the engine double's tests: an sshd and a dockerd on loopback.

sshd: key-only root login on 127.0.0.1:<free port>, its own host key, `SetEnv DOCKER_HOST` so the
remote `docker` CLI (what pulumi-docker's `docker system dial-stdio` runs) reaches the test
dockerd, and `AcceptEnv ENGINE_OK_*` so environment handling can be checked.
dockerd: data, exec root, socket and containerd namespace of its own, no bridge, no iptables,
in a single-node swarm; a busybox image is imported from the busybox-static package.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"
DOCKERD = "/usr/sbin/dockerd"
BUSYBOX = "/bin/busybox"
IMAGE = "engine-test/busybox:1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def keygen(path: Path, kind: str = "ed25519") -> tuple[str, str]:
    """(private key text, public key line)."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "engine-test", "-f", str(path)],
        check=True,
    )
    return path.read_text(), path.with_suffix(".pub").read_text().strip()


def wait_for(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():  # type: ignore[operator]
                return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not come up within {timeout}s")


@dataclass
class Sshd:
    root: Path
    port: int
    host_key: str  # public host key line "ssh-ed25519 AAAA..."
    other_host_key: str  # a key the server does not have (for mismatch tests)
    client_key: str  # private key text
    client_key_file: Path
    known_hosts: Path
    proc: subprocess.Popen[bytes]

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def connection(self, **extra: object) -> dict[str, object]:
        conn: dict[str, object] = {
            "host": self.host,
            "port": self.port,
            "user": "root",
            "private_key": self.client_key,
            "host_key": self.host_key,
            "dial_error_limit": 2,
            "per_dial_timeout": 5,
        }
        conn.update(extra)
        return conn

    def ssh_opts(self, known_hosts: Path | None = None) -> list[str]:
        return [
            "-i",
            str(self.client_key_file),
            "-o",
            f"UserKnownHostsFile={known_hosts or self.known_hosts}",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
        ]

    @property
    def docker_host(self) -> str:
        return f"ssh://root@{self.host}:{self.port}"


def _sshd_config(root: Path, port: int, docker_sock: str | None) -> str:
    lines = [
        f"Port {port}",
        "ListenAddress 127.0.0.1",
        f"HostKey {root / 'host_ed25519'}",
        f"PidFile {root / 'sshd.pid'}",
        f"AuthorizedKeysFile {root / 'authorized_keys'}",
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        "MaxStartups 200",
        "MaxSessions 50",
        "AcceptEnv ENGINE_OK_*",
        "AllowStreamLocalForwarding yes",
        "Subsystem sftp internal-sftp",
        "LogLevel ERROR",
    ]
    if docker_sock:
        lines.append(f"SetEnv DOCKER_HOST=unix://{docker_sock}")
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def run_sshd(docker_sock: str | None = None) -> Iterator[Sshd]:
    root = Path(tempfile.mkdtemp(prefix="eng-sshd-"))
    try:
        os.chmod(root, 0o700)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        _, host_pub = keygen(root / "host_ed25519")
        _, other_pub = keygen(root / "other_ed25519")
        client_key, client_pub = keygen(root / "client_ed25519")
        (root / "authorized_keys").write_text(client_pub + "\n")
        port = free_port()
        known_hosts = root / "known_hosts"
        known_hosts.write_text(f"[127.0.0.1]:{port} {host_pub}\n")
        config = root / "sshd_config"
        config.write_text(_sshd_config(root, port, docker_sock))
        log = open(root / "sshd.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=log)
        try:
            sshd = Sshd(
                root=root,
                port=port,
                host_key=" ".join(host_pub.split()[:2]),
                other_host_key=" ".join(other_pub.split()[:2]),
                client_key=client_key,
                client_key_file=root / "client_ed25519",
                known_hosts=known_hosts,
                proc=proc,
            )
            wait_for(
                lambda: socket.create_connection(("127.0.0.1", port), 1).close() or True,
                10,
                "sshd",
            )
            yield sshd
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Dockerd:
    root: Path
    socket: str
    proc: subprocess.Popen[bytes]

    def cli(self, *args: str, check: bool = True) -> str:
        out = subprocess.run(
            ["docker", "-H", f"unix://{self.socket}", *args],
            check=check,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()


def _busybox_tar(path: Path) -> None:
    with tarfile.open(path, "w") as tar:
        tar.add(BUSYBOX, arcname="bin/busybox")
        for applet in ("sh", "sleep", "echo", "cat", "true"):
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type = tarfile.SYMTYPE
            info.linkname = "busybox"
            tar.addfile(info)


def _link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


@contextlib.contextmanager
def run_dockerd() -> Iterator[Dockerd]:
    # A swarm task on an overlay network makes dockerd create docker_gwbridge in this (root)
    # network namespace; remove it afterwards unless it was already there.
    gwbridge_before = _link_exists("docker_gwbridge")
    root = Path(tempfile.mkdtemp(prefix="engd-", dir="/tmp"))
    sock = str(root / "d.sock")
    log = open(root / "dockerd.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [
            DOCKERD,
            "--data-root",
            str(root / "data"),
            "--exec-root",
            str(root / "x"),
            "--pidfile",
            str(root / "d.pid"),
            "-H",
            f"unix://{sock}",
            "--bridge=none",
            "--iptables=false",
            "--ip6tables=false",
            "--containerd-namespace=engine-test",
            "--containerd-plugins-namespace=engine-test-plugins",
            "--cgroup-parent=engine-test",
            "--userland-proxy=false",
        ],
        stderr=log,
        stdout=log,
    )
    daemon = Dockerd(root=root, socket=sock, proc=proc)
    try:
        wait_for(lambda: daemon.cli("version", "--format", "{{.Server.Version}}"), 60, "dockerd")
        daemon.cli("swarm", "init", "--advertise-addr", "127.0.0.1")
        tar = root / "busybox.tar"
        _busybox_tar(tar)
        daemon.cli("import", str(tar), IMAGE)
        yield daemon
    finally:
        with contextlib.suppress(Exception):
            daemon.cli("swarm", "leave", "--force", check=False)
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        subprocess.run(["umount", "-R", str(root / "x")], capture_output=True, check=False)
        subprocess.run(["umount", "-R", str(root / "data")], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)
        if not gwbridge_before and _link_exists("docker_gwbridge"):
            subprocess.run(["ip", "link", "delete", "docker_gwbridge"], check=False)


def write_program(directory: Path, body: str) -> Path:
    """A Pulumi program folder with __main__.py (body is the program's code)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Pulumi.yaml").write_text("name: mip-federation\nruntime: python\n")
    (directory / "__main__.py").write_text(body)
    return directory


PROGRAMS = Path(__file__).resolve().parent / "programs"


def command_config(
    sshd: Sshd, commands: list[dict[str, object]], **connection: object
) -> tuple[dict[str, object], list[str]]:
    """(config, secret_keys) for programs/commands."""
    conn = sshd.connection(**connection)
    private_key = conn.pop("private_key")
    config = {
        "mip-federation:connection": conn,
        "mip-federation:privateKey": private_key,
        "mip-federation:commands": commands,
    }
    return config, ["mip-federation:privateKey"]


def docker_config(
    sshd: Sshd, known_hosts: Path | None = None, **specs: object
) -> dict[str, object]:
    """Config for programs/docker: the provider reaches the test dockerd over sshd."""
    config: dict[str, object] = {
        "mip-federation:host": sshd.docker_host,
        "mip-federation:sshOpts": sshd.ssh_opts(known_hosts),
        "mip-federation:image": IMAGE,
    }
    for key, value in specs.items():
        config[f"mip-federation:{key}"] = value
    return config
