#!/usr/bin/env bash
# Remove one hospital by hand: its worker service, the master's EXA_WORKERS_WAIT lowered to the
# new count, the host leaves the swarm and the manager forgets the node. NODES_FILE lists the
# federation without the node; REMOVE_ALIAS, REMOVE_IP and REMOVE_HOST name it.
source "$(dirname "$0")/common.sh"
: "${REMOVE_ALIAS:?}" "${REMOVE_IP:?}" "${REMOVE_HOST:?}"

step "service-rm-$REMOVE_ALIAS" on "$MANAGER_IP" docker service rm "exareme-worker-$REMOVE_ALIAS" >/dev/null
step master-update on "$MANAGER_IP" docker service update --detach \
  --env-add "EXA_WORKERS_WAIT=$WORKER_COUNT" exareme-master >/dev/null
step "leave-$REMOVE_ALIAS" on "$REMOVE_IP" docker swarm leave >/dev/null
for _ in $(seq 30); do # the manager sees the node down a moment after it left
  on "$MANAGER_IP" docker node rm "$REMOVE_HOST" >/dev/null 2>&1 && break
  sleep 0.5
done
