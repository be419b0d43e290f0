# Make this host leave the swarm (delete step). Input: NODE (alias).
# Skips a host that another node entry has taken over (a rename), and succeeds when already out.
set -eu
command -v docker >/dev/null 2>&1 || { echo "node $NODE: docker is gone; nothing to leave"; exit 0; }
marker="$HOME/.mip-federation/member"
if [ -f "$marker" ] && [ "$(cat "$marker")" != "$NODE" ]; then
  echo "node $NODE: this host now belongs to node '$(cat "$marker")'; not leaving"; exit 0
fi
state=$(docker info --format '{{.Swarm.LocalNodeState}}') || { echo "node $NODE: cannot talk to the Docker daemon; cannot confirm it left the swarm" >&2; exit 11; }
# A node the leader has just removed may time out leaving ("context deadline exceeded") while
# it still tries to reach the managers: check, and try once more, before calling it a failure.
if [ "$state" != inactive ] && ! docker swarm leave --force >/dev/null 2>&1; then
  sleep 2
  [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" = inactive ] || docker swarm leave --force >/dev/null
fi
rm -f "$marker"
rmdir "$HOME/.mip-federation" 2>/dev/null || true
echo "node $NODE: out of the swarm"
