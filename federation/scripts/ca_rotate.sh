# On the control manager: with ROTATE=yes, rotate the swarm's root CA; `docker swarm ca --rotate`
# returns once every node has a certificate from the new CA, so the nodes stay Ready. With
# ROTATE=no (a connection change) only check the manager. Inputs: NODE, ROTATE (yes|no).
set -eu
control=$(docker info --format '{{.Swarm.ControlAvailable}}') || { echo "node $NODE: cannot talk to the Docker daemon" >&2; exit 11; }
[ "$control" = true ] || { echo "node $NODE: is not an active swarm manager (locked, without quorum or not a manager); unlock it, or set swarm.controlManager to a manager that works" >&2; exit 12; }
if [ "$ROTATE" = yes ]; then
  docker swarm ca --rotate --quiet >/dev/null
fi
echo "node $NODE: swarm CA checked (ROTATE=$ROTATE)"
