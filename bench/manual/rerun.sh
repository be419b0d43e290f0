#!/usr/bin/env bash
# The 2018 procedure cannot simply be run twice: `swarm init`/`swarm join` refuse a node that is
# already in a swarm, `network create` and `service create` refuse an existing name. This is
# what an operator runs instead: the same steps, each checked first (one ssh per check, as
# typed) and skipped when already done.
source "$(dirname "$0")/common.sh"

state() { on "$1" docker info --format '{{.Swarm.LocalNodeState}}'; }

[ "$(state "$MANAGER_IP")" = active ] ||
  on "$MANAGER_IP" docker swarm init --advertise-addr "$MANAGER_IP" >/dev/null
TOKEN=
while read -r alias ip _; do
  [ "$(state "$ip")" = active ] && continue
  [ -n "$TOKEN" ] || TOKEN=$(on "$MANAGER_IP" docker swarm join-token -q worker)
  on "$ip" docker swarm join --token "$TOKEN" "$MANAGER_IP:2377" >/dev/null
done < <(workers)
while read -r alias _ host _; do
  label=$(on "$MANAGER_IP" "docker node inspect --format '{{index .Spec.Labels \"name\"}}' $host")
  [ "$label" = "$alias" ] ||
    on "$MANAGER_IP" docker node update --label-add "name=$alias" "$host" >/dev/null
done < "$NODES_FILE"
on "$MANAGER_IP" docker network inspect "$NETWORK" >/dev/null 2>&1 ||
  on "$MANAGER_IP" docker network create --driver=overlay --attachable \
    --subnet="$SUBNET" --ip-range="$SUBNET" --gateway="$GATEWAY" "$NETWORK" >/dev/null
exists() { on "$MANAGER_IP" docker service inspect "$1" >/dev/null 2>&1; }
exists exareme-keystore || create_keystore
exists exareme-master || create_master
while read -r alias ip _; do
  exists "exareme-worker-$alias" || create_worker "$alias" "$ip"
done < <(workers)
