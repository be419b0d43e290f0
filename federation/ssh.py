"""How Pulumi reaches the nodes: pulumi-command connections and the docker provider's SSH."""

from __future__ import annotations

import ipaddress
import os
import shlex
import stat
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_docker as docker
from pulumi_command import remote

from federation.config.model import FederationConfig, NodeSettings, ProxySettings
from federation.config.validation import ConfigError

# pulumi-command dials a node at most DIAL_ERROR_LIMIT + 1 times, and PER_DIAL_TIMEOUT bounds
# each dial's TCP connect (not the SSH handshake): an unreachable node fails `pulumi up` in well
# under a minute instead of the default 11 dials of 15 s.
DIAL_ERROR_LIMIT = 3
PER_DIAL_TIMEOUT = 10
# The docker provider's ssh master socket. Directly in the home directory (OpenSSH expands `~`
# from the passwd entry, not $HOME): it always exists, so nothing has to be created first, which
# matters because `pulumi destroy` does not run the program; and it is the user's own (unlike
# /tmp, where another user could plant a socket). %C is a hash of the local host, remote host,
# port and user, so each leader gets its own master.
CONTROL_PATH = "~/.mip-federation-%C"


def host_port(addr: str, port: int) -> str:
    """addr:port, with IPv6 addresses bracketed."""
    try:
        if ipaddress.ip_address(addr).version == 6:
            return f"[{addr}]:{port}"
    except ValueError:
        pass
    return f"{addr}:{port}"


NO_AGENT = (
    "ssh: no SSH key is configured, so Pulumi logs in through the SSH agent, but {why}; start "
    "one and add the key (a passphrase-protected key works): "
    'eval "$(ssh-agent)" && ssh-add ~/.ssh/mip_fed, then run pulumi up in that shell'
)


def agent_problem(environ: dict[str, str] | os._Environ[str]) -> str | None:
    """Why the SSH agent cannot serve a `pulumi up`, or None. pulumi-command takes the socket from
    SSH_AUTH_SOCK (connection.go SSHConfig, tryGetDefaultAgentSocket) and fails the dial when it
    is set but dead; with no socket and no key it has no auth method at all."""
    path = environ.get("SSH_AUTH_SOCK")
    if not path:
        return NO_AGENT.format(why="SSH_AUTH_SOCK is not set")
    try:
        is_socket = stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        is_socket = False
    if not is_socket:
        return NO_AGENT.format(why=f"SSH_AUTH_SOCK ({path}) is not a socket")
    return None


