#!/usr/bin/env bash
# Undo the 2018 deployment serially over SSH: remove each service, the network (retried while
# the removed tasks still hold endpoints), make each worker leave, then the manager.
source "$(dirname "$0")/common.sh"

while read -r name; do
  on "$MANAGER_IP" docker service rm "$name" >/dev/null
done < <(service_names)
for _ in $(seq 60); do
  on "$MANAGER_IP" docker network rm "$NETWORK" >/dev/null 2>&1 && break
  sleep 1
done
while read -r _ ip _; do
  on "$ip" docker swarm leave >/dev/null
done < <(workers)
on "$MANAGER_IP" docker swarm leave --force >/dev/null
