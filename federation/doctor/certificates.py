"""The node certificates: each node's swarm TLS certificate, as node_certificate.sh prints it on
the node, against the warning threshold (--cert-warn-days)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from cryptography import x509

from federation.config.model import StackSettings
from federation.doctor.model import Row

# Days left below which a certificate row warns (--cert-warn-days). Swarm renews a connected
# node's certificate at 50-80% of its lifetime: with Docker's 90 days, 18 days or more are left.
CERT_WARN_DAYS = 14
# A connected node renews by itself; one offline past its certificate's expiry cannot rejoin.
RENEW_FIX = (
    "swarm renews a connected node's certificate by itself: check that the node is connected "
    "to the managers and its clock is right; a node offline past its expiry cannot rejoin, so "
    "rotate the CA first (swarm.caRotation) or remove and re-add it; docs/doctor.md"
)
EXPIRED_FIX = (
    "an expired node cannot rejoin: remove it (docker swarm leave --force on it, docker node rm "
    "on a manager) and run pulumi up to join it again; docs/doctor.md"
)
UNREAD_FIX = (
    "let the SSH user (ssh.user) read swarm-node.crt: root, or passwordless sudo for cat; "
    "docs/doctor.md"
)


def not_after(pem: str) -> datetime:
    """The expiry of the first certificate in `pem` (swarm-node.crt holds the node's own first,
    then any intermediate); ValueError when there is none."""
    return x509.load_pem_x509_certificates(pem.encode())[0].not_valid_after_utc


def _left(delta: timedelta) -> str:
    days = delta.days
    if days >= 1:
        return f"{days} day{'s' if days != 1 else ''} left"
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min left"


def certificate_row(name: str, printed: str, now: datetime, warn_days: int) -> Row | None:
    """The row for one node from node_certificate.sh's output; None for a node in no swarm
    (its swarm row says so)."""
    expected = f"valid, {warn_days}+ days left"
    text = printed.strip()
    if text.startswith("absent "):
        return None
    if text.startswith("unread "):
        actual = f"not measured: cannot read {text.removeprefix('unread ')}"
        return Row("certificate", name, expected, actual, "WARN", UNREAD_FIX)
    try:
        expiry = not_after(text)
    except ValueError:
        actual = f"not measured: no certificate in {text[:100]!r}"
        return Row("certificate", name, expected, actual, "WARN", UNREAD_FIX)
    when = f"{expiry:%Y-%m-%d %H:%M} UTC"
    left = expiry - now
    if left <= timedelta(0):
        return Row("certificate", name, expected, f"expired {when}", "ERROR", EXPIRED_FIX)
    actual = f"expires {when}, {_left(left)}"
    if left < timedelta(days=warn_days):
        return Row("certificate", name, expected, actual, "WARN", RENEW_FIX)
    return Row("certificate", name, expected, actual, "OK")


def certificate_rows(
    settings: StackSettings, printed: Mapping[str, str], now: datetime, warn_days: int
) -> list[Row]:
    """One row per node in stack order whose certificate could be asked for (`printed`: node
    name -> node_certificate.sh's output; an unreachable node has none, its rows say why)."""
    rows = []
    for node in settings.nodes:
        if node.name in printed:
            found = certificate_row(node.name, printed[node.name], now, warn_days)
            if found is not None:
                rows.append(found)
    return rows
