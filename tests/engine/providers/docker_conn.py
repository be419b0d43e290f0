"""Reaching a Docker daemon the way pulumi-docker does for `ssh://` hosts: a local unix
socket spawns, for each connection the Docker SDK opens, the ssh command pulumi-docker's
connhelper runs, and the connections are pooled as the provider's Go client pools them, so ssh
options, pinning and connection counts are the real ones. Nothing connects before the first
create, read, update or delete. Upstream: FIDELITY.md, "Reaching Docker".
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlparse

import docker
from docker.transport.unixconn import UnixHTTPAdapter

DEFAULT_HOST = "unix:///var/run/docker.sock"
API_TIMEOUT = 120
# Go's http.DefaultMaxIdleConnsPerHost: the Docker client's transport does not change it.
MAX_IDLE_CONNECTIONS = 2
# A connection returned to a full idle pool is closed, as Go's transport does; urllib3 also logs
# a warning for each, which says nothing useful here.
logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)


class DockerConnectError(Exception):
    pass


@dataclass(frozen=True)
class DockerTarget:
    host: str
    ssh_opts: tuple[str, ...] = ()

    @classmethod
    def from_provider(cls, config: dict[str, Any] | None) -> DockerTarget:
        """From an explicit provider's inputs, or the default provider (DOCKER_HOST)."""
        if config is None:
            return cls(os.environ.get("DOCKER_HOST", DEFAULT_HOST))
        opts: Any = config.get("sshOpts") or []
        if isinstance(opts, str):
            opts = json.loads(opts)
        host = config.get("host") or os.environ.get("DOCKER_HOST", DEFAULT_HOST)
        return cls(str(host), tuple(str(o) for o in opts))


def ssh_command(target: DockerTarget) -> list[str]:
    url = urlparse(target.host)
    if not url.hostname:
        raise DockerConnectError(f"invalid SSH URL {target.host!r}: no host")
    flags = list(target.ssh_opts)
    if "ConnectTimeout" not in "".join(flags):
        flags += ["-o", "ConnectTimeout=30"]
    if "-T" not in flags:
        flags.append("-T")
    args = ["ssh", *flags]
    if url.username:
        args += ["-l", url.username]
    if url.port:
        args += ["-p", str(url.port)]
    args += ["--", url.hostname, "docker"]
    if url.path and url.path != "/":
        args += ["--host", f"unix://{url.path}"]
    return [*args, "system", "dial-stdio"]


class DialStdioBridge:
    """A local unix socket whose every connection is one `ssh ... docker system dial-stdio`."""

    def __init__(self, target: DockerTarget) -> None:
        self.target = target
        self.argv = ssh_command(target)
        self._dir = tempfile.mkdtemp(prefix="engdock-")
        self.socket_path = str(Path(self._dir) / "docker.sock")
        self.failures: list[str] = []
        self._procs: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()
        self._closed = False
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.socket_path)
        self._listener.listen(64)
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        with self._lock:
            self._procs.append(proc)
        assert proc.stdin and proc.stdout and proc.stderr
        stdin = proc.stdin
        stdout = cast(io.BufferedReader, proc.stdout)  # Popen's pipes are buffered (bufsize -1)

        def upstream() -> None:
            with contextlib.suppress(OSError, ValueError):
                while chunk := client.recv(65536):
                    stdin.write(chunk)
                    stdin.flush()
            with contextlib.suppress(OSError, ValueError):
                stdin.close()

        sender = threading.Thread(target=upstream, daemon=True)
        sender.start()
        with contextlib.suppress(OSError, ValueError):
            while chunk := stdout.read1(65536):
                client.sendall(chunk)
        # Record why ssh ended before the client sees the connection close.
        status = proc.wait()
        stderr = proc.stderr.read().decode(errors="replace")
        if status != 0 and not self._closed:
            self.failures.append(
                f"command [{shlex.join(self.argv)}] has exited with exit status {status}, "
                "make sure the URL is valid, and Docker 18.09 or later is installed on the "
                f"remote host: stderr={stderr}"
            )
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_RDWR)
        client.close()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)
                if proc.poll() is None:
                    proc.kill()
        shutil.rmtree(self._dir, ignore_errors=True)


