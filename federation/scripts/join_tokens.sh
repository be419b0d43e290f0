# On the control manager: print the swarm's current join tokens as one JSON line; with ROTATE=yes,
# rotate both first (nodes already in the swarm are not affected; the old tokens stop working).
# Inputs: NODE (alias), ROTATE (yes|no). The resource marks its stdout secret and never logs it.
set -eu
control=$(docker info --format '{{.Swarm.ControlAvailable}}') || { echo "node $NODE: cannot talk to the Docker daemon" >&2; exit 11; }
[ "$control" = true ] || { echo "node $NODE: is not an active swarm manager (locked, without quorum or not a manager); unlock it, or set swarm.controlManager to a manager that works" >&2; exit 12; }
if [ "$ROTATE" = yes ]; then
  docker swarm join-token --rotate -q worker >/dev/null
  docker swarm join-token --rotate -q manager >/dev/null
fi
worker_token=$(docker swarm join-token -q worker)
manager_token=$(docker swarm join-token -q manager)
[ -n "$worker_token" ] && [ -n "$manager_token" ] || { echo "node $NODE: the swarm did not report its join tokens; run again" >&2; exit 16; }
printf '{"workerToken":"%s","managerToken":"%s"}\n' "$worker_token" "$manager_token"
