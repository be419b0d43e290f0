"""Run one command over SSH the way pulumi-command's remote provider does (Go, on
golang.org/x/crypto/ssh): the same dial, retry, login order, env requests and error texts, since
the program's errors and retries are what the user sees. Upstream files and functions:
FIDELITY.md, "Commands".
"""

from __future__ import annotations

import base64
import contextlib
import errno as errno_codes
import io
import ipaddress
import logging
import os
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from paramiko.agent import AgentSSH
from paramiko.common import (
    MSG_CHANNEL_FAILURE,
    MSG_CHANNEL_REQUEST,
    cMSG_CHANNEL_FAILURE,
    cMSG_CHANNEL_REQUEST,
)

from tests.engine.props import go_quote

DIAL_ERROR_LIMIT = 10  # connection.go dialErrorDefault
PER_DIAL_TIMEOUT = 15  # connection.go Annotate: SetDefault(&c.PerDialTimeout, 15)
RETRY_DELAY = 0.1  # sdk/go/common/util/retry DefaultDelay
RETRY_BACKOFF = 1.5  # DefaultBackoff
RETRY_MAX_DELAY = 5.0  # DefaultMaxDelay
LOG_LINE_LIMIT = 64 * 1024  # bufio.MaxScanTokenSize, used by util.LogOutput's Scanner
# x/crypto/ssh puts no bound on the handshake, authentication or opening the session.
UNBOUNDED = 10.0**9

# x/crypto/ssh session.go `signals`: an exit-signal without exit-status is status 128 + number.
GO_SIGNALS = {
    "ABRT": 6,
    "ALRM": 14,
    "FPE": 8,
    "HUP": 1,
    "ILL": 4,
    "INT": 2,
    "KILL": 9,
    "PIPE": 13,
    "QUIT": 3,
    "SEGV": 11,
    "TERM": 15,
}

SETENV_MESSAGE = (
    "Unable to set '{}'. This only works if your SSH server is configured to accept\n"
    "\tthese variables via AcceptEnv. Alternatively, if a Bash-like shell runs the command on"
    " the remote host, you could\n"
    "\tprefix the command itself with the variables in the form 'VAR=value command'"
)

# paramiko logs a handshake failure at ERROR with a traceback; the provider's error says it all.
logging.getLogger("paramiko").addHandler(logging.NullHandler())
logging.getLogger("paramiko").propagate = False

_sleep = time.sleep  # the back-off between dials; tests replace it to record the delays


class SshError(Exception):
    """Dialing, authenticating or running failed; the text is the Go provider's."""


class LogScannerOverflow(SshError):
    """The real provider would hang: its log Scanner stopped on a line of 64 KiB or more."""


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
    # connection.go Connection.Proxy (a ProxyConnection: the same fields, no proxy of its own).
    proxy: Connection | None = None

    @classmethod
    def from_inputs(cls, raw: dict[str, Any]) -> Connection:
        proxy = raw.get("proxy")
        limit = raw.get("dialErrorLimit")
        timeout = raw.get("perDialTimeout")
        return cls(
            host=str(raw["host"]),
            port=int(raw.get("port", 22) or 22),
            user=str(raw.get("user") or "root"),
            private_key=raw.get("privateKey"),
            private_key_password=raw.get("privateKeyPassword"),
            password=raw.get("password"),
            host_key=raw.get("hostKey"),
            agent_socket_path=raw.get("agentSocketPath"),
            dial_error_limit=DIAL_ERROR_LIMIT if limit is None else int(limit),
            per_dial_timeout=PER_DIAL_TIMEOUT if timeout is None else int(timeout),
            proxy=cls.from_inputs({k: v for k, v in proxy.items() if k != "proxy"})
            if proxy
            else None,
        )

    @property
    def endpoint(self) -> str:
        return join_host_port(self.host, self.port)


