# Data-plane probe, run on every node: prove the overlay carries traffic from this host to the
# leader's side. A short-lived container in the network namespace of this node's own Exareme task
# (IMAGE: one the stack deploys, with busybox's sh, nslookup and nc) runs INNER (probe_inner.sh): resolve TARGET by the overlay's DNS, then open a
# TCP connection to TARGET:PORT, retrying for DEADLINE seconds. Inputs: NODE, LEADER (yes on the
# leader), LEADER_ADDR, NETWORK, ENCRYPTED (true/false), IMAGE, INNER, TARGET, PORT, DEADLINE,
# SERVICE (the Exareme service whose task runs on this node), TASK_WAIT (seconds).
# A node whose leader does not answer on TCP 2377 at all (its host is down) skips the probe.
# Prints one line, `NODE ADDR STAGE DETAIL` (STAGE: ok, state, task, run, resolve, connect), that
# probe_verdict.sh classifies with the leader's gossip peers. On failure, also says on stderr what
# this host alone can tell, naming the likely port, and exits 20.
# Leaves nothing behind: the container is removed (--rm, and again on exit or hang-up), and a
# leftover of an interrupted run is removed first; so are the wait's event watcher and its temp
# file. Changes nothing else on the host.
set -eu
command -v docker >/dev/null 2>&1 || { echo "node $NODE: docker is not installed or not on PATH for $(id -un)" >&2; exit 10; }
state=$(docker info --format '{{.Swarm.LocalNodeState}}') || { echo "node $NODE: cannot talk to the Docker daemon (is dockerd running, may $(id -un) use it?)" >&2; exit 11; }
addr=$(docker info --format '{{.Swarm.NodeAddr}}')
if [ "$state" != active ]; then
  echo "$NODE ${addr:--} state $state"
  echo "node $NODE: not in the swarm (state $state): control, TCP 2377 to the managers" >&2; exit 20
fi
if [ "$LEADER" != yes ] && ! timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/2377"' "$LEADER_ADDR" 2>/dev/null; then
  # The leader's host is down (or its 2377 closed to this node): its side cannot be proven now.
  echo "$NODE $addr skipped the leader $LEADER_ADDR does not answer on TCP 2377"
  echo "node $NODE: probe skipped: the leader ($LEADER_ADDR) does not answer on TCP 2377; run python -m federation.doctor STACK --probe once it is back" >&2
  exit 0
fi
# The probe's container shares the network namespace of this node's own Exareme task (SERVICE),
# waiting up to TASK_WAIT seconds for it to run: it proves the path Exareme itself uses. NETWORK is
# not attachable (no container outside the federation's services may join it), so a node whose
# task does not run cannot be probed: that is the finding (stage `task`).
running_task() {
  docker ps -q --filter "label=com.docker.swarm.service.name=$SERVICE" --filter status=running | head -n 1
}
# A task container that exited (an Exareme image exits at start without its RAW* settings): no
# point waiting for it.
exited_task() {
  docker ps -aq --filter "label=com.docker.swarm.service.name=$SERVICE" --filter status=exited | head -n 1
}
# Sets task: the running task's container, or empty once a task container died or the deadline
# passed. Waits on one `docker events` stream, from just before the first look, for a task
# container's start or death, instead of a `docker ps` per second (on 30 lab hosts sharing 2
# cores those CLI runs took the CPU the tasks starting beside them needed).
wait_for_task() {
  since=$(date +%s)
  task=$(running_task)
  [ -z "$task" ] && [ -z "$(exited_task)" ] || return 0
  : >"$events"
  docker events --since "$since" --filter type=container --filter event=start --filter event=die \
    --filter "label=com.docker.swarm.service.name=$SERVICE" --format '{{.Action}}' >"$events" 2>/dev/null &
  watcher=$!
  while [ ! -s "$events" ] && [ "$(date +%s)" -lt "$end" ] && kill -0 "$watcher" 2>/dev/null; do
    sleep 0.2
  done
  kill "$watcher" 2>/dev/null || true
  watcher=
  task=$(running_task)
}
name="mip-federation-probe-$NODE"
docker rm -f "$name" >/dev/null 2>&1 || true
events=$(mktemp)
watcher=
trap '[ -z "$watcher" ] || kill "$watcher" 2>/dev/null; rm -f "$events"; docker rm -f "$name" >/dev/null 2>&1 || true' EXIT HUP INT TERM
end=$(( $(date +%s) + TASK_WAIT ))
tries=0
while :; do
  wait_for_task
  if [ -z "$task" ]; then
    how="no task container on this host"
    [ -z "$(exited_task)" ] || how="its task container exited"
    line="task $SERVICE does not run here ($how)"
    break
  fi
  out=$(docker run --rm --name "$name" --label "mip-federation.probe=$NODE" --network "container:$task" \
    --log-driver none --entrypoint /bin/sh "$IMAGE" -c "$INNER" probe "$TARGET" "$PORT" "$DEADLINE" 2>&1) || true
  line=$(printf '%s\n' "$out" | grep -E '^(ok|resolve|connect) ' | tail -n 1) || true
  # The task's container may have stopped between `docker ps` and `docker run` (a restart of the
  # task): probe again in its new one.
  tries=$((tries + 1))
  if [ -n "$line" ] || [ "$tries" -ge 3 ] || [ "$(running_task)" = "$task" ]; then
    break
  fi
done
[ -n "$line" ] || line="run $(printf '%s' "$out" | tr '\n' ' ' | cut -c 1-300)"
echo "$NODE $addr $line"
set -f; set -- $line
stage=$1; shift; detail=$*
[ "$stage" != ok ] || exit 0
case "$stage:$LEADER:$detail" in
  task:*) cause="$detail: the probe runs inside this node's Exareme task, as $NETWORK is not attachable; check docker service ps $SERVICE on a manager (image pull, RAW* settings, the node's name label)" ;;
  run:*) cause="no probe container in the task $SERVICE: $detail" ;;
  *:yes:*) cause="$TARGET:$PORT does not answer on the leader itself ($stage $detail): is its service running?" ;;
  resolve:*) cause="$TARGET not resolved: gossip, TCP+UDP 7946 (the node never learnt its address)" ;;
  *refused*) cause="$TARGET:$PORT refused the connection ($detail): the overlay works, the service does not listen" ;;
  *)
    vxlan="VXLAN, UDP 4789"
    [ "$ENCRYPTED" != true ] || vxlan="ESP, IP protocol 50, or UDP 4789 (VXLAN inside ESP)"
    cause="no TCP connection to $TARGET:$PORT ($detail): $vxlan, or gossip, TCP+UDP 7946 if the leader's gossip lost this node (python -m federation.doctor STACK --probe tells which)" ;;
esac
echo "node $NODE ($addr): the overlay $NETWORK carries no traffic to the leader's side: $cause" >&2
exit 20
