# Read-only, for the doctor: this node's swarm TLS certificate (public, PEM) where swarmkit keeps
# it, under Docker's root directory (/var/lib/docker when the daemon does not answer: the file
# outlives it). Read as the SSH user, else with passwordless sudo. Prints the PEM, `absent FILE`
# (the node is in no swarm), or `unread REASON`.
set -eu
dir=$(docker info --format '{{.DockerRootDir}}' 2>/dev/null) || dir=""
[ -n "$dir" ] || dir=/var/lib/docker
file="$dir/swarm/certificates/swarm-node.crt"
if [ -r "$file" ]; then cat "$file"; exit 0; fi
if [ "$(id -u)" = 0 ]; then echo "absent $file"; exit 0; fi
sudo -n cat "$file" 2>/dev/null || echo "unread $file: not in a swarm, or $(id -un) may not read it (root or passwordless sudo for cat)"
