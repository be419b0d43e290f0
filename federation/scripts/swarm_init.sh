# Create the federation swarm on the leader, or adopt the swarm this host already manages.
# Inputs: NODE (alias), ADVERTISE_ADDR, IMAGES (what the leader will run, pulled in the
# background). Prints one JSON line with the swarm id and the node id; the join tokens are read by
# swarm-join-tokens (join_tokens.sh) alone, so that no other output holds them.
set -eu
command -v docker >/dev/null 2>&1 || { echo "node $NODE: docker is not installed or not on PATH for $(id -un)" >&2; exit 10; }
state=$(docker info --format '{{.Swarm.LocalNodeState}}') || { echo "node $NODE: cannot talk to the Docker daemon (is dockerd running, may $(id -un) use it?)" >&2; exit 11; }
case "$state" in
  inactive)
    docker swarm init --advertise-addr "$ADVERTISE_ADDR" >/dev/null
    # No routing mesh: every published port is in host mode. Without the ingress network a
    # joining node sets up no ingress sandbox (network namespace, VXLAN, iptables rules).
    echo y | docker network rm ingress >/dev/null ;;
  active)
    [ "$(docker info --format '{{.Swarm.ControlAvailable}}')" = true ] || { echo "node $NODE: is a worker of another swarm; refusing to change it (run 'docker swarm leave' on it if it must lead this federation)" >&2; exit 12; }
    addr=$(docker info --format '{{.Swarm.NodeAddr}}')
    [ "$addr" = "$ADVERTISE_ADDR" ] || { echo "node $NODE: already manages a swarm advertised on $addr, not $ADVERTISE_ADDR; refusing to change it" >&2; exit 12; } ;;
  *)
    echo "node $NODE: swarm state is '$state'; repair or leave that swarm first" >&2; exit 13 ;;
esac
# Pull IMAGES in the background, detached from this session: the tasks this node will run find
# them here instead of pulling when they are scheduled, after the network and the services.
# Best effort: a task pulls whatever is still missing.
for image in $IMAGES; do nohup docker pull -q "$image" </dev/null >/dev/null 2>&1 & done
mkdir -p "$HOME/.mip-federation" && printf '%s\n' "$NODE" > "$HOME/.mip-federation/member"
# Plain assignments, so that set -e stops on a failure (a command substitution inside printf's
# arguments would not): a recorded empty node id would label no node.
swarm_id=$(docker info --format '{{.Swarm.Cluster.ID}}')
node_id=$(docker info --format '{{.Swarm.NodeID}}')
[ -n "$swarm_id" ] && [ -n "$node_id" ] || { echo "node $NODE: the swarm did not report its id and node id; run again" >&2; exit 16; }
printf '{"swarmId":"%s","nodeId":"%s"}\n' "$swarm_id" "$node_id"
