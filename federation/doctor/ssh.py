"""SSH to a node: one connection per node, a channel per read-only command, every step bounded."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import paramiko

from federation.config.model import NodeSettings, SshSettings
from federation.ssh import host_port

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
    def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
        raise _UntrustedKey(
            f"host key {key.get_name()} {key.get_base64()} is neither pinned (nodes[].hostKey) "
            "nor in ~/.ssh/known_hosts; refusing to connect"
        )


class Connection:
    """One SSH connection to a node; `run` opens a channel per read-only command."""

    def __init__(self, node: NodeSettings, access: Access) -> None:
        self.node = node
        self.access = access
        self.where = f"{node.name} ({host_port(node.host, access.ssh.port)})"
        self.client = paramiko.SSHClient()

    def open(self) -> None:
        node, access, client = self.node, self.access, self.client
        if node.host_key:
            kind, data = node.host_key.split()[:2]
            try:
                key = paramiko.PKey.from_type_string(kind, base64.b64decode(data))
            except (paramiko.SSHException, ValueError) as error:
                raise SshError(self.where, f"cannot use the pinned host key: {error}") from None
            port = access.ssh.port
            client.get_host_keys().add(
                node.host if port == 22 else f"[{node.host}]:{port}", kind, key
            )
        else:
            client.load_system_host_keys()
        client.set_missing_host_key_policy(_UnknownHostKey())
        try:
            client.connect(
                node.host,
                port=access.ssh.port,
                username=access.ssh.user,
                key_filename=access.key_file,
                allow_agent=True,
                look_for_keys=False,
                timeout=access.timeout,
                banner_timeout=access.timeout,
                auth_timeout=access.timeout,
                channel_timeout=access.timeout,
            )
        except _UntrustedKey as error:
            raise SshError(self.where, str(error), refused=True) from None
        except paramiko.BadHostKeyException as error:
            raise SshError(
                self.where,
                f"host key mismatch: the host presents {error.key.get_name()} "
                f"{error.key.get_base64()}, the stack pins {node.host_key}; refusing to connect",
                refused=True,
            ) from None
        except paramiko.AuthenticationException as error:
            raise SshError(
                self.where,
                f"authentication as {access.ssh.user} failed ({error}); give --key FILE, set "
                "ssh.privateKeyFile, or add the key to the SSH agent (ssh-add)",
            ) from None
        except (OSError, paramiko.SSHException, EOFError) as error:
            raise SshError(self.where, f"unreachable over SSH ({_reason(error)})") from None

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
