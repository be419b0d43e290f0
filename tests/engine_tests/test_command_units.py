"""The remote Command's connection, modelled on pulumi-command, against loopback listeners.

Dials are counted at TCP listeners this test controls; the back-off is recorded by replacing
ssh_exec's sleep, never measured in seconds.
"""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.providers import ssh_exec
from tests.engine.providers.ssh_exec import Connection, SshError


class Listener:
    """A loopback TCP listener that counts connections and then does `behaviour` with each."""

    def __init__(self, behaviour: str = "close", hold: threading.Event | None = None) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.accepted = 0
        self.behaviour = behaviour
        self.hold = hold or threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._answer, args=(client,), daemon=True).start()

    def _answer(self, client: socket.socket) -> None:
        # Read the client's version line first, so that closing sends a FIN (EOF), not a reset.
        client.settimeout(10)
        with contextlib.suppress(OSError):
            seen = b""
            while b"\n" not in seen:
                chunk = client.recv(256)
                if not chunk:
                    break
                seen += chunk
        if self.behaviour == "hold":  # say nothing until released
            self.hold.wait(30)
        if self.behaviour == "reset":  # close with a TCP reset
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()

    def close(self) -> None:
        self.hold.set()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(ssh_exec, "_sleep", recorded.append)
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return recorded


def refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dial_error(conn: Connection, messages: list[str] | None = None) -> str:
    with pytest.raises(SshError) as info:
        ssh_exec.dial(conn, on_retry=None if messages is None else messages.append)
    return str(info.value)


def test_refused_dials_back_off_and_report_one_fewer_attempt(delays: list[float]) -> None:
    """pulumi-command provider/pkg/provider/remote/connection.go dialWithRetry and
    reachedDialingErrorLimit, with pulumi/pulumi sdk/go/common/util/retry/until.go
    Retryer.Until (100 ms, x1.5, at most 5 s): dialErrorLimit=3 dials 4 times, sleeps 3 times,
    and prints `try` (3), not the number of dials. The TCP error is Go's net.OpError text."""
    port = refused_port()
    messages: list[str] = []
    error = dial_error(Connection("127.0.0.1", port, dial_error_limit=3), messages)
    assert error == (
        f"after 3 failed attempts: dial tcp 127.0.0.1:{port}: connect: connection refused"
    )
    assert messages == [f"Dial {n}/3 failed: retrying" for n in (1, 2, 3)]
    assert delays == pytest.approx([0.1, 0.15, 0.225])


def test_back_off_is_capped_at_five_seconds(delays: list[float]) -> None:
    """sdk/go/common/util/retry/until.go Retryer.Until: `if delay > maxDelay { delay = maxDelay
    }` (DefaultMaxDelay 5 s) before each wait."""
    dial_error(Connection("127.0.0.1", refused_port(), dial_error_limit=12))
    assert delays == pytest.approx([min(0.1 * 1.5**k, 5.0) for k in range(12)])
    assert delays[-2:] == [5.0, 5.0]


def test_default_limit_is_ten_errors_so_eleven_dials(delays: list[float]) -> None:
    """connection.go: dialErrorDefault = 10 (Connection.Annotate SetDefault), perDialTimeout 15;
    with the defaults a dead host is dialled 11 times."""
    conn = Connection.from_inputs({"host": "127.0.0.1", "port": refused_port()})
    assert (conn.dial_error_limit, conn.per_dial_timeout, conn.user) == (10, 15, "root")
    assert dial_error(conn).startswith("after 10 failed attempts: dial tcp 127.0.0.1:")
    assert len(delays) == 10


