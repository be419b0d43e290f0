# Read-only, for the doctor: the query port's firewall as firewall.sh leaves it. Prints lines
# `4 RULE` / `6 RULE` (`iptables -S CHAIN`), `4 jump yes|no` / `6 jump yes|no`, `6 inactive` on a
# host without IPv6, or `unread REASON`. Inputs: CHAIN.
set -eu
root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
root iptables -w -n -L DOCKER-USER >/dev/null 2>&1 || { echo "unread cannot read DOCKER-USER (root or passwordless sudo for iptables?)"; exit 0; }
root iptables -w -S "$CHAIN" 2>/dev/null | sed 's/^/4 /' || true
if root iptables -w -C DOCKER-USER -o docker_gwbridge -j "$CHAIN" 2>/dev/null; then echo "4 jump yes"; else echo "4 jump no"; fi
if [ ! -e /proc/net/if_inet6 ]; then echo "6 inactive"; exit 0; fi
root ip6tables -w -S "$CHAIN" 2>/dev/null | sed 's/^/6 /' || true
if root ip6tables -w -C INPUT -j "$CHAIN" 2>/dev/null; then echo "6 jump yes"; else echo "6 jump no"; fi
