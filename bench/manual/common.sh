# shellcheck shell=bash disable=SC2034 # the variables are used by the scripts that source this
# Shared by the scripts here (deploy, re-run, add, remove, upgrade, teardown): the node list and
# a plain `ssh` per command.
# Environment: NODES_FILE (lines "alias ip hostname role", the manager first), SSH_KEY,
# KNOWN_HOSTS, KEYSTORE_ARGS_FILE (the keystore's arguments as shell words, parsed again by the
# remote shell); optional STEP_LOG (a line "step start end" per timed step, epoch seconds).
# Every remote command is its own `ssh` connection, as an operator typed them in 2018.
set -eu

: "${NODES_FILE:?}" "${SSH_KEY:?}" "${KNOWN_HOSTS:?}" "${KEYSTORE_ARGS_FILE:?}"

NETWORK=mip-federation
SUBNET=10.20.30.0/24
GATEWAY=10.20.30.254
EXAREME_IMAGE=hbpmip/exareme:v5
KEYSTORE_IMAGE=hashicorp/consul:1.15.4
EXAREME_PORT=9090

read -r MANAGER_ALIAS MANAGER_IP MANAGER_HOST _ < "$NODES_FILE"
WORKER_COUNT=$(($(wc -l < "$NODES_FILE") - 1))
export MANAGER_ALIAS MANAGER_IP MANAGER_HOST WORKER_COUNT

on() { # on IP COMMAND...: run COMMAND on the host over a new ssh connection (ssh joins the
  # words with spaces and the remote shell parses them again, so quotes in them apply there)
  local ip=$1
  shift
  ssh -F /dev/null -i "$SSH_KEY" -o IdentitiesOnly=yes -o BatchMode=yes \
    -o UserKnownHostsFile="$KNOWN_HOSTS" -o StrictHostKeyChecking=yes -o LogLevel=ERROR \
    "root@$ip" "$@" </dev/null
}

step() { # step NAME COMMAND...: run and record how long it took
  local name=$1 start
  shift
  start=$(date +%s.%N)
  "$@"
  [ -z "${STEP_LOG:-}" ] || echo "$name $start $(date +%s.%N)" >> "$STEP_LOG"
}

workers() { tail -n +2 "$NODES_FILE"; }

service_names() {
  echo exareme-keystore
  echo exareme-master
  workers | while read -r alias _; do echo "exareme-worker-$alias"; done
}

raw_env() { # raw_env IP ALIAS: the LDSM variables of a node, as docker service create options
  printf -- '--env %s ' RAWUSERNAME=ldsm "RAWPASSWORD=ldsm-pw-$2" "RAWHOST=$1" RAWPORT=31555 RAWDB=ldsm \
    RAWENDPOINT=query RAWRESULTS=all RAWDATAKEY=output
}

common_opts() { # common_opts NAME ROLE ALIAS: what every Exareme service shares
  printf -- '--detach --name %s --network name=%s,alias=%s --endpoint-mode dnsrr ' "$1" "$NETWORK" "$1"
  printf -- '--restart-condition on-failure --restart-delay 5s --restart-max-attempts 0 '
  printf -- '--restart-window 0s '
  printf -- "--constraint 'node.role == %s' --constraint 'node.labels.name == %s' " "$2" "$3"
}

create_keystore() {
  # shellcheck disable=SC2046 # the options are words on purpose
  on "$MANAGER_IP" docker service create $(common_opts exareme-keystore manager "$MANAGER_ALIAS") \
    "$KEYSTORE_IMAGE" "$(cat "$KEYSTORE_ARGS_FILE")" >/dev/null
}

create_master() {
  # shellcheck disable=SC2046
  on "$MANAGER_IP" docker service create $(common_opts exareme-master manager "$MANAGER_ALIAS") \
    --publish "mode=host,published=$EXAREME_PORT,target=$EXAREME_PORT" \
    --env CONSULURL=exareme-keystore:8500 --env MODE=global --env MASTER_FLAG=master \
    --env "NODE_NAME=$MANAGER_ALIAS" --env "EXA_WORKERS_WAIT=$WORKER_COUNT" \
    $(raw_env "$MANAGER_IP" "$MANAGER_ALIAS") "$EXAREME_IMAGE" >/dev/null
}

create_worker() { # create_worker ALIAS IP
  # shellcheck disable=SC2046
  on "$MANAGER_IP" docker service create $(common_opts "exareme-worker-$1" worker "$1") \
    --env CONSULURL=exareme-keystore:8500 --env MODE=global --env "NODE_NAME=$1" \
    $(raw_env "$2" "$1") "$EXAREME_IMAGE" >/dev/null
}
