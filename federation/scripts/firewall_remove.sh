# Removes what firewall.sh set up: the jumps to CHAIN, then CHAIN itself. Inputs: CHAIN.
# Idempotent: what is already gone is skipped.
set -eu
root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
while root iptables -w -D DOCKER-USER -o docker_gwbridge -j "$CHAIN" 2>/dev/null; do :; done
if root iptables -w -n -L "$CHAIN" >/dev/null 2>&1; then
  root iptables -w -F "$CHAIN"
  root iptables -w -X "$CHAIN"
fi
if command -v ip6tables >/dev/null 2>&1; then
  while root ip6tables -w -D INPUT -j "$CHAIN" 2>/dev/null; do :; done
  if root ip6tables -w -n -L "$CHAIN" >/dev/null 2>&1; then
    root ip6tables -w -F "$CHAIN"
    root ip6tables -w -X "$CHAIN"
  fi
fi
