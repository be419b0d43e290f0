#!/usr/bin/env bash
# Add one hospital by hand, as the 2018 README told an operator: join its host, label it, create
# its worker service, and raise the master's EXA_WORKERS_WAIT to the new count (a service
# update, which restarts the master's task). NODES_FILE lists the federation with the new node
# last; ADD_ALIAS names it.
source "$(dirname "$0")/common.sh"
: "${ADD_ALIAS:?}"

read -r _ ip host _ < <(grep "^$ADD_ALIAS " "$NODES_FILE")
TOKEN=$(on "$MANAGER_IP" docker swarm join-token -q worker)
step "join-$ADD_ALIAS" on "$ip" docker swarm join --token "$TOKEN" "$MANAGER_IP:2377" >/dev/null
step "label-$ADD_ALIAS" on "$MANAGER_IP" docker node update --label-add "name=$ADD_ALIAS" "$host" >/dev/null
step "service-exareme-worker-$ADD_ALIAS" create_worker "$ADD_ALIAS" "$ip"
step master-update on "$MANAGER_IP" docker service update --detach \
  --env-add "EXA_WORKERS_WAIT=$WORKER_COUNT" exareme-master >/dev/null
