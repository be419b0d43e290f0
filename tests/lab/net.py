"""The lab's network in the root namespace: bridge, one veth pair and network namespace per host,
and the FORWARD rules that keep lab traffic on the bridge."""

import subprocess
from pathlib import Path

from .paths import NETNS


def _ip(*args: str, check: bool = True) -> None:
    subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


def link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def create_bridge(name: str, address: str) -> None:
    """Create bridge `name` with `address` (CIDR) unless it exists."""
    if link_exists(name):
        return
    _ip("link", "add", name, "type", "bridge")
    _ip("addr", "add", address, "dev", name)
    _ip("link", "set", name, "up")


def delete_link(name: str) -> None:
    if link_exists(name):
        _ip("link", "del", name)


def create_host_link(bridge: str, netns: str, veth: str, address: str) -> None:
    """Network namespace `netns` with eth0 at `address` (CIDR), the peer of `veth` on `bridge`.
    No default route: hosts reach only the lab subnet. eth0's MAC address follows from its IP
    address, so a host started again in a new namespace is still what the neighbours' ARP
    caches hold."""
    if not (NETNS / netns).exists():
        _ip("netns", "add", netns)
    if not link_exists(veth):
        ip = address.split("/")[0]
        mac = "02:00:" + ":".join(f"{int(byte):02x}" for byte in ip.split("."))
        _ip(
            "link",
            "add",
            veth,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "address",
            mac,
            "netns",
            netns,
        )
        _ip("-n", netns, "addr", "add", address, "dev", "eth0")
        _ip("-n", netns, "link", "set", "lo", "up")
        _ip("-n", netns, "link", "set", "eth0", "up")
    _ip("link", "set", veth, "master", bridge, "up")


def delete_host_link(netns: str, veth: str) -> None:
    delete_link(veth)
    if (NETNS / netns).exists():
        _ip("netns", "del", netns)


def set_link(name: str, up: bool) -> None:
    _ip("link", "set", name, "up" if up else "down")


def forward_rules(bridge: str) -> list[list[str]]:
    """FORWARD rules for the bridge: lab hosts talk to each other and to nothing else. Needed
    because once a dockerd runs, bridged traffic goes through iptables and the policy may become
    DROP."""
    return [
        ["FORWARD", "-i", bridge, "-o", bridge, "-j", "ACCEPT"],
        ["FORWARD", "-i", bridge, "!", "-o", bridge, "-j", "DROP"],
    ]


def ssh_only_from(source: str) -> list[list[str]]:
    """INPUT rules (to append, in order) for a host whose sshd takes connections only from
    `source`, e.g. a bastion's address: any other dial to port 22 is reset at once. No other
    port is touched, so the swarm's ports stay open."""
    ssh = ["INPUT", "-p", "tcp", "--dport", "22"]
    return [
        [*ssh, "-s", source, "-j", "ACCEPT"],
        [*ssh, "-j", "REJECT", "--reject-with", "tcp-reset"],
    ]


def insert_rule(rule: list[str]) -> None:
    subprocess.run(["iptables", "-w", "-I", *rule], check=True, capture_output=True)


def delete_rule(rule: list[str]) -> None:
    """Delete one copy of the rule, if there is one."""
    subprocess.run(["iptables", "-w", "-D", *rule], check=False, capture_output=True)
