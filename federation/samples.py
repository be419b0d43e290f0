"""Values only a sample stack holds: documentation addresses and made-up image digests.

Pulumi.prod.yaml ships with them so that it previews as it is; applied to real servers they would
change the hosts and then fail to pull (a made-up digest) or reach nobody (a documentation
address). A preview warns about each, `pulumi up` refuses them in a prod stack.

The tools that evaluate the sample stack as an `up` under mocks (the stack plans, the unit tests)
accept them as known stand-ins through `accepting_samples()`: only code running in the same
process can reach it, never a stack file or an environment variable.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from contextlib import contextmanager

# RFC 5737 (IPv4) and RFC 3849 (IPv6) reserve these for documentation; no server has them.
DOCUMENTATION_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)
# RFC 2606 / RFC 6761: names reserved for examples and tests.
DOCUMENTATION_NAME_RE = re.compile(
    r"(?:^|\.)(?:example\.(?:com|net|org)|example|invalid|test)$", re.IGNORECASE
)
DIGEST_RE = re.compile(r"@sha256:(?P<hex>[a-f0-9]{64})$")


def is_documentation_host(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return bool(DOCUMENTATION_NAME_RE.search(host.rstrip(".")))
    return any(address in network for network in DOCUMENTATION_NETWORKS)


def is_sample_digest(image: str) -> bool:
    """A digest made of one repeated short pattern (0123456789abcdef four times): a real sha256
    never is."""
    match = DIGEST_RE.search(image)
    if match is None:
        return False
    text = match.group("hex")
    return any(text == text[:size] * (64 // size) for size in (1, 2, 4, 8, 16, 32))


def sample_problems(hosts: list[tuple[str, str]], images: list[tuple[str, str]]) -> list[str]:
    """(field, value) pairs of hosts and images -> one message per sample value, naming the fix."""
    problems = [
        f"{field}: {host} is a documentation address or name (RFC 5737, RFC 3849, RFC 2606) "
        "left from the sample stack; set the server's real address"
        for field, host in hosts
        if is_documentation_host(host)
    ]
    problems += [
        f"{field}: {image} has a made-up sample digest; pin the real one, from "
        "'docker buildx imagetools inspect IMAGE' (its Digest line)"
        for field, image in images
        if is_sample_digest(image)
    ]
    return problems


_accepting = False


@contextmanager
def accepting_samples() -> Iterator[None]:
    """While it lasts, `pulumi up` of the program warns about sample values instead of refusing
    them: for harnesses that evaluate a sample stack under mocks, where nothing is applied."""
    global _accepting
    saved, _accepting = _accepting, True
    try:
        yield
    finally:
        _accepting = saved


def samples_accepted() -> bool:
    return _accepting