def join_host_port(host: str, port: int) -> str:
    """net.JoinHostPort."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass
class RunResult:
    stdout: str
    stderr: str
    combined: str = ""
    exit_status: int = 0


@dataclass
class ClientConfig:
    """What connection.go SSHConfig builds: an ssh.ClientConfig."""

    user: str
    timeout: int
    host_key: tuple[str, bytes] | None = None  # (type from the key blob, blob)
    signer: paramiko.PKey | None = None
    password: str | None = None
    agent: AgentSSH | None = None
    agent_sock: socket.socket | None = None

    def close(self) -> None:
        if self.agent_sock is not None:
            with contextlib.suppress(OSError):
                self.agent_sock.close()


def go_errno(exc: OSError) -> str:
    """Go's syscall.Errno text: glibc's strerror with a lower-case first letter."""
    if exc.errno is None:
        return str(exc)
    text = os.strerror(exc.errno)
    return text[:1].lower() + text[1:]


def _blob_type(blob: bytes) -> str:
    (length,) = struct.unpack(">I", blob[:4])
    if length == 0 or length > len(blob) - 4:
        raise ValueError("short read")
    return blob[4 : 4 + length].decode("ascii")


def parse_host_key(text: str) -> tuple[str, bytes]:
    """ssh.ParseAuthorizedKey, for one line: the type is read from the key blob itself (the
    leading type word is not used), as publicKey.Type() does."""
    for line in text.splitlines():
        fields = line.strip().split()
        if not fields or fields[0].startswith("#"):
            continue
        for candidate in fields[1:3]:
            try:
                blob = base64.b64decode(candidate, validate=True)
                key_type = _blob_type(blob)
                paramiko.PKey.from_type_string(key_type, blob)
            except (ValueError, paramiko.SSHException, struct.error, UnicodeDecodeError):
                continue
            return key_type, blob
    raise SshError("failed to parse host key: ssh: no key found")


def load_private_key(text: str, password: str | None) -> paramiko.PKey:
    """ssh.ParsePrivateKey / ParsePrivateKeyWithPassphrase (keys.go), with their error texts.
    The key material never appears in an error."""
    data = text.encode()
    if b"-----BEGIN " not in data:
        raise SshError("ssh: no key found")
    openssh = b"BEGIN OPENSSH PRIVATE KEY" in data
    encrypted_pem = b"Proc-Type: 4,ENCRYPTED" in data
    load = serialization.load_ssh_private_key if openssh else serialization.load_pem_private_key
    if password is None:
        if encrypted_pem:
            raise SshError("ssh: this private key is passphrase protected")
        try:
            loaded: Any = load(data, password=None)
        except TypeError:
            raise SshError("ssh: this private key is passphrase protected") from None
        except ValueError:
            raise SshError("ssh: no key found") from None
    else:
        if not openssh and not encrypted_pem:
            raise SshError("ssh: not an encrypted key")
        try:
            loaded = load(data, password=password.encode())
        except TypeError:
            raise SshError("ssh: key is not password protected") from None
        except ValueError:
            raise SshError("x509: decryption password incorrect") from None
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


def _dial_agent(path: str) -> tuple[socket.socket, AgentSSH]:
    """connection_unix.go dialAgent: net.Dial("unix", path)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as exc:
        sock.close()
        raise SshError(f"dial unix {path}: connect: {go_errno(exc)}") from None
    agent = AgentSSH()
    try:
        agent._connect(sock)
    except (paramiko.SSHException, OSError, EOFError) as exc:
        sock.close()
        raise SshError(f"ssh agent: {exc}") from None
    return sock, agent


def ssh_config(conn: Connection) -> ClientConfig:
    """connection.go connectionBase.SSHConfig: everything that can fail before the first dial."""
    config = ClientConfig(user=conn.user, timeout=conn.per_dial_timeout)
    if conn.host_key is not None:
        config.host_key = parse_host_key(conn.host_key)
    if conn.private_key is not None:
        config.signer = load_private_key(conn.private_key, conn.private_key_password)
    config.password = conn.password
    agent_path = conn.agent_socket_path
    if agent_path is None:
        agent_path = os.environ.get("SSH_AUTH_SOCK") or None  # tryGetDefaultAgentSocket
    if agent_path is not None:
        config.agent_sock, config.agent = _dial_agent(agent_path)
    return config


