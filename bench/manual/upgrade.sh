#!/usr/bin/env bash
# Upgrade Exareme by hand: each Exareme service moved to NEW_IMAGE with `docker service update`,
# the master first, then each worker, serially over SSH (the keystore keeps its image). Swarm's
# default update (one task at a time, stop-first) replaces each service's one task.
source "$(dirname "$0")/common.sh"
: "${NEW_IMAGE:?}"

step master-upgrade on "$MANAGER_IP" docker service update --detach --image "$NEW_IMAGE" \
  exareme-master >/dev/null
while read -r alias _; do
  step "upgrade-$alias" on "$MANAGER_IP" docker service update --detach --image "$NEW_IMAGE" \
    "exareme-worker-$alias" >/dev/null
done < <(workers)
