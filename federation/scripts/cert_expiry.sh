# On the control manager: set the node certificates' lifetime (EXPIRY, a Go duration as Docker
# prints it, e.g. 2160h0m0s). Nodes take it at their next renewal, or at a CA rotation.
# Inputs: NODE, EXPIRY. A manager whose swarm is already gone has nothing to set.
set -eu
state=$(docker info --format '{{.Swarm.LocalNodeState}}') || { echo "node $NODE: cannot talk to the Docker daemon" >&2; exit 11; }
if [ "$state" = inactive ]; then
  echo "node $NODE: not in a swarm; nothing to set"; exit 0
fi
[ "$(docker info --format '{{.Swarm.ControlAvailable}}')" = true ] || { echo "node $NODE: is not an active swarm manager (locked, without quorum or not a manager); unlock it, or set swarm.controlManager to a manager that works" >&2; exit 12; }
# Only when it differs: the command runs again whenever its connection changes.
current=$(docker info --format '{{.Swarm.Cluster.Spec.CAConfig.NodeCertExpiry}}')
[ "$current" = "$EXPIRY" ] || docker swarm update --cert-expiry "$EXPIRY" >/dev/null
echo "node certificates expire after $EXPIRY"