# --- the SSH transport, with x/crypto/ssh's behaviour where paramiko's differs ---------------


def _request_failed_keeps_channel(chan: paramiko.Channel, m: paramiko.Message) -> None:
    """SSH_MSG_CHANNEL_FAILURE: x/crypto/ssh's SendRequest returns false and the session stays
    usable; paramiko would close the channel."""
    chan.event_ready = False
    chan.event.set()


def _handle_request(chan: paramiko.Channel, m: paramiko.Message) -> None:
    """Record `exit-signal` (paramiko ignores it; x/crypto/ssh Session.wait uses it)."""
    start = m.packet.tell()
    if m.get_text() == "exit-signal":
        want_reply = m.get_boolean()
        chan.go_exit_signal = (m.get_text(), m.get_boolean(), m.get_text(), m.get_text())
        if want_reply:  # Session.wait answers requests it does not know with false
            reply = paramiko.Message()
            reply.add_byte(cMSG_CHANNEL_FAILURE)
            reply.add_int(chan.remote_chanid)
            chan.transport._send_user_message(reply)
        return
    m.packet.seek(start)
    paramiko.Channel._handle_request(chan, m)


class NegotiationError(paramiko.SSHException):  # type: ignore[misc]  # paramiko is untyped
    """x/crypto/ssh AlgorithmNegotiationError."""


class GoTransport(paramiko.Transport):  # type: ignore[misc]  # paramiko is untyped
    """A client transport that offers host-key algorithms as x/crypto/ssh does and reports a
    failed negotiation with its text."""

    _channel_handler_table: ClassVar[dict[int, Any]] = {
        **paramiko.Transport._channel_handler_table,
        MSG_CHANNEL_FAILURE: _request_failed_keeps_channel,
        MSG_CHANNEL_REQUEST: _handle_request,
    }
    offered_host_key_algorithms: tuple[str, ...] | None = None

    def _parse_channel_open_failure(self, m: paramiko.Message) -> None:
        """paramiko's, but the exception keeps the server's message, as x/crypto/ssh's
        OpenChannelError does (paramiko puts its own text for the reason code there)."""
        chanid = m.get_int()
        reason = m.get_int()
        message = m.get_text()
        m.get_text()  # language
        with self.lock:
            self.saved_exception = paramiko.ChannelException(reason, message)
            if chanid in self.channel_events:
                self._channels.delete(chanid)
                if chanid in self.channel_events:
                    self.channel_events[chanid].set()
                    del self.channel_events[chanid]

    def _parse_kex_init(self, m: paramiko.Message) -> None:
        start = m.packet.tell()
        peer = self._really_parse_kex_init(m)
        m.packet.seek(start)
        offered = self.offered_host_key_algorithms
        if offered is not None:
            peer_keys = peer["server_key_algo_list"]
            agreed = next((algo for algo in offered if algo in peer_keys), None)
            if agreed is None:
                # common.go findCommon / AlgorithmNegotiationError.Error
                raise NegotiationError(
                    "ssh: no common algorithm for host key; we offered: "
                    f"[{' '.join(offered)}], peer offered: [{' '.join(peer_keys)}]"
                )
            if agreed not in self._key_info:
                raise NegotiationError(
                    f"engine double: the server agrees to {agreed} (SHA-1 RSA signatures), "
                    "which pulumi-command would accept but paramiko cannot verify"
                )
        super()._parse_kex_init(m)


