# On the control manager: turn swarm autolock on or off (AUTOLOCK=true|false). When on, print the
# unlock key (the resource marks its stdout secret and never logs it). Inputs: NODE, AUTOLOCK.
# A manager whose swarm is already gone has nothing to turn off.
set -eu
state=$(docker info --format '{{.Swarm.LocalNodeState}}') || { echo "node $NODE: cannot talk to the Docker daemon" >&2; exit 11; }
if [ "$state" = inactive ] && [ "$AUTOLOCK" = false ]; then
  echo "node $NODE: not in a swarm; autolock is off"; exit 0
fi
[ "$state" != locked ] || { echo "node $NODE: is locked; unlock it first with the key on stdin (README: Autolock)" >&2; exit 12; }
[ "$(docker info --format '{{.Swarm.ControlAvailable}}')" = true ] || { echo "node $NODE: is not an active swarm manager; set swarm.controlManager to a manager that works" >&2; exit 12; }
# Only when it differs: the command runs again whenever its connection changes.
current=$(docker info --format '{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}')
[ "$current" = "$AUTOLOCK" ] || docker swarm update --autolock="$AUTOLOCK" >/dev/null
if [ "$AUTOLOCK" = true ]; then
  key=$(docker swarm unlock-key -q)
  [ -n "$key" ] || { echo "node $NODE: the swarm did not report its unlock key; run again" >&2; exit 16; }
  printf '%s\n' "$key"
fi