def test_limit_minus_one_never_gives_up(
    delays: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """connection.go dialWithRetry: maxAttempts -1 shows the limit as "inf", and
    reachedDialingErrorLimit is never true (any limit below -1 behaves the same)."""
    stop_after = 25

    def sleep(delay: float) -> None:
        delays.append(delay)
        if len(delays) == stop_after:
            raise KeyboardInterrupt

    monkeypatch.setattr(ssh_exec, "_sleep", sleep)
    messages: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        ssh_exec.dial(Connection("127.0.0.1", refused_port(), dial_error_limit=-1), messages.append)
    assert messages[-1] == f"Dial {stop_after}/inf failed: retrying"
    assert len(messages) == stop_after


def test_every_failed_handshake_is_one_dial(listener: Listener, delays: list[float]) -> None:
    """connection.go Connection.Dial: each try is a whole ssh.Dial (x/crypto/ssh client.go: TCP
    connect, then NewClientConn, whose error is "ssh: handshake failed: %w"). A peer that closes
    before its banner is io.EOF. dialErrorLimit=3 opens exactly 4 connections; 0 opens one."""
    error = dial_error(Connection("127.0.0.1", listener.port, dial_error_limit=3))
    assert error == "after 3 failed attempts: ssh: handshake failed: EOF"
    assert listener.accepted == 4
    error = dial_error(Connection("127.0.0.1", listener.port, dial_error_limit=0))
    assert error == "after 0 failed attempts: ssh: handshake failed: EOF"
    assert listener.accepted == 5


def test_a_reset_during_the_handshake_is_a_read_error(delays: list[float]) -> None:
    """x/crypto/ssh transport.go readVersion reads from the net.Conn: a reset is the
    net.OpError "read tcp <local>-><remote>: read: connection reset by peer", wrapped by
    client.go NewClientConn as "ssh: handshake failed: %w"."""
    server = Listener("reset")
    try:
        error = dial_error(Connection("127.0.0.1", server.port, dial_error_limit=0))
    finally:
        server.close()
    assert re.fullmatch(
        rf"after 0 failed attempts: ssh: handshake failed: read tcp 127\.0\.0\.1:\d+->"
        rf"127\.0\.0\.1:{server.port}: read: connection reset by peer",
        error,
    ), error


def test_per_dial_timeout_bounds_the_tcp_connect(delays: list[float]) -> None:
    """x/crypto/ssh client.go Dial: `net.DialTimeout(network, addr, config.Timeout)`,
    with Timeout = perDialTimeout s (connection.go SSHConfig). A connect that gets no answer
    (a listener whose accept queue is full drops SYNs) fails with Go's "i/o timeout"."""
    full = socket.socket()
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    port = int(full.getsockname()[1])
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    try:
        messages: list[str] = []
        conn = Connection("127.0.0.1", port, dial_error_limit=1, per_dial_timeout=1)
        error = dial_error(conn, messages)
        assert error == f"after 1 failed attempts: dial tcp 127.0.0.1:{port}: i/o timeout"
        assert messages == ["Dial 1/1 failed: retrying"]
    finally:
        for sock in [*fillers, full]:
            sock.close()


def test_per_dial_timeout_does_not_bound_the_handshake(delays: list[float]) -> None:
    """x/crypto/ssh client.go Dial: after net.DialTimeout, NewClientConn runs with no deadline
    (ClientConfig.Timeout is "the maximum amount of time for the TCP connection to establish").
    A server that accepts and stays silent for longer than perDialTimeout is waited for: the
    dial ends when the server closes (EOF), not with a timeout, and is one dial."""
    hold = threading.Event()
    server = Listener("hold", hold)
    conn = Connection("127.0.0.1", server.port, dial_error_limit=0, per_dial_timeout=1)
    outcome: list[str] = []
    worker = threading.Thread(target=lambda: outcome.append(dial_error(conn)), daemon=True)
    worker.start()
    try:
        # Still dialling well past perDialTimeout (join returns after 3 s if it is).
        worker.join(3)
        assert worker.is_alive(), f"the handshake was cut short: {outcome}"
        hold.set()
        worker.join(30)
        assert outcome == ["after 0 failed attempts: ssh: handshake failed: EOF"]
        assert server.accepted == 1
    finally:
        server.close()


def test_dead_agent_socket_fails_before_any_dial(
    listener: Listener, delays: list[float], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """connection.go SSHConfig calls dialAgent (connection_unix.go: net.Dial("unix", path)) for
    agentSocketPath, else a non-empty SSH_AUTH_SOCK (tryGetDefaultAgentSocket), before
    Connection.Dial reaches dialWithRetry: the error is returned as is, with no dial at all."""
    missing = tmp_path / "no-agent.sock"
    monkeypatch.setenv("SSH_AUTH_SOCK", str(missing))
    conn = Connection("127.0.0.1", listener.port, dial_error_limit=3)
    assert dial_error(conn) == f"dial unix {missing}: connect: no such file or directory"
    dead = tmp_path / "dead.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(dead))
    stale.close()  # the socket file stays, nobody listens
    conn.agent_socket_path = str(dead)  # takes precedence over SSH_AUTH_SOCK
    assert dial_error(conn) == f"dial unix {dead}: connect: connection refused"
    monkeypatch.setenv("SSH_AUTH_SOCK", "")  # empty: no agent
    conn.agent_socket_path = None
    assert dial_error(conn).endswith("ssh: handshake failed: EOF")
    assert listener.accepted == 4
    assert delays == pytest.approx([0.1, 0.15, 0.225])


def _keygen(path: Path, passphrase: str = "") -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", "t", "-f", str(path)],
        check=True,
    )
    return path.read_text()


def test_private_key_errors_fail_before_any_dial(
    listener: Listener, delays: list[float], tmp_path: Path
) -> None:
    """connection.go SSHConfig: ssh.ParsePrivateKey / ParsePrivateKeyWithPassphrase
    (x/crypto/ssh keys.go) errors are returned unwrapped, before any dial or retry. The key
    text never appears in the error."""
    plain = _keygen(tmp_path / "plain")
    locked = _keygen(tmp_path / "locked", "right-passphrase")
    cases = [
        (plain.replace("-----BEGIN", "-----NOPE"), None, "ssh: no key found"),
        (locked, None, "ssh: this private key is passphrase protected"),
        (locked, "wrong-passphrase", "x509: decryption password incorrect"),
        (plain, "any", "ssh: key is not password protected"),
    ]
    for key, password, expected in cases:
        conn = Connection(
            "127.0.0.1", listener.port, private_key=key, private_key_password=password
        )
        error = dial_error(conn)
        assert error == expected
        assert key.splitlines()[1] not in error
    assert listener.accepted == 0
    assert delays == []


def test_host_key_is_parsed_before_any_dial(listener: Listener, delays: list[float]) -> None:
    """connection.go SSHConfig: `failed to parse host key: %w` around ssh.ParseAuthorizedKey;
    the key type is the blob's (publicKey.Type()), whatever the line's first word says."""
    conn = Connection("127.0.0.1", listener.port, host_key="ssh-ed25519 not-base64!")
    assert dial_error(conn) == "failed to parse host key: ssh: no key found"
    assert listener.accepted == 0
    blob_line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIU3wvccJY0bXcDmKe5xr2o0aL8vbKCWuB8SWY2R1ik5"
    key_type, _ = ssh_exec.parse_host_key("ssh-rsa " + blob_line.split()[1] + " comment")
    assert key_type == "ssh-ed25519"
    assert ssh_exec.parse_host_key(blob_line)[0] == "ssh-ed25519"


def test_exit_status_texts() -> None:
    """x/crypto/ssh session.go Session.wait and Waitmsg.String: an exit-signal without
    exit-status is 128 + the signal's number (the `signals` table), "from signal X", and
    ". Reason was: ..." when the server gives one; neither is ExitMissingError."""
    assert ssh_exec._wait_error(0, None) is None
    assert ssh_exec._wait_error(3, None) == "Process exited with status 3"
    kill = ("KILL", False, "", "")
    assert ssh_exec._wait_error(-1, kill) == "Process exited with status 137 from signal KILL"
    segv = ("SEGV", True, "boom", "")
    assert ssh_exec._wait_error(-1, segv) == (
        "Process exited with status 139 from signal SEGV. Reason was: boom"
    )
    assert ssh_exec._wait_error(-1, ("USR1", False, "", "")) == (
        "Process exited with status 128 from signal USR1"
    )
    assert ssh_exec._wait_error(-1, None) == (
        "wait: remote command exited without exit status or exit signal"
    )


class _Chunks:
    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)

    def read(self, _size: int) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""


