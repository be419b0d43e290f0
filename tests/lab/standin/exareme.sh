#!/bin/sh
# Stand-in for hbpmip/exareme (role exareme). Usage: exareme PORT [ARGUMENTS...]: the arguments
# given to the real image are ignored. Modelled on the image's start-up script, bootstrap.sh of
# HBPMedical/Exareme-docker at bedfac5 (2018-03-30), the last version whose master waits for
# EXA_WORKERS_WAIT workers (tests/lab/README.md says what is kept and what is not):
# - exits at start (status 0, as the script's bare `exit`) naming the first variable of RAW*,
#   MODE, NODE_NAME, CONSULURL that is unset or empty;
# - waits for a passing health check of the keystore at CONSULURL, then registers its overlay
#   (10.20.) address: a worker as available_workers/ADDRESS = NODE_NAME, or as
#   active_workers/NODE_NAME = ADDRESS when the federation already runs (active_workers/ is
#   listed); the master as master/NODE_NAME = ADDRESS;
# - a worker serves its page on PORT; the master polls available_workers/ every 2 s until it
#   lists EXA_WORKERS_WAIT workers, moves them to active_workers/NAME = ADDRESS, and only then
#   listens on PORT (/mining/query, /exa-view/: the active workers, each probed at its address).
#   A master that finds master/ registered (a restart) does not wait, as in the real script.
# Unlike the real image, a worker or master whose key is gone (a keystore restart) registers again
# within 5 s, and the master then takes in the workers that offer themselves.
set -eu
. /lab/http

port=$1
[ "$1" != request ] || port=$2 # "exareme request PORT": one connection to PORT
kv=http://${CONSULURL#http://}/v1/kv
state=/run/exareme # address: this container's overlay address

keys_under() { tr -d '[]"' | tr , '\n' | sed -n "s|^$1/||p"; }

# probe NAME ADDRESS: the worker as one JSON object, reachable when its page names it.
probe() {
	reachable=false
	if REQUEST_TIMEOUT=1 request GET "$2:$port/" | grep -q "NODE_NAME=$1<"; then
		reachable=true
	fi
	printf '{"name":"%s","address":"%s","reachable":%s}\n' "$1" "$2" "$reachable"
}

# active_workers: "NAME ADDRESS" per active worker, read with one request (?recurse): one request
# per worker, all at once, overflowed the keystore's listen queue (busybox nc) at 29 workers.
active_workers() {
	request GET "$kv/active_workers/?recurse" | tr '{' '\n' |
		sed -n 's|.*"Key":"active_workers/\([^"]*\)".*"Value":"\([^"]*\)".*|\1 \2|p' |
		while read -r name value; do echo "$name $(echo "$value" | base64 -d)"; done
}

federation() {
	found=$(mktemp -d)
	active_workers | {
		while read -r name address; do
			probe "$name" "$address" >"$found/$name" &
		done
		wait
	}
	printf '{"master":"%s","address":"%s","workers_wait":%s,"workers":%s}\n' "$NODE_NAME" \
		"$(cat $state/address)" "${EXA_WORKERS_WAIT:-null}" "$(cat "$found"/* </dev/null | json_list)"
	rm -r "$found"
}

if [ "$1" = request ]; then
	read_request
	case ${MASTER_FLAG-}:$path in
	master:/mining/query | master:/exa-view/*) federation | respond "200 OK" application/json ;;
	*:/env) public_env | respond "200 OK" text/plain ;;
	*:/ | *:/exa-view/index.html) page exareme | respond "200 OK" text/html ;;
	*) respond "404 Not Found" text/plain </dev/null ;;
	esac
	exit
fi

for name in RAWUSERNAME RAWPASSWORD RAWHOST RAWPORT RAWENDPOINT RAWRESULTS RAWDATAKEY MODE \
	NODE_NAME RAWDB CONSULURL; do
	if eval "[ -z \"\${$name-}\" ]"; then
		echo "$name is unset"
		exit 0
	fi
done

# As the real script: the first 10.20. address that ifconfig shows.
address=$(ifconfig | grep 'inet ' | awk -F: '{print $2}' | grep '10.20' | awk '{print $1}' | head -n 1)
if [ -z "$address" ]; then
	echo "no 10.20. address: Exareme needs the mip-federation overlay inside 10.20.0.0/16"
	exit 1
fi
mkdir -p $state
echo "$address" >$state/address

wait_for_keystore() {
	until request GET "http://${CONSULURL#http://}/v1/health/state/passing" |
		grep -q '"Status":"passing"'; do
		sleep 2
	done
}

# kv_lists PREFIX: the keystore lists keys under PREFIX/ (200), or it has none (404). A request
# lost under load (no status) is asked again: taken for "none", it made a restarted master wait
# for a first bootstrap's workers forever (the 1+29 benchmark's upgrade, its evidence-upgrade/).
kv_lists() {
	until request GET "$kv/$1/?keys" >/dev/null; do
		case ${request_response%%"$CR"*} in "HTTP/1."[01]" 404"*) return 1 ;; esac
		sleep 1
	done
}

register_worker() {
	if kv_lists active_workers; then
		request PUT "$kv/active_workers/$NODE_NAME" "$address"
	else
		request PUT "$kv/available_workers/$address" "$NODE_NAME"
	fi >/dev/null
}

worker_registered() {
	[ "$(request GET "$kv/active_workers/$NODE_NAME?raw")" = "$address" ] ||
		request GET "$kv/available_workers/$address" >/dev/null
}

wait_for_workers() {
	up=0
	while [ -n "${EXA_WORKERS_WAIT-}" ] && [ "$up" != "$EXA_WORKERS_WAIT" ]; do
		sleep 2
		up=$(request GET "$kv/available_workers/?keys" | keys_under available_workers |
			head -n "$EXA_WORKERS_WAIT" | grep -c . || true)
		echo "Waiting for $((EXA_WORKERS_WAIT - up)) more exareme workers..."
	done
}

# activate_workers: available_workers/ADDRESS = NAME becomes active_workers/NAME = ADDRESS.
activate_workers() {
	for worker in $(request GET "$kv/available_workers/?keys" | keys_under available_workers); do
		name=$(request GET "$kv/available_workers/$worker?raw") &&
			request PUT "$kv/active_workers/$name" "$worker" >/dev/null &&
			request DELETE "$kv/available_workers/$worker" >/dev/null &&
			echo "Worker $name at $worker is active"
	done
}

master_registered() { [ "$(request GET "$kv/master/$NODE_NAME?raw")" = "$address" ]; }
register_master() { request PUT "$kv/master/$NODE_NAME" "$address" >/dev/null; }

wait_for_keystore
if [ "${MASTER_FLAG-}" != master ]; then
	nc "$(listen_options)" -p "$port" -e /lab/exareme request "$port" &
	# A request lost under load (its 3 s timeout) does not end the container: the 5 s check below
	# registers again.
	if register_worker; then
		echo "Worker $NODE_NAME registered with address $address"
	else
		echo "Worker $NODE_NAME: registering failed, trying again within 5 s"
	fi
	while sleep 5; do
		worker_registered || { wait_for_keystore && register_worker && echo "Registered again"; }
	done
fi

if kv_lists master; then
	echo "Master $NODE_NAME at $address restarted: not waiting for workers"
else
	register_master || echo "Master $NODE_NAME: registering failed, trying again within 5 s"
	wait_for_workers
fi
activate_workers
echo "Master $NODE_NAME at $address answers on :$port"
(while sleep 5; do
	master_registered || { wait_for_keystore && register_master && echo "Registered again"; }
	activate_workers
done) &
serve "$port" /lab/exareme request "$port"