def _dial_tcp(conn: Connection) -> socket.socket:
    """net.DialTimeout("tcp", endpoint, perDialTimeout), with Go's error texts."""
    try:
        infos = socket.getaddrinfo(conn.host, conn.port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise SshError(f"dial tcp: lookup {conn.host}: no such host") from None
    family, kind, proto, _, address = infos[0]
    endpoint = join_host_port(str(address[0]), int(address[1]))
    timeout = conn.per_dial_timeout
    if timeout < 0:
        raise SshError(f"dial tcp {endpoint}: i/o timeout")
    sock = socket.socket(family, kind, proto)
    sock.settimeout(timeout or None)
    try:
        sock.connect(address)
    except OSError as exc:
        sock.close()
        if isinstance(exc, TimeoutError) and exc.errno is None:
            raise SshError(f"dial tcp {endpoint}: i/o timeout") from None
        raise SshError(f"dial tcp {endpoint}: connect: {go_errno(exc)}") from None
    sock.settimeout(None)
    return sock


def _handshake_error(exc: BaseException, where: str = "") -> str:
    """The error inside "ssh: handshake failed: ..." as x/crypto/ssh words it: io.EOF when the
    peer closes, a net.OpError for a reset; other failures keep paramiko's text."""
    if isinstance(exc, NegotiationError):
        return str(exc)
    cause = exc if isinstance(exc, OSError) else exc.__context__
    if isinstance(cause, OSError) and cause.errno in (errno_codes.ECONNRESET, errno_codes.EPIPE):
        op = "read" if cause.errno == errno_codes.ECONNRESET else "write"
        return f"{op} tcp{where}: {op}: {go_errno(cause)}"
    if isinstance(exc, EOFError) or str(exc) in (
        "Error reading SSH protocol banner",
        "Negotiation failed.",
    ):
        return "EOF"
    return str(exc)


def _dial_once(conn: Connection, config: ClientConfig) -> paramiko.Transport:
    """x/crypto/ssh Dial: the TCP connect is bounded, the handshake is not."""
    sock = _dial_tcp(conn)
    local, remote = sock.getsockname(), sock.getpeername()
    where = f" {join_host_port(local[0], local[1])}->{join_host_port(remote[0], remote[1])}"
    return _handshake(sock, config, where)


def _handshake(sock: Any, config: ClientConfig, where: str = "") -> paramiko.Transport:
    """x/crypto/ssh NewClientConn over `sock` (a TCP socket, or a channel from a jump host):
    version exchange, key exchange, the host key check, authentication."""
    transport = GoTransport(sock)
    try:
        transport.banner_timeout = UNBOUNDED
        transport.handshake_timeout = UNBOUNDED
        transport.auth_timeout = UNBOUNDED
        if config.host_key:
            offered = (config.host_key[0],)
            transport.offered_host_key_algorithms = offered
            # Set directly: paramiko's setter refuses ssh-rsa, which Go offers for an RSA pin.
            transport._preferred_keys = offered
        try:
            transport.start_client(timeout=None)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise SshError(f"ssh: handshake failed: {_handshake_error(exc, where)}") from None
        presented = transport.get_remote_server_key().asbytes()
        if config.host_key and presented != config.host_key[1]:  # ssh.FixedHostKey
            raise SshError("ssh: handshake failed: ssh: host key mismatch")
        try:
            _authenticate(transport, config)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise SshError(f"ssh: handshake failed: {_handshake_error(exc, where)}") from None
        return transport
    except BaseException:
        transport.close()
        raise


def _try_keys(
    transport: paramiko.Transport, user: str, keys: list[paramiko.PKey]
) -> tuple[bool, list[str] | None]:
    for key in keys:
        try:
            transport.auth_publickey(user, key)
        except paramiko.BadAuthenticationType as exc:
            return False, list(exc.allowed_types)
        except paramiko.AuthenticationException:
            continue
        if transport.is_authenticated():
            return True, None
    return False, None


def _authenticate(transport: paramiko.Transport, config: ClientConfig) -> None:
    """x/crypto/ssh client_auth.go clientAuthenticate."""
    user = config.user
    methods: list[tuple[str, Callable[[], tuple[bool, list[str] | None]]]] = []
    if config.signer is not None:
        signer = config.signer
        methods.append(("publickey", lambda: _try_keys(transport, user, [signer])))
    if config.password is not None:
        password = config.password

        def by_password() -> tuple[bool, list[str] | None]:
            try:
                transport.auth_password(user, password)
            except paramiko.BadAuthenticationType as exc:
                return False, list(exc.allowed_types)
            except paramiko.AuthenticationException:
                return False, None
            return transport.is_authenticated(), None

        def by_keyboard() -> tuple[bool, list[str] | None]:
            try:
                transport.auth_interactive(user, lambda _t, _i, qs: [password for _ in qs])
            except paramiko.BadAuthenticationType as exc:
                return False, list(exc.allowed_types)
            except paramiko.AuthenticationException:
                return False, None
            return transport.is_authenticated(), None

        methods.append(("password", by_password))
        methods.append(("keyboard-interactive", by_keyboard))
    if config.agent is not None:
        agent = config.agent
        methods.append(("publickey", lambda: _try_keys(transport, user, list(agent.get_keys()))))

    try:
        transport.auth_none(user)
        return
    except paramiko.BadAuthenticationType as exc:
        allowed = list(exc.allowed_types)
    except paramiko.AuthenticationException:
        allowed = []
    tried = ["none"]
    while True:
        chosen = next(
            ((name, attempt) for name, attempt in methods if name in allowed and name not in tried),
            None,
        )
        if chosen is None:
            raise SshError(
                "ssh: handshake failed: ssh: unable to authenticate, attempted methods "
                f"[{' '.join(tried)}], no supported methods remain"
            )
        name, attempt = chosen
        ok, now_allowed = attempt()
        if ok:
            return
        if now_allowed is not None:
            allowed = now_allowed
        tried.append(name)


T = TypeVar("T")


def _with_retry(
    message: str,
    limit: int,
    attempt_once: Callable[[], T],
    on_retry: Callable[[str], None] | None,
) -> T:
    """connection.go dialWithRetry + retry.Until."""
    delay = RETRY_DELAY
    attempt = 0  # retry.Until's `try`
    while True:
        try:
            return attempt_once()
        except SshError as exc:
            dials = attempt + 1
            if limit > -1 and dials > limit:  # reachedDialingErrorLimit
                raise SshError(f"after {attempt} failed attempts: {exc}") from None
            if on_retry:
                shown = "inf" if limit == -1 else str(limit)
                on_retry(f"{message} {dials}/{shown} failed: retrying")
        _sleep(min(delay, RETRY_MAX_DELAY))
        delay *= RETRY_BACKOFF
        attempt += 1


def dial(
    conn: Connection,
    on_retry: Callable[[str], None] | None = None,
    config: ClientConfig | None = None,
) -> paramiko.Transport:
    """connection.go Connection.Dial. Through a jump host, close_transport closes both."""
    own_config = config is None
    config = config or ssh_config(conn)
    try:
        if conn.proxy is None:
            return _with_retry(
                "Dial", conn.dial_error_limit, lambda: _dial_once(conn, config), on_retry
            )
        return _dial_through_proxy(conn, conn.proxy, config, on_retry)
    except BaseException:
        if own_config:
            config.close()
        raise


def _dial_through_proxy(
    conn: Connection,
    proxy: Connection,
    config: ClientConfig,
    on_retry: Callable[[str], None] | None,
) -> paramiko.Transport:
    """connection.go Connection.Dial with a Proxy: the jump host is dialled with its own
    config and limits ("Dial proxy"), a direct-tcpip channel is opened from it to the node
    (x/crypto/ssh tcpip.go Client.Dial, "Dial from proxy"), and the node's handshake runs over
    that channel ("Dial"). Every error is prefixed "proxy: "."""
    try:
        proxy_config = ssh_config(proxy)
    except SshError as exc:
        raise SshError(f"proxy: {exc}") from None
    try:
        bastion = _with_retry(
            "Dial proxy", proxy.dial_error_limit, lambda: _dial_once(proxy, proxy_config), on_retry
        )
    except SshError as exc:
        raise SshError(f"proxy: {exc}") from None
    finally:
        proxy_config.close()
    try:
        try:
            channel = _with_retry(
                "Dial from proxy",
                conn.dial_error_limit,
                lambda: _open_direct_tcpip(bastion, conn),
                on_retry,
            )
        except SshError as exc:
            raise SshError(f"proxy: {exc}") from None
        # NewClientConn (client.go) closes the channel when the handshake fails, and every
        # later attempt writes its version line to that closed channel: io.EOF (channel.go
        # writePacket, sentClose).
        failed = threading.Event()

        def handshake() -> paramiko.Transport:
            if failed.is_set():
                raise SshError("ssh: handshake failed: EOF")
            try:
                return _handshake(channel, config)
            except SshError:
                failed.set()
                raise

        try:
            transport = _with_retry("Dial", conn.dial_error_limit, handshake, on_retry)
        except SshError as exc:
            raise SshError(f"proxy: {exc}") from None
        transport.go_bastion = bastion
        return transport
    except BaseException:
        bastion.close()
        raise


ZERO_ADDR = str(ipaddress.IPv4Address(0))  # net.IPv4zero, the originator Go's Dial names


def _open_direct_tcpip(bastion: paramiko.Transport, conn: Connection) -> paramiko.Channel:
    """x/crypto/ssh tcpip.go Client.Dial("tcp", endpoint): a direct-tcpip channel from
    0.0.0.0:0; a refusal is an OpenChannelError (connection.go: "ssh: rejected: REASON (MSG)")."""
    try:
        return bastion.open_channel(
            "direct-tcpip", (conn.host, conn.port), (ZERO_ADDR, 0), timeout=UNBOUNDED
        )
    except paramiko.ChannelException as exc:
        reason = OPEN_FAILURE_REASONS.get(exc.code, f"unknown reason {exc.code}")
        raise SshError(f"ssh: rejected: {reason} ({exc.text})") from None
    except (paramiko.SSHException, OSError, EOFError) as exc:
        raise SshError(_handshake_error(exc)) from None


def close_transport(transport: paramiko.Transport) -> None:
    """Close a dialled connection, and the jump host's under it."""
    transport.close()
    bastion = getattr(transport, "go_bastion", None)
    if bastion is not None:
        bastion.close()


def _set_env(channel: paramiko.Channel, name: str, value: str) -> None:
    """x/crypto/ssh Session.Setenv: an "env" request that wants a reply."""
    message = paramiko.Message()
    message.add_byte(cMSG_CHANNEL_REQUEST)
    message.add_int(channel.remote_chanid)
    message.add_string("env")
    message.add_boolean(True)
    message.add_string(name)
    message.add_string(value)
    channel._event_pending()
    channel.transport._send_user_message(message)
    channel.event.wait()
    if channel.event_ready:
        return
    if channel.closed or not channel.transport.is_active():
        raise SshError("EOF")
    raise SshError("ssh: setenv failed")


class _Collector:
    """The provider's buffers: stdout, stderr, and both interleaved (io.MultiWriter), plus the
    log pipe that util.LogOutput reads line by line with a bufio.Scanner."""

    def __init__(self, echo: Callable[[str], None] | None) -> None:
        self.lock = threading.Lock()
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.combined = bytearray()
        self.log_line = bytearray()
        self.log_overflow = False
        self.echo = echo

    def pump(self, stream: Any, target: bytearray, logged: bool) -> None:
        while True:
            chunk = stream.read(4096)
            if not chunk:
                return
            with self.lock:
                target.extend(chunk)
                self.combined.extend(chunk)
                if logged and not self.log_overflow:
                    self._log(chunk)

    def _log(self, chunk: bytes) -> None:
        self.log_line.extend(chunk)
        *lines, rest = self.log_line.split(b"\n")
        self.log_line = bytearray(rest)
        for line in lines:
            self._emit(bytes(line))
        if len(self.log_line) >= LOG_LINE_LIMIT:
            self.log_overflow = True

    def _emit(self, line: bytes) -> None:
        if self.echo:
            self.echo(line.removesuffix(b"\r").decode(errors="replace"))

    def finish(self) -> None:
        if self.log_line and not self.log_overflow:
            self._emit(bytes(self.log_line))
        self.log_line = bytearray()


OPEN_FAILURE_REASONS = {
    1: "administratively prohibited",
    2: "connect failed",
    3: "unknown channel type",
    4: "resource shortage",
}


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
    diag: Callable[[str, str], None] | None = None,
) -> RunResult:
    """commandOutputs.go CommandOutputs.run. `diag(severity, message)` receives what the
    provider logs as an error or a warning."""
    config = ssh_config(conn)
    try:
        transport = dial(conn, on_retry, config)
        try:
            return _run_session(
                transport,
                command,
                stdin,
                environment or {},
                previous_output or {},
                log_stdout,
                log_stderr,
                echo,
                diag,
            )
        finally:
            close_transport(transport)
    finally:
        config.close()


