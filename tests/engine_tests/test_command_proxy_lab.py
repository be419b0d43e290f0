"""A remote Command through a jump host, against two real OpenSSH servers on loopback: the
model of pulumi-command v1.2.1 provider/pkg/provider/remote/connection.go Connection.Dial with
a Proxy (dial the proxy with its own config and limits, open a direct-tcpip channel from it,
handshake the node over that channel; every error prefixed "proxy: ") and x/crypto/ssh v0.48
tcpip.go Client.Dial, client.go NewClientConn, channel.go writePacket."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.engine.providers import ssh_exec
from tests.engine.providers.ssh_exec import Connection, SshError
from tests.engine_tests.conftest import _lab_available
from tests.engine_tests.labkit import Sshd, free_port, run_sshd

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def bastion() -> Iterator[Sshd]:
    """A second sshd, the jump host (AllowTcpForwarding defaults to yes)."""
    reason = _lab_available()
    if reason:
        pytest.skip(reason)
    with run_sshd() as server:
        yield server


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    delays: list[float] = []
    monkeypatch.setattr(ssh_exec, "_sleep", delays.append)
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return delays


def through(
    sshd: Sshd, bastion: Sshd, node: dict[str, Any] | None = None, **proxy: Any
) -> Connection:
    """A connection to `sshd` through `bastion`, both keys pinned, dialErrorLimit 2 each."""
    conn = sshd.connection(**(node or {}))
    conn["proxy"] = bastion.connection(**proxy)
    inputs = {
        "host": conn["host"],
        "port": conn["port"],
        "user": conn["user"],
        "privateKey": conn["private_key"],
        "hostKey": conn["host_key"],
        "dialErrorLimit": conn["dial_error_limit"],
        "perDialTimeout": conn["per_dial_timeout"],
        "proxy": {
            "host": conn["proxy"]["host"],
            "port": conn["proxy"]["port"],
            "user": conn["proxy"]["user"],
            "privateKey": conn["proxy"]["private_key"],
            "hostKey": conn["proxy"]["host_key"],
            "dialErrorLimit": conn["proxy"]["dial_error_limit"],
            "perDialTimeout": conn["proxy"]["per_dial_timeout"],
        },
    }
    return Connection.from_inputs(inputs)


def failure(conn: Connection, messages: list[str] | None = None) -> str:
    with pytest.raises(SshError) as info:
        ssh_exec.run(conn, "true", on_retry=None if messages is None else messages.append)
    return str(info.value)


def test_a_command_runs_on_the_node_over_a_channel_from_the_jump_host(sshd, bastion):
    # The node sees the connection come from the jump host's sshd (direct-tcpip), not from us.
    result = ssh_exec.run(through(sshd, bastion), "echo $SSH_CONNECTION")
    assert result.stdout.split()[2:] == ["127.0.0.1", str(sshd.port)]


def test_a_wrong_jump_host_key_fails_the_proxy_dial_before_the_node_is_dialled(sshd, bastion):
    # connection.go: dialWithRetry("Dial proxy", proxyTries, ssh.Dial) -> "proxy: %w".
    messages: list[str] = []
    error = failure(through(sshd, bastion, host_key=bastion.other_host_key), messages)
    assert error == "proxy: after 2 failed attempts: ssh: handshake failed: ssh: host key mismatch"
    assert messages == ["Dial proxy 1/2 failed: retrying", "Dial proxy 2/2 failed: retrying"]


def test_the_proxy_has_its_own_dial_limit(sshd, bastion):
    # ProxyConnection.getDialErrorLimit: the proxy's dialErrorLimit, not the node's.
    messages: list[str] = []
    error = failure(
        through(
            sshd,
            bastion,
            {"dial_error_limit": 5},
            host_key=bastion.other_host_key,
            dial_error_limit=0,
        ),
        messages,
    )
    assert error == "proxy: after 0 failed attempts: ssh: handshake failed: ssh: host key mismatch"
    assert messages == []


def test_a_node_the_jump_host_cannot_reach_is_a_rejected_channel(sshd, bastion):
    # tcpip.go Client.Dial -> OpenChannelError "ssh: rejected: connect failed (MSG)", retried
    # as "Dial from proxy" with the node's limit.
    conn = through(sshd, bastion, {"port": free_port()})
    messages: list[str] = []
    error = failure(conn, messages)
    assert error == (
        "proxy: after 2 failed attempts: ssh: rejected: connect failed (Connection refused)"
    )
    assert messages == [
        "Dial from proxy 1/2 failed: retrying",
        "Dial from proxy 2/2 failed: retrying",
    ]


def test_a_wrong_node_key_behind_the_proxy_ends_in_eof(sshd, bastion):
    # client.go NewClientConn closes the channel after the failed handshake ("ssh: handshake
    # failed: ssh: host key mismatch"); each retry writes to the closed channel: io.EOF
    # (channel.go writePacket), and the last error is what the user sees.
    messages: list[str] = []
    error = failure(through(sshd, bastion, {"host_key": sshd.other_host_key}), messages)
    assert error == "proxy: after 2 failed attempts: ssh: handshake failed: EOF"
    assert messages == ["Dial 1/2 failed: retrying", "Dial 2/2 failed: retrying"]


def test_a_bad_proxy_host_key_is_a_proxy_config_error(sshd, bastion):
    # connection.go: c.Proxy.SSHConfig() fails before any dial -> "proxy: failed to parse...".
    error = failure(through(sshd, bastion, host_key="ssh-ed25519 AAAA"))
    assert error == "proxy: failed to parse host key: ssh: no key found"


def test_proxy_defaults_are_a_connections():
    # proxyConnection.go Annotate: user root, port 22, dialErrorLimit 10, perDialTimeout 15.
    conn = Connection.from_inputs({"host": "192.0.2.1", "proxy": {"host": "192.0.2.2"}})
    assert conn.proxy is not None
    assert (conn.proxy.user, conn.proxy.port) == ("root", 22)
    assert (conn.proxy.dial_error_limit, conn.proxy.per_dial_timeout) == (10, 15)
    assert conn.proxy.proxy is None
