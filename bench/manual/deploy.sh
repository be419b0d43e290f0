#!/usr/bin/env bash
# The 2018 manual procedure (hbp-sp8-mip-federation: setupFederationInfrastructure.sh, the
# join instructions of its README, start.sh), run serially over SSH from one workstation:
# swarm init on the manager, join each worker, label each node, create the overlay network,
# create each service. `--detach`: start.sh used `docker stack deploy`, which does not wait for
# tasks either (without it the CLI waits ~5 s per service for the task to be "stable").
source "$(dirname "$0")/common.sh"

step init on "$MANAGER_IP" docker swarm init --advertise-addr "$MANAGER_IP" >/dev/null
TOKEN=$(on "$MANAGER_IP" docker swarm join-token -q worker)
while read -r alias ip _; do
  step "join-$alias" on "$ip" docker swarm join --token "$TOKEN" "$MANAGER_IP:2377" >/dev/null
done < <(workers)
while read -r alias _ host _; do
  step "label-$alias" on "$MANAGER_IP" docker node update --label-add "name=$alias" "$host" >/dev/null
done < "$NODES_FILE"
step network on "$MANAGER_IP" docker network create --driver=overlay --attachable \
  --subnet="$SUBNET" --ip-range="$SUBNET" --gateway="$GATEWAY" "$NETWORK" >/dev/null
step service-exareme-keystore create_keystore
step service-exareme-master create_master
while read -r alias ip _; do
  step "service-exareme-worker-$alias" create_worker "$alias" "$ip"
done < <(workers)
