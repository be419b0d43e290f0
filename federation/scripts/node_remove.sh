# On the leader (delete step): drain node NODE_ID, demote it and remove it from the swarm; for the
# leader itself (KEEP_NODE=yes) only drop its label. Inputs: NODE, NODE_ID, KEEP_NODE.
# Succeeds when the node is already gone; leaves alone a node relabelled by another entry (rename).
set -eu
# include: node_update
state=$(docker info --format '{{.Swarm.LocalNodeState}}') || { echo "node $NODE: cannot talk to the leader's Docker daemon" >&2; exit 11; }
[ "$state" = active ] || { echo "node $NODE: the leader is no longer in a swarm; nothing to remove"; exit 0; }
current=$(docker node inspect --format '{{index .Spec.Labels "name"}}' "$NODE_ID" 2>/dev/null) || { echo "node $NODE: already removed"; exit 0; }
[ "$current" = "$NODE" ] || { echo "node $NODE: $NODE_ID is now labelled '$current'; leaving it in place"; exit 0; }
if [ "$KEEP_NODE" = yes ]; then
  node_update --label-rm name "$NODE_ID"; exit 0
fi
node_update --availability drain "$NODE_ID"
waited=0
while [ -n "$(docker node ps -q --filter desired-state=running "$NODE_ID")" ] && [ "$waited" -lt 30 ]; do
  sleep 1; waited=$((waited + 1))
done
[ "$(docker node inspect --format '{{.Spec.Role}}' "$NODE_ID")" != manager ] || node_update --role worker "$NODE_ID"
docker node rm --force "$NODE_ID" >/dev/null
echo "node $NODE: drained and removed"