class _HostPoolAdapter(UnixHTTPAdapter):  # type: ignore[misc]  # docker-py is untyped
    """docker-py's unix adapter with one connection pool for the daemon, whatever the URL."""

    POOL_KEY = "http+docker://localhost"

    def get_connection(self, url: str, proxies: Any = None) -> Any:
        return super().get_connection(self.POOL_KEY, proxies)


class _Session:
    """What the provider holds per configuration (ProviderConfig.MakeClient's cached client):
    the shared pool and the negotiated version. The first operation pings and asks the version
    (MakeClient's daemon check) before its own request."""

    def __init__(self, url: str) -> None:
        self.adapter = _HostPoolAdapter(
            url.replace("unix://", "http+unix://", 1),
            API_TIMEOUT,
            pool_connections=1,
            max_pool_size=MAX_IDLE_CONNECTIONS,
        )
        self.version: str | None = None
        self.version_lock = threading.Lock()

    def client(self, url: str) -> docker.APIClient:
        api = docker.APIClient(
            base_url=url,
            version=self.version or docker.constants.MINIMUM_DOCKER_API_VERSION,
            timeout=API_TIMEOUT,
        )
        api.mount("http+docker://", self.adapter)
        api._custom_adapter = self.adapter
        if self.version is None:
            with self.version_lock:
                if self.version is None:
                    api.ping()
                    self.version = str(api._retrieve_server_version())
        api._version = self.version
        return api

    @staticmethod
    def release(api: docker.APIClient) -> None:
        """Close the operation's client but not the shared pool."""
        api.adapters.pop("http+docker://", None)
        api.close()


class DockerConnections:
    """Per provider target for the run: one bridge, one connection pool, one API version."""

    def __init__(self) -> None:
        self._bridges: dict[DockerTarget, DialStdioBridge] = {}
        self._sessions: dict[DockerTarget, _Session] = {}
        self._lock = threading.Lock()

    def _session(self, target: DockerTarget, url: str) -> _Session:
        with self._lock:
            session = self._sessions.get(target)
            if session is None:
                session = self._sessions[target] = _Session(url)
            return session

    def base_url(self, target: DockerTarget) -> tuple[str, DialStdioBridge | None]:
        scheme = urlparse(target.host).scheme
        if scheme != "ssh":
            return target.host, None
        with self._lock:
            bridge = self._bridges.get(target)
            if bridge is None:
                bridge = self._bridges[target] = DialStdioBridge(target)
        return f"unix://{bridge.socket_path}", bridge

    @contextlib.contextmanager
    def client(self, target: DockerTarget) -> Any:
        """An APIClient; a failure to reach the daemon is reported like the real provider."""
        url, bridge = self.base_url(target)
        failures_before = len(bridge.failures) if bridge else 0
        session = self._session(target, url) if bridge else None
        api: docker.APIClient | None = None
        try:
            if session is None:
                api = docker.APIClient(base_url=url, version="auto", timeout=API_TIMEOUT)
            else:
                api = session.client(url)
            yield api
        except (docker.errors.DockerException, OSError) as exc:
            if isinstance(exc, docker.errors.APIError) and exc.response is not None:
                raise
            new_failures = bridge.failures[failures_before:] if bridge else []
            detail = new_failures[-1] if new_failures else str(exc)
            raise DockerConnectError(
                f"Error pinging Docker server, please make sure that {target.host} is "
                f"reachable and has a '_ping' endpoint. Error: error during connect: {detail}"
            ) from exc
        finally:
            if api is not None and session is not None:
                session.release(api)
            elif api is not None:
                api.close()

    def close(self) -> None:
        with self._lock:
            bridges = list(self._bridges.values())
            sessions = list(self._sessions.values())
            self._bridges.clear()
            self._sessions.clear()
        for session in sessions:
            session.adapter.close()
        for bridge in bridges:
            bridge.close()
