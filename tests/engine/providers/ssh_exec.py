"""Run one command over SSH the way pulumi-command's remote provider does (golang.org/x/crypto/ssh).

One connection per command. Dialing retries with Pulumi's retry.Until back-off until
`dialErrorLimit` dials have failed (-1: no limit); each dial, including the handshake, is bounded
by `perDialTimeout` seconds. With `hostKey` the server must present exactly that key (and only
that key type is negotiated): a mismatch fails the dial before any command runs.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from tests.engine.props import go_quote

DIAL_ERROR_LIMIT = 10
PER_DIAL_TIMEOUT = 15
RETRY_DELAY = 0.1
RETRY_BACKOFF = 1.5
RETRY_MAX_DELAY = 5.0


class SshError(Exception):
    """Dialing, authenticating or running failed; the text mirrors the Go provider's."""


@dataclass
class Connection:
    host: str
    port: int = 22
    user: str = "root"
    private_key: str | None = None
    private_key_password: str | None = None
    password: str | None = None
    host_key: str | None = None
    agent_socket_path: str | None = None
    dial_error_limit: int = DIAL_ERROR_LIMIT
    per_dial_timeout: int = PER_DIAL_TIMEOUT

    @classmethod
    def from_inputs(cls, raw: dict[str, Any]) -> Connection:
        if raw.get("proxy"):
            raise SshError("connection.proxy is not supported by the engine double")
        return cls(
            host=str(raw["host"]),
            port=int(raw.get("port", 22) or 22),
            user=str(raw.get("user") or "root"),
            private_key=raw.get("privateKey"),
            private_key_password=raw.get("privateKeyPassword"),
            password=raw.get("password"),
            host_key=raw.get("hostKey"),
            agent_socket_path=raw.get("agentSocketPath"),
            dial_error_limit=int(raw.get("dialErrorLimit", DIAL_ERROR_LIMIT)),
            per_dial_timeout=int(raw.get("perDialTimeout", PER_DIAL_TIMEOUT)),
        )

    @property
    def endpoint(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass
class RunResult:
    stdout: str
    stderr: str
    combined: str = ""
    exit_status: int = 0
    env_warnings: list[str] = field(default_factory=list)


def load_private_key(text: str, password: str | None) -> paramiko.PKey:
    data = text.encode()
    secret = password.encode() if password else None
    try:
        loaded: Any = serialization.load_ssh_private_key(data, password=secret)
    except ValueError:
        try:
            loaded = serialization.load_pem_private_key(data, password=secret)
        except (ValueError, TypeError) as exc:
            raise SshError("ssh: no key found") from exc
    key_class: type[paramiko.PKey]
    if isinstance(loaded, rsa.RSAPrivateKey):
        key_class = paramiko.RSAKey
    elif isinstance(loaded, ed25519.Ed25519PrivateKey):
        key_class = paramiko.Ed25519Key
    elif isinstance(loaded, ec.EllipticCurvePrivateKey):
        key_class = paramiko.ECDSAKey
    else:
        raise SshError(f"ssh: unsupported key type {type(loaded).__name__}")
    return key_class.from_private_key(io.StringIO(text), password=password)


def fingerprint(blob: bytes) -> str:
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def parse_host_key(text: str) -> tuple[str, bytes]:
    fields = text.split()
    if len(fields) < 2:
        raise SshError("failed to parse host key: ssh: no key found")
    try:
        return fields[0], base64.b64decode(fields[1], validate=True)
    except ValueError as exc:
        raise SshError(f"failed to parse host key: {exc}") from exc


def _host_key_algorithms(key_type: str) -> tuple[str, ...]:
    if key_type == "ssh-rsa":
        return ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")
    return (key_type,)


def _dial_once(conn: Connection) -> paramiko.Transport:
    timeout = conn.per_dial_timeout or None
    expected = parse_host_key(conn.host_key) if conn.host_key else None
    try:
        sock = socket.create_connection((conn.host, conn.port), timeout=timeout)
    except OSError as exc:
        raise SshError(f"dial tcp {conn.endpoint}: {exc.strerror or exc}") from exc
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = timeout
        transport.handshake_timeout = timeout
        if expected:
            transport.get_security_options().key_types = _host_key_algorithms(expected[0])
        try:
            transport.start_client(timeout=timeout)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise SshError(f"ssh: handshake failed: {exc}") from exc
        if expected:
            presented = transport.get_remote_server_key()
            if presented.asbytes() != expected[1]:
                raise SshError(
                    "ssh: handshake failed: ssh: host key mismatch: "
                    f"{conn.endpoint} presented {presented.get_name()} key "
                    f"{fingerprint(presented.asbytes())}, expected {expected[0]} key "
                    f"{fingerprint(expected[1])}"
                )
        _authenticate(transport, conn)
        return transport
    except BaseException:
        transport.close()
        raise


def _authenticate(transport: paramiko.Transport, conn: Connection) -> None:
    tried: list[str] = []
    if conn.private_key:
        key = load_private_key(conn.private_key, conn.private_key_password)
        tried.append("publickey")
        with contextlib.suppress(paramiko.AuthenticationException):
            transport.auth_publickey(conn.user, key)
    if not transport.is_authenticated() and conn.password:
        tried.append("password")
        with contextlib.suppress(paramiko.AuthenticationException):
            transport.auth_password(conn.user, conn.password)
    if not transport.is_authenticated() and os.environ.get("SSH_AUTH_SOCK"):
        # Only the agent named by SSH_AUTH_SOCK is used (agentSocketPath is not supported).
        tried.append("publickey")
        for agent_key in paramiko.Agent().get_keys():
            try:
                transport.auth_publickey(conn.user, agent_key)
                break
            except paramiko.AuthenticationException:
                continue
    if not transport.is_authenticated():
        methods = " ".join(["none", *dict.fromkeys(tried)])
        raise SshError(
            "ssh: handshake failed: ssh: unable to authenticate, attempted methods "
            f"[{methods}], no supported methods remain"
        )


def dial(conn: Connection, on_retry: Callable[[str], None] | None = None) -> paramiko.Transport:
    """Dial with retries; after the last allowed failure, the error says how many failed."""
    delay = RETRY_DELAY
    attempt = 0
    while True:
        try:
            return _dial_once(conn)
        except SshError as exc:
            dials = attempt + 1
            limit = conn.dial_error_limit
            if limit > -1 and dials > limit:
                raise SshError(f"after {attempt} failed attempts: {exc}") from exc
            if on_retry:
                shown = "inf" if limit == -1 else str(limit)
                on_retry(f"Dial {dials}/{shown} failed: retrying")
        time.sleep(delay)
        delay = min(delay * RETRY_BACKOFF, RETRY_MAX_DELAY)
        attempt += 1


def _set_env(channel: paramiko.Channel, name: str, value: str, want_reply: bool) -> None:
    """An "env" channel request. Go's Session.Setenv asks for a reply and fails when sshd's
    AcceptEnv rejects the name; paramiko's own helper never asks, so build the request here."""
    message = paramiko.Message()
    message.add_byte(paramiko.common.cMSG_CHANNEL_REQUEST)
    message.add_int(channel.remote_chanid)
    message.add_string("env")
    message.add_boolean(want_reply)
    message.add_string(name)
    message.add_string(value)
    if want_reply:
        channel._event_pending()
    channel.transport._send_user_message(message)
    if want_reply:
        try:
            channel._wait_for_event()
        except paramiko.SSHException as exc:
            raise SshError("ssh: setenv failed") from exc


class _Collector:
    """Collects stdout and stderr separately and interleaved, like io.MultiWriter in Go."""

    def __init__(self, echo: Callable[[str], None] | None) -> None:
        self.lock = threading.Lock()
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.combined = bytearray()
        self.echo = echo

    def pump(self, stream: Any, target: bytearray, echo: bool) -> None:
        while True:
            chunk = stream.read(4096)
            if not chunk:
                return
            with self.lock:
                target.extend(chunk)
                self.combined.extend(chunk)
            if echo and self.echo:
                self.echo(chunk.decode(errors="replace"))


def run(
    conn: Connection,
    command: str,
    stdin: str | None = None,
    environment: dict[str, str] | None = None,
    previous_output: dict[str, str] | None = None,
    log_stdout: bool = True,
    log_stderr: bool = True,
    echo: Callable[[str], None] | None = None,
    on_retry: Callable[[str], None] | None = None,
) -> RunResult:
    transport = dial(conn, on_retry)
    try:
        try:
            channel = transport.open_session(timeout=conn.per_dial_timeout or None)
        except paramiko.SSHException as exc:
            raise SshError(str(exc)) from exc
        with channel:
            for key, value in (environment or {}).items():
                try:
                    _set_env(channel, key, value, want_reply=True)
                except SshError as exc:
                    raise SshError(
                        f"could not set environment variable {go_quote(key)}: {exc}"
                    ) from exc
            for key, value in (previous_output or {}).items():
                if value:
                    _set_env(channel, key, value, want_reply=False)
            channel.exec_command(command)
            collector = _Collector(echo)
            readers = [
                threading.Thread(
                    target=collector.pump,
                    args=(channel.makefile("rb"), collector.stdout, log_stdout),
                    daemon=True,
                ),
                threading.Thread(
                    target=collector.pump,
                    args=(channel.makefile_stderr("rb"), collector.stderr, log_stderr),
                    daemon=True,
                ),
            ]
            for reader in readers:
                reader.start()
            if stdin:
                with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                    channel.sendall(stdin.encode())
            channel.shutdown_write()
            status = channel.recv_exit_status()
            for reader in readers:
                reader.join()
    finally:
        transport.close()
    stdout = collector.stdout.decode(errors="replace")
    stderr = collector.stderr.decode(errors="replace")
    combined = collector.combined.decode(errors="replace")
    if status != 0:
        reason = (
            "wait: remote command exited without exit status or exit signal"
            if status < 0
            else f"Process exited with status {status}"
        )
        raise SshError(f"{reason}: running {go_quote(command)}:\n{combined}")
    return RunResult(
        stdout=stdout.removesuffix("\n"),
        stderr=stderr.removesuffix("\n"),
        combined=combined,
        exit_status=status,
    )
