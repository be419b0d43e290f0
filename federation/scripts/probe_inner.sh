# Runs inside the probe container (busybox sh), arguments TARGET PORT DEADLINE: resolve TARGET by
# the overlay's DNS (nslookup: busybox's own resolver), then open a TCP connection to its address,
# retrying until DEADLINE seconds have passed. Prints `ok ADDR`, `resolve TARGET` (no address) or
# `connect ADDR:PORT ERROR` (the last failure).
set -eu
end=$(( $(date +%s) + $3 ))
last="resolve $1"
while :; do
  ip=$(nslookup "$1" 2>/dev/null | awk '/^Name:/ { n = 1 } n && /^Address/ { print $NF; exit }')
  if [ -n "$ip" ]; then
    if err=$(nc -w 3 "$ip" "$2" </dev/null 2>&1 >/dev/null); then echo "ok $ip"; exit 0; fi
    last="connect $ip:$2 $(printf '%s' "${err:-failed}" | tr '\n' ' ')"
  fi
  [ "$(date +%s)" -lt "$end" ] || break
  sleep 1
done
echo "$last"
