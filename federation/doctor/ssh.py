"""SSH to a node: one connection per node, a channel per read-only command, every step bounded."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import paramiko

from federation.config.model import NodeSettings, SshSettings
from federation.ssh import host_port, known_hosts_name

DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Access:
    """How the doctor logs in: the stack's user and port, a key file and/or the SSH agent."""

    ssh: SshSettings
    key_file: str | None
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


class SshError(Exception):
    """A host could not be reached or logged in to; `refused` when its host key is not trusted."""

    def __init__(self, where: str, reason: str, refused: bool = False) -> None:
        super().__init__(f"{where}: {reason}")
        self.reason = reason
        self.refused = refused


class _UntrustedKey(Exception):
    pass


class _UnknownHostKey(paramiko.MissingHostKeyPolicy):  # type: ignore[misc]
    def __init__(self, pinned_field: str) -> None:
        self.pinned_field = pinned_field

    def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
        raise _UntrustedKey(
            f"host key {key.get_name()} {key.get_base64()} is neither pinned "
            f"({self.pinned_field}) nor in ~/.ssh/known_hosts; refusing to connect"
        )


class Connection:
    """One SSH connection to a node, through its jump host when it has one; `run` opens a
    channel per read-only command."""

    def __init__(self, node: NodeSettings, access: Access) -> None:
        self.node = node
        self.access = access
        self.where = f"{node.name} ({host_port(node.host, access.ssh.port)})"
        self.client = paramiko.SSHClient()
        self.jump_client: paramiko.SSHClient | None = None

    def open(self) -> None:
        node, access = self.node, self.access
        sock = None
        jump = node.jump_host(access.ssh.proxy)
        if jump is not None:
            self.jump_client = paramiko.SSHClient()
            jump_where = f"{self.where} via jump host {host_port(jump.host, jump.port)}"
            _login(
                self.jump_client,
                jump_where,
                jump.host,
                jump.port,
                jump.user or access.ssh.user,
                jump.host_key,
                access,
                pinned_field="ssh.proxy.hostKey",
            )
            try:
                sock = self.jump_client.get_transport().open_channel(
                    "direct-tcpip", (node.host, access.ssh.port), ("127.0.0.1", 0)
                )
            except (OSError, paramiko.SSHException) as error:
                raise SshError(
                    jump_where, f"the jump host cannot reach the node ({_reason(error)})"
                ) from None
        _login(
            self.client,
            self.where,
            node.host,
            access.ssh.port,
            access.ssh.user,
            node.host_key,
            access,
            pinned_field="nodes[].hostKey",
            sock=sock,
        )

    def run(self, command: str, timeout: float | None = None, what: str | None = None) -> Result:
        """Run `command` in a channel of its own; `timeout` (default --timeout) bounds each read,
        `what` names it in errors (default: the command itself)."""
        timeout = self.access.timeout if timeout is None else timeout
        try:
            _, stdout, stderr = self.client.exec_command(command, timeout=timeout)
            out = stdout.read().decode("utf-8", "replace")
            err = stderr.read().decode("utf-8", "replace")
            channel = stdout.channel
            if not channel.status_event.wait(timeout):
                raise TimeoutError("no exit status")
            return Result(channel.recv_exit_status(), out, err)
        except (OSError, paramiko.SSHException) as error:
            raise SshError(self.where, f"`{what or command}` failed ({_reason(error)})") from None

    def close(self) -> None:
        self.client.close()
        if self.jump_client is not None:
            self.jump_client.close()


def _login(
    client: paramiko.SSHClient,
    where: str,
    host: str,
    port: int,
    user: str,
    host_key: str | None,
    access: Access,
    pinned_field: str,
    sock: Any = None,
) -> None:
    """Log in to one SSH server with its pinned host key (or known_hosts), every step bounded."""
    if host_key:
        kind, data = host_key.split()[:2]
        try:
            key = paramiko.PKey.from_type_string(kind, base64.b64decode(data))
        except (paramiko.SSHException, ValueError) as error:
            raise SshError(where, f"cannot use the pinned host key: {error}") from None
        client.get_host_keys().add(known_hosts_name(host, port), kind, key)
    else:
        client.load_system_host_keys()
    client.set_missing_host_key_policy(_UnknownHostKey(pinned_field))
    try:
        client.connect(
            host,
            port=port,
            username=user,
            key_filename=access.key_file,
            allow_agent=True,
            look_for_keys=False,
            timeout=access.timeout,
            banner_timeout=access.timeout,
            auth_timeout=access.timeout,
            channel_timeout=access.timeout,
            sock=sock,
        )
    except _UntrustedKey as error:
        raise SshError(where, str(error), refused=True) from None
    except paramiko.BadHostKeyException as error:
        raise SshError(
            where,
            f"host key mismatch: the host presents {error.key.get_name()} "
            f"{error.key.get_base64()}, the stack pins {host_key}; refusing to connect",
            refused=True,
        ) from None
    except paramiko.AuthenticationException as error:
        raise SshError(
            where,
            f"authentication as {user} failed ({error}); give --key FILE, set "
            "ssh.privateKeyFile, or add the key to the SSH agent (ssh-add)",
        ) from None
    except (OSError, paramiko.SSHException, EOFError) as error:
        raise SshError(where, f"unreachable over SSH ({_reason(error)})") from None


def _reason(error: BaseException) -> str:
    return str(error) or type(error).__name__


@contextmanager
def connect(node: NodeSettings, access: Access) -> Iterator[Connection]:
    connection = Connection(node, access)
    try:
        connection.open()
        yield connection
    finally:
        connection.close()
