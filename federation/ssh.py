"""How Pulumi reaches the nodes: pulumi-command connections and the docker provider's SSH."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker
from pulumi_command import remote

from federation.config.model import FederationConfig, NodeSettings

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


@dataclass(frozen=True)
class SshAccess:
    user: str
    port: int
    private_key: pulumi.Output[str]
    private_key_file: str | None

    @classmethod
    def from_config(cls, config: FederationConfig) -> SshAccess:
        ssh = config.settings.ssh
        return cls(ssh.user, ssh.port, config.ssh_private_key, ssh.private_key_file)

    def connection(self, node: NodeSettings) -> remote.ConnectionArgs:
        return remote.ConnectionArgs(
            host=node.host,
            port=self.port,
            user=self.user,
            private_key=self.private_key,
            host_key=node.host_key,
            dial_error_limit=DIAL_ERROR_LIMIT,
            per_dial_timeout=PER_DIAL_TIMEOUT,
        )

    def docker_provider(
        self, name: str, node: NodeSettings, opts: pulumi.ResourceOptions
    ) -> docker.Provider:
        """A docker provider that talks to `node`'s engine over SSH."""
        return docker.Provider(
            name, host=self.docker_host(node), ssh_opts=self.docker_ssh_opts(node), opts=opts
        )

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
        if self.private_key_file:
            opts += ["-o", "IdentitiesOnly=yes", "-i", self.private_key_file]
        if node.host_key:
            known = node.host if self.port == 22 else f"[{node.host}]:{self.port}"
            opts += [
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "GlobalKnownHostsFile=/dev/null",
                "-o",
                f"KnownHostsCommand=/bin/echo {known} {node.host_key}",
            ]
        return opts
