# Data-plane verdict, run on the leader after every node's probe.sh: one line per node,
# `NODE ok|fail|unknown MESSAGE`, naming the likely port or protocol of a failure. Inputs: LEADER
# (its node name), NETWORK, ENCRYPTED (true/false), TARGET, PORT, RESULTS (probe.sh's lines),
# SAMPLES (how many times, a second apart, the peers are read after a connection failure).
# The overlay's gossip peers on the leader (`docker network inspect -v`) tell a node the leader's
# gossip lost (TCP+UDP 7946) from one whose VXLAN packets are dropped (UDP 4789; inside ESP when
# the overlay is encrypted). Exits 1 when a node failed. Read-only.
set -eu
# The leader's gossip may drop and re-admit a node whose inbound 7946 is blocked (the node's own
# push/pull over TCP refutes its death): after a connection failure, sample the peers.
case "$RESULTS" in *" connect "*) samples=$SAMPLES ;; *) samples=1 ;; esac
peers="" n=0
while :; do
  peers="$peers
 $(docker network inspect -v --format '{{range .Peers}}{{.IP}} {{end}}' "$NETWORK" 2>/dev/null || true) "
  n=$((n + 1))
  [ "$n" -lt "$samples" ] || break
  sleep 1
done
leader_ok=no
case "
$RESULTS" in *"
$LEADER "*" ok "*) leader_ok=yes ;; esac
failed=0
while read -r node addr stage detail; do
  [ -n "$node" ] || continue
  verdict=fail
  case "$stage" in
    ok) verdict=ok; message="reaches $TARGET:$PORT over $NETWORK" ;;
    skipped) message="not probed: $detail" ;;
    state) message="not in the swarm (state $detail): control, TCP 2377 to the managers" ;;
    task) message="not probed: $detail: the probe runs inside the node's own Exareme task ($NETWORK is not attachable); check docker service ps on a manager" ;;
    run) message="no probe container: $detail" ;;
    *)
      if [ "$node" = "$LEADER" ]; then
        message="$TARGET:$PORT does not answer on the leader itself ($stage $detail): is the service running?"
      elif [ "$leader_ok" = no ]; then
        verdict=unknown; message="cannot tell: $TARGET:$PORT does not answer on the leader itself"
      elif [ "$stage" = resolve ]; then
        message="$TARGET not resolved: gossip, TCP+UDP 7946 (the node never learnt its address)"
      else
        case "$detail" in
          *refused*) message="$TARGET:$PORT refused the connection: the overlay works, the service does not listen ($detail)" ;;
          *)
            if [ "$(printf '%s\n' "$peers" | grep -c -F " $addr ")" -eq "$samples" ]; then
              if [ "$ENCRYPTED" = true ]; then
                message="no TCP connection to $TARGET:$PORT ($detail): ESP, IP protocol 50, or UDP 4789 (the encrypted overlay carries VXLAN inside ESP; gossip works)"
              else
                message="no TCP connection to $TARGET:$PORT ($detail): VXLAN, UDP 4789 (gossip works)"
              fi
            else
              message="no TCP connection to $TARGET:$PORT ($detail): gossip, TCP+UDP 7946 (the leader's gossip lost this node)"
            fi ;;
        esac
      fi ;;
  esac
  echo "$node $verdict $message"
  [ "$verdict" = ok ] || failed=1
done <<END
$RESULTS
END
exit "$failed"
