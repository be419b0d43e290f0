"""Where the lab keeps keys, state and the hosts' disks; the environment of host commands."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KEYS = REPO / ".lab"  # git-ignored: ssh keys, stable across up/down
CLIENT_KEY = KEYS / "id_ed25519"
KNOWN_HOSTS = KEYS / "known_hosts"
STATE = Path("/run/mip-lab")  # one JSON file per running lab
DATA = Path("/var/lib/mip-lab")  # one directory per host, the host's "disks"
NETNS = Path("/run/netns")  # where `ip netns` pins network namespaces
SCRIPTS = Path(__file__).parent / "scripts"
STANDIN = Path(__file__).parent / "standin"

# Directories each host gets its own copy of: bind mounts of DATA/<host>/<same path>, made by
# scripts/boot.sh from the same list.
PRIVATE_DIRS = ("/run", "/var/lib/docker", "/etc/docker", "/root", "/tmp")

# Environment of every process started on a host: what a root login on Debian would have.
HOST_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "USER": "root",
    "LANG": "C.UTF-8",
}
