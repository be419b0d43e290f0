# Closes the Exareme master's query port on the leader to all but the portal and ALLOW4/ALLOW6.
# Inputs: NODE, CHAIN (our chain's name), PORT, ALLOW4 and ALLOW6 (space-separated networks in
# CIDR form, validated by the program). Idempotent: CHAIN's rules are replaced in one
# iptables-restore transaction (a declared chain is flushed first with --noflush), and each jump is
# inserted only when missing.
# IPv4: the port is published in host mode, so a connection from another host is DNATed to the
# task's docker_gwbridge address and crosses FORWARD, where dockerd jumps to DOCKER-USER first; its
# original port is matched with conntrack. The portal, a container on the leader's docker0, reaches
# the port through dockerd's userland proxy (dockerd skips its DNAT for docker0), not FORWARD.
# IPv6: dockerd's userland proxy answers on [::]:PORT itself, so that is closed in INPUT, but from
# the leader itself (lo).
set -eu
root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
need() {
  command -v "$1" >/dev/null 2>&1 || { echo "node $NODE: $1 is not installed (the query port's firewall needs it)" >&2; exit 10; }
}
need iptables-restore
root iptables -w -n -L DOCKER-USER >/dev/null 2>&1 || {
  echo "node $NODE: cannot read the DOCKER-USER chain: run as root or with passwordless sudo for iptables, and with dockerd managing iptables (its default)" >&2
  exit 12
}
{
  echo '*filter'
  echo ":$CHAIN - [0:0]"
  for source in $ALLOW4; do echo "-A $CHAIN -s $source -j RETURN"; done
  echo "-A $CHAIN -p tcp -m conntrack --ctstate DNAT --ctorigdstport $PORT -j REJECT --reject-with tcp-reset"
  echo COMMIT
} | root iptables-restore -w --noflush
root iptables -w -C DOCKER-USER -o docker_gwbridge -j "$CHAIN" 2>/dev/null ||
  root iptables -w -I DOCKER-USER -o docker_gwbridge -j "$CHAIN"
if [ -e /proc/net/if_inet6 ]; then
  need ip6tables-restore
  {
    echo '*filter'
    echo ":$CHAIN - [0:0]"
    echo "-A $CHAIN -i lo -j RETURN"
    for source in $ALLOW6; do echo "-A $CHAIN -s $source -j RETURN"; done
    echo "-A $CHAIN -p tcp -m tcp --dport $PORT -j REJECT --reject-with tcp-reset"
    echo COMMIT
  } | root ip6tables-restore -w --noflush
  root ip6tables -w -C INPUT -j "$CHAIN" 2>/dev/null || root ip6tables -w -I INPUT -j "$CHAIN"
fi
echo "node $NODE: TCP $PORT closed but to the portal and: ${ALLOW4:-} ${ALLOW6:-}"
