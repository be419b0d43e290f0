"""Which hosts a tool's command touched: iptables counters on this machine's OUTPUT towards the
lab bridge, per host address, for TCP port 22 (the only way in: commands and the docker
provider's `docker system dial-stdio` both go over ssh). Two counters per host: new connections
(SYN) and all packets (an ssh ControlMaster that outlives a run carries sessions without a new
connection, so packets count too). The bench's own observation reads each dockerd's unix socket
and is not counted.

A chain of our own (`<PREFIX>-BENCH`, named after the bench's lab so that two benches on one
machine keep apart) with RETURN rules, jumped to from OUTPUT only for the bench lab's bridge: it
counts and changes nothing. Removed at the end.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Touches:
    connections: dict[str, int]  # host address -> new ssh connections
    packets: dict[str, int]  # host address -> packets sent to its port 22

    @property
    def hosts(self) -> list[str]:
        """The hosts that got any packet on port 22."""
        return sorted(ip for ip, n in self.packets.items() if n)

    def as_dict(self) -> dict[str, object]:
        return {
            "connections": sum(self.connections.values()),
            "packets": sum(self.packets.values()),
            "hosts": self.hosts,
        }


def _iptables(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["iptables", "-w", *args], capture_output=True, text=True, check=False)


class Counter:
    def __init__(self, bridge: str, ips: Sequence[str], prefix: str = "mipb") -> None:
        self.bridge = bridge
        self.ips = list(ips)
        self.chain = f"{prefix.upper()}-BENCH"
        self.active = False

    def _jump(self) -> tuple[str, ...]:
        return ("OUTPUT", "-o", self.bridge, "-p", "tcp", "--dport", "22", "-j", self.chain)

    def start(self) -> bool:
        self.stop()
        if _iptables("-N", self.chain).returncode:
            return False
        for ip in self.ips:
            _iptables("-A", self.chain, "-d", ip, "-p", "tcp", "--syn", "-m", "comment",
                      "--comment", f"syn {ip}")  # fmt: skip
            _iptables("-A", self.chain, "-d", ip, "-m", "comment", "--comment", f"all {ip}")
        _iptables("-A", self.chain, "-j", "RETURN")
        self.active = _iptables("-I", *self._jump()).returncode == 0
        return self.active

    def zero(self) -> None:
        if self.active:
            _iptables("-Z", self.chain)

    def read(self) -> Touches | None:
        if not self.active:
            return None
        listing = _iptables("-L", self.chain, "-v", "-x", "-n")
        if listing.returncode:
            return None
        return parse(listing.stdout)

    def stop(self) -> None:
        while _iptables("-D", *self._jump()).returncode == 0:
            pass
        _iptables("-F", self.chain)
        _iptables("-X", self.chain)
        self.active = False


def parse(listing: str) -> Touches:
    """From `iptables -L CHAIN -v -x -n`: the rules' packet counts by their comment."""
    connections: dict[str, int] = {}
    packets: dict[str, int] = {}
    for line in listing.splitlines():
        if "/*" not in line:
            continue
        fields = line.split()
        if not fields or not fields[0].isdigit():
            continue
        kind, ip = line.split("/*", 1)[1].split("*/", 1)[0].split()
        (connections if kind == "syn" else packets)[ip] = int(fields[0])
    return Touches(connections, packets)