def test_logged_output_is_echoed_line_by_line() -> None:
    """pulumi-command provider/pkg/provider/util/util.go LogOutput: stdout and stderr
    (when logged) share one pipe read by a bufio.Scanner, one log line per line, the last
    unterminated line included; the outputs keep the raw bytes."""
    lines: list[str] = []
    collector = ssh_exec._Collector(lines.append)
    collector.pump(_Chunks(b"ab", b"c\nd", b"e\n", b"tail"), collector.stdout, True)
    collector.pump(_Chunks(b"not logged\n"), collector.stderr, False)
    collector.finish()
    assert lines == ["abc", "de", "tail"]
    assert bytes(collector.stdout) == b"abc\nde\ntail"
    assert bytes(collector.combined) == b"abc\nde\ntailnot logged\n"


def test_a_logged_line_of_64k_would_hang_the_provider() -> None:
    """util.go LogOutput uses bufio.NewScanner (MaxScanTokenSize 64 KiB): a line that fills the
    buffer stops the scanner, and commandOutputs.go run's io.Pipe writer then blocks for ever
    (found by reading the source; not reproduced against a real provider). The double flags
    it; an unlogged stream or a shorter line is fine."""
    limit = ssh_exec.LOG_LINE_LIMIT
    ok = ssh_exec._Collector(None)
    ok.pump(_Chunks(b"x" * (limit - 1) + b"\n", b"y" * 10), ok.stdout, True)
    assert not ok.log_overflow
    quiet = ssh_exec._Collector(None)
    quiet.pump(_Chunks(b"x" * (limit * 2)), quiet.stdout, False)
    assert not quiet.log_overflow
    hangs = ssh_exec._Collector(None)
    hangs.pump(_Chunks(*[b"x" * 4096] * 16), hangs.stderr, True)
    assert hangs.log_overflow