def _run_session(
    transport: paramiko.Transport,
    command: str,
    stdin: str | None,
    environment: dict[str, str],
    previous_output: dict[str, str],
    log_stdout: bool,
    log_stderr: bool,
    echo: Callable[[str], None] | None,
    diag: Callable[[str, str], None] | None,
) -> RunResult:
    try:
        channel = transport.open_session(timeout=UNBOUNDED)
    except paramiko.ChannelException as exc:
        reason = OPEN_FAILURE_REASONS.get(exc.code, f"unknown reason {exc.code}")
        raise SshError(f"ssh: rejected: {reason} ({exc.text})") from None
    except (paramiko.SSHException, OSError, EOFError) as exc:
        raise SshError(_handshake_error(exc)) from None
    with channel:
        for key, value in environment.items():
            try:
                _set_env(channel, key, value)
            except SshError as exc:
                if diag:
                    diag("error", SETENV_MESSAGE.format(key))
                raise SshError(
                    f"could not set environment variable {go_quote(key)}: {exc}"
                ) from None
        for key, value in previous_output.items():
            if not value:
                continue
            try:
                _set_env(channel, key, value)
            except SshError:
                if diag:
                    diag("warning", SETENV_MESSAGE.format(key))
        try:
            channel.exec_command(command)
        except (paramiko.SSHException, OSError, EOFError):
            raise SshError(
                f"ssh: command {command} failed: running {go_quote(command)}:\n"
            ) from None
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
        with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
            channel.shutdown_write()
        status = channel.recv_exit_status()
        for reader in readers:
            reader.join()
        collector.finish()
        signal = getattr(channel, "go_exit_signal", None)
    if collector.log_overflow:
        raise LogScannerOverflow(
            "engine double: pulumi-command would hang here: a logged output line reached "
            f"{LOG_LINE_LIMIT} bytes, which stops util.LogOutput's bufio.Scanner and blocks the "
            "command's output pipe for ever; set logging to none for this command or break the line"
        )
    stdout = collector.stdout.decode(errors="replace")
    stderr = collector.stderr.decode(errors="replace")
    combined = collector.combined.decode(errors="replace")
    wait_error = _wait_error(status, signal)
    if wait_error is not None:
        raise SshError(f"{wait_error}: running {go_quote(command)}:\n{combined}")
    return RunResult(
        stdout=stdout.removesuffix("\n"),
        stderr=stderr.removesuffix("\n"),
        combined=combined,
        exit_status=status,
    )


def _wait_error(status: int, signal: tuple[str, bool, str, str] | None) -> str | None:
    """x/crypto/ssh Session.wait and Waitmsg.String."""
    if status == 0:
        return None
    name, message = (signal[0], signal[2]) if signal else ("", "")
    if status == -1:
        if not name:
            return "wait: remote command exited without exit status or exit signal"
        status = 128 + GO_SIGNALS.get(name, 0)
    text = f"Process exited with status {status}"
    if name:
        text += f" from signal {name}"
    if message:
        text += f". Reason was: {message}"
    return text
