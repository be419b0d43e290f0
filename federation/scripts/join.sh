# Join this host to the federation swarm. Inputs: NODE (alias), MANAGER_ADDRS (every manager's
# host:2377, space-separated, in stack order; the preflight wants one of them reachable; Docker
# dials the request's first RemoteAddrs entry, the control manager's). stdin: the Docker API's
# SwarmJoin request (it holds the join token, so it never appears in argv).
# Already a member of this swarm: no change. Member of another swarm: refused. Prints the node id.
# IMAGES: what this node will run, pulled in the background.
set -eu
command -v docker >/dev/null 2>&1 || { echo "node $NODE: docker is not installed or not on PATH for $(id -un)" >&2; exit 10; }
command -v curl >/dev/null 2>&1 || { echo "node $NODE: curl is not installed; install it (it carries the join token to the Docker API on stdin)" >&2; exit 10; }
state=$(docker info --format '{{.Swarm.LocalNodeState}}') || { echo "node $NODE: cannot talk to the Docker daemon (is dockerd running, may $(id -un) use it?)" >&2; exit 11; }
case "$state" in
  active)
    managers=$(docker info --format '{{range .Swarm.RemoteManagers}} {{.Addr}}{{end}}')
    member=no
    for addr in $MANAGER_ADDRS; do
      case "$managers " in *" $addr "*) member=yes ;; esac
    done
    [ "$member" = yes ] || { echo "node $NODE: already belongs to another swarm (managers:$managers); refusing to change it ('docker swarm leave' on it first if it must join this federation)" >&2; exit 12; } ;;
  inactive | pending | error)
    [ "$state" = inactive ] || docker swarm leave --force >/dev/null 2>&1 || true
    reachable=
    for addr in $MANAGER_ADDRS; do
      host=${addr%:*}; host=${host#[}; host=${host%]}; port=${addr##*:}
      if timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null; then reachable=$addr; break; fi
    done
    [ -n "$reachable" ] || { echo "node $NODE: cannot reach any swarm manager ($MANAGER_ADDRS) on its swarm port (tcp); open 2377/tcp to the managers from this node (and 7946/tcp+udp, 4789/udp, ESP between all nodes)" >&2; exit 14; }
    response=$(mktemp)
    trap 'rm -f "$response"' EXIT
    code=$(curl -sS --unix-socket /var/run/docker.sock -o "$response" -w '%{http_code}' \
      -X POST -H 'Content-Type: application/json' --data-binary @- http://localhost/swarm/join) || code=000
    [ "$code" = 200 ] || { echo "node $NODE: joining the swarm failed (HTTP $code): $(head -c 500 "$response"); the join dials the control manager (swarm.controlManager): it must be up and reachable" >&2; exit 15; } ;;
  *)
    echo "node $NODE: swarm state is '$state'; repair or leave that swarm first" >&2; exit 13 ;;
esac
# Pull IMAGES in the background, detached from this session: the tasks this node will run find
# them here instead of pulling when they are scheduled, after the network and the services.
# Best effort: a task pulls whatever is still missing.
for image in $IMAGES; do nohup docker pull -q "$image" </dev/null >/dev/null 2>&1 & done
node_id=$(docker info --format '{{.Swarm.NodeID}}')
[ -n "$node_id" ] || { echo "node $NODE: joined, but Docker reports no node id yet; run again" >&2; exit 16; }
mkdir -p "$HOME/.mip-federation" && printf '%s\n' "$NODE" > "$HOME/.mip-federation/member"
echo "$node_id"
