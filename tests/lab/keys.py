"""SSH keys of the lab, kept in the git-ignored .lab/ folder and generated only when missing:
the client key root logs in with, and one host key per host name."""

import subprocess
from pathlib import Path

from .paths import CLIENT_KEY, KEYS, KNOWN_HOSTS


def host_key_file(host: str) -> Path:
    return KEYS / "hosts" / host / "ssh_host_ed25519_key"


def ensure_key(path: Path, comment: str) -> None:
    if path.exists() and path.with_suffix(".pub").exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
    )


def ensure_client_key() -> None:
    ensure_key(CLIENT_KEY, "mip-lab client")


def public_key(path: Path) -> str:
    """The public key of a private key file, as "type base64" without comment."""
    kind, data = path.with_suffix(".pub").read_text().split()[:2]
    return f"{kind} {data}"


def pin_host_keys(keys: dict[str, str]) -> None:
    """Write `address public-key` lines to the lab's known_hosts, replacing older lines for the
    same addresses and keeping the others (other labs)."""
    lines = KNOWN_HOSTS.read_text().splitlines() if KNOWN_HOSTS.exists() else []
    kept = [line for line in lines if line.split(" ", 1)[0] not in keys]
    KNOWN_HOSTS.write_text(
        "".join(f"{line}\n" for line in kept + [f"{a} {k}" for a, k in keys.items()])
    )
