"""The lab's DNS resolver: what a hospital server's own resolver is to its containers.

A container on a swarm network asks Docker's embedded DNS (127.0.0.11), which answers the names
of services and tasks it knows and forwards every other name to the daemon's nameservers. A lab
host's dockerd would take the machine's /etc/resolv.conf, whose nameserver a network namespace
cannot reach: a lookup of a name the swarm does not know yet (`exareme-keystore`, in the moment
before its task's address is gossiped) then hangs for the client's whole timeout (3 s for the
Exareme stand-ins' requests, 5 s for nslookup), where on a real network the resolver says "no such
name" at once and the client retries. So each lab runs this resolver in the root namespace on its
bridge address, port 53 UDP, and every host's dockerd has it as its `dns` (daemon.json): it
answers every query NXDOMAIN (NOTIMP for other opcodes), and the queries stay in the lab.

Run as `python resolver.py mip-lab-resolver IP` (no package imports, so it starts quickly from any
checkout); found again by those two arguments.
"""

import socket
import struct
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PORT = 53
TAG = "mip-lab-resolver"
NXDOMAIN = 3
NOTIMP = 4
QR, RD, RA = 0x8000, 0x0100, 0x0080
OPCODE = 0x7800


def answer(query: bytes) -> bytes | None:
    """The reply to one DNS message: its id and question, no records, NXDOMAIN for a standard
    query (NOTIMP for any other opcode). None for what is not a well-formed query."""
    if len(query) < 12:
        return None
    ident, flags, questions = struct.unpack("!HHH", query[:6])
    if flags & QR:
        return None
    question = _question(query, 12) if questions == 1 else b""
    if question is None:
        return None
    rcode = NXDOMAIN if flags & OPCODE == 0 else NOTIMP
    reply_flags = QR | (flags & OPCODE) | (flags & RD) | RA | rcode
    return struct.pack("!HHHHHH", ident, reply_flags, 1 if question else 0, 0, 0, 0) + question


def _question(message: bytes, offset: int) -> bytes | None:
    """The question section starting at `offset` (name, type, class), or None if malformed."""
    position = offset
    while True:
        if position >= len(message):
            return None
        length = message[position]
        if length == 0:
            end = position + 1 + 4
            return message[offset:end] if end <= len(message) else None
        if length & 0xC0:  # a compression pointer has no place in a query's only question
            return None
        position += 1 + length


def serve(ip: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((ip, PORT))
        while True:
            query, client = sock.recvfrom(4096)
            reply = answer(query)
            if reply is not None:
                sock.sendto(reply, client)


def query(name: str, ident: int = 0x4D49) -> bytes:
    """A standard query for `name`'s A record, recursion desired."""
    labels = b"".join(bytes([len(part)]) + part.encode() for part in name.split(".") if part)
    return struct.pack("!HHHHHH", ident, RD, 1, 0, 0, 0) + labels + b"\0" + struct.pack("!HH", 1, 1)


@dataclass(frozen=True)
class Resolver:
    ip: str  # the lab bridge's address
    log: Path

    def daemon_config(self) -> dict[str, list[str]]:
        """What a host's /etc/docker/daemon.json needs for its containers to ask this resolver."""
        return {"dns": [self.ip]}

    def pids(self) -> list[int]:
        from . import procs  # here: this file also runs as a script, outside its package

        return procs.with_arguments(TAG, self.ip)

    def answers(self, timeout: float = 0.5) -> bool:
        """True if a query gets this resolver's NXDOMAIN."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout)
            try:
                sock.sendto(query("mip-lab-check"), (self.ip, PORT))
                reply = sock.recv(512)
            except OSError:
                return False
        return len(reply) >= 4 and reply[:2] == b"MI" and reply[3] & 0x0F == NXDOMAIN

    def start(self, timeout: float = 10.0) -> None:
        """Start the resolver unless it answers already; wait until it does."""
        if self.answers():
            return
        from . import procs  # here: this file also runs as a script, outside its package

        self.log.parent.mkdir(parents=True, exist_ok=True)
        procs.start_detached([sys.executable, __file__, TAG, self.ip], self.log)
        deadline = time.monotonic() + timeout
        while not self.answers():
            if time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-1500:]
                raise OSError(f"the lab resolver on {self.ip}:{PORT} did not start:\n{tail}")
            time.sleep(0.05)


if __name__ == "__main__":
    if sys.argv[1:2] != [TAG] or len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} {TAG} IP")
    serve(sys.argv[2])