@dataclass(frozen=True)
class SshAccess:
    """How the commands and the docker provider log in.

    By default (no sshPrivateKey, no ssh.privateKeyFile) through the SSH agent: a connection
    without privateKey makes pulumi-command (v1.2.1 provider/pkg/provider/remote/connection.go,
    SSHConfig) authenticate with the agent at agentSocketPath, else SSH_AUTH_SOCK, and the
    docker provider's ssh binary uses the same agent. So the key is in neither the stack file
    nor the state, a passphrase-protected key works (ssh-add asks for the passphrase once), and
    a preview needs no key. sshPrivateKey is kept for stacks deployed with it, whose commands
    would otherwise run their create again (docs/upgrading.md); ssh.privateKeyFile for machines
    without an agent (the lab).
    """

    user: str
    port: int
    private_key: pulumi.Output[str] | None
    private_key_file: str | None
    # ssh.proxy: the jump host of every node that names none of its own.
    proxy: ProxySettings | None = None
    # Whether any node is reached through a jump host (its connection carries a key too).
    any_proxy: bool = False

    @classmethod
    def from_config(cls, config: FederationConfig) -> SshAccess:
        ssh = config.settings.ssh
        any_proxy = any(n.jump_host(ssh.proxy) for n in config.settings.nodes)
        access = cls(
            ssh.user, ssh.port, config.ssh_private_key, ssh.private_key_file, ssh.proxy, any_proxy
        )
        if access.uses_agent and not pulumi.runtime.is_dry_run():
            problem = agent_problem(os.environ)
            if problem:
                raise ConfigError([problem])
        return access

    @property
    def uses_agent(self) -> bool:
        return self.private_key is None and self.private_key_file is None

    @property
    def key_pending(self) -> bool:
        """ssh.privateKeyFile is set but not on this machine: a preview elsewhere (CI)."""
        return self.private_key is None and self.private_key_file is not None

    def connection(self, node: NodeSettings) -> remote.ConnectionArgs:
        key: dict[str, Any] = {} if self.private_key is None else {"private_key": self.private_key}
        jump = node.jump_host(self.proxy)
        if jump is not None:
            # connection.go Connection.Dial: the jump host is dialled with its own settings
            # (its dialErrorLimit and perDialTimeout default to 10 and 15 s, like a node's),
            # then the node through a direct-tcpip channel from it.
            key["proxy"] = remote.ProxyConnectionArgs(
                host=jump.host,
                port=jump.port,
                user=jump.user or self.user,
                host_key=jump.host_key,
                dial_error_limit=DIAL_ERROR_LIMIT,
                per_dial_timeout=PER_DIAL_TIMEOUT,
                **key,
            )
        return remote.ConnectionArgs(
            host=node.host,
            port=self.port,
            user=self.user,
            host_key=node.host_key,
            dial_error_limit=DIAL_ERROR_LIMIT,
            per_dial_timeout=PER_DIAL_TIMEOUT,
            **key,
        )

    def docker_provider(
        self, name: str, node: NodeSettings, opts: pulumi.ResourceOptions
    ) -> docker.Provider:
        """A docker provider that talks to `node`'s engine over SSH."""
        return docker.Provider(
            name, host=self.docker_host(node), ssh_opts=self.docker_ssh_opts(node), opts=opts
        )

    def keep_stored_key(
        self, args: pulumi.ResourceTransformationArgs
    ) -> pulumi.ResourceTransformationResult | None:
        """A transformation for the commands of a preview without the key file (key_pending):
        the stored connection.privateKey is kept, as the engine's processIgnoreChanges
        (pkg/resource/deploy/step_generator.go) copies an ignored path's old value into the new
        inputs, so a CI preview plans no change for a key it cannot read."""
        if not self.key_pending or args.type_ != "command:remote:Command":
            return None
        ignored = [*(args.opts.ignore_changes or []), "connection.privateKey"]
        if self.any_proxy:
            ignored.append("connection.proxy.privateKey")
        opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions())
        opts.ignore_changes = ignored
        return pulumi.ResourceTransformationResult(args.props, opts)

    def docker_host(self, node: NodeSettings) -> str:
        return f"ssh://{self.user}@{host_port(node.host, self.port)}"

    def docker_ssh_opts(self, node: NodeSettings) -> list[str]:
        """Options for the docker provider's `ssh` binary.

        A pinned host key is handed to ssh through KnownHostsCommand (OpenSSH >= 8.5) and is the
        only key trusted, so the provider checks exactly what the commands check, and no file
        has to exist when `pulumi destroy` runs somewhere else. The key comes from
        privateKeyFile, or else from the SSH agent (key material cannot be passed to ssh).

        The provider starts one ssh per Docker API connection, and it creates services in
        parallel: without multiplexing, a burst of them exceeds sshd's default MaxStartups (10)
        on the leader and some are reset. One master connection serves them all instead.
        """
        opts = [
            "-o",
            "BatchMode=yes",
            "-o",
            f"ConnectTimeout={PER_DIAL_TIMEOUT}",
            "-o",
            "ControlMaster=auto",
            "-o",
            f"ControlPath={CONTROL_PATH}",
            # The master outlives its last session by 10 s, and notices a dead peer within 10 s.
            "-o",
            "ControlPersist=10",
            "-o",
            "ServerAliveInterval=5",
            "-o",
            "ServerAliveCountMax=2",
        ]
        opts += self._identity()
        if node.host_key:
            opts += _pinned(node.host, self.port, node.host_key)
        jump = node.jump_host(self.proxy)
        if jump is not None:
            opts += ["-o", f"ProxyCommand={self.proxy_command(jump)}"]
        return opts

    def _identity(self) -> list[str]:
        if self.private_key_file:
            return ["-o", "IdentitiesOnly=yes", "-i", self.private_key_file]
        return []

    def proxy_command(self, jump: ProxySettings) -> str:
        """The ssh that carries the provider's ssh to the node through `jump`, as a
        ProxyCommand (which ssh hands to /bin/sh after expanding its %-tokens).

        Not ProxyJump: the ssh that ProxyJump starts gets none of the command line's -o
        options, so it would check the jump host against ~/.ssh/known_hosts instead of the
        pinned key. Every word is shell-quoted and every % doubled; the values are validated
        (an address or DNS name, a port number, a user name, a host key) except the key
        file's path, which the quoting covers."""
        argv = [
            "ssh",
            "-o",
            "BatchMode=yes",
            "-o",
            f"ConnectTimeout={PER_DIAL_TIMEOUT}",
            *self._identity(),
            *_pinned(jump.host, jump.port, jump.host_key or ""),
            "-p",
            str(jump.port),
            "-l",
            jump.user or self.user,
            "-W",
            "[%h]:%p",
            "--",
            jump.host,
        ]
        # The %-tokens are ssh's own (the node's validated address and port), quoted as well
        # because the shell would glob the brackets.
        return " ".join(
            "'[%h]:%p'" if word == "[%h]:%p" else shlex.quote(word).replace("%", "%%")
            for word in argv
        )


def known_hosts_name(host: str, port: int) -> str:
    """How known_hosts (and paramiko's host keys) name host:port: bare on port 22."""
    return host if port == 22 else f"[{host}]:{port}"


def _pinned(host: str, port: int, host_key: str) -> list[str]:
    """ssh options that trust exactly `host_key` for host:port. The key reaches ssh through
    KnownHostsCommand (OpenSSH >= 8.5), so no known_hosts file has to exist."""
    known = known_hosts_name(host, port)
    return [
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        f"KnownHostsCommand=/bin/echo {known} {host_key}",
    ]
