#!/bin/sh
# Stand-in for the Consul keystore (role consul). Usage: consul PORT [ARGUMENTS...]: the arguments
# given to the real image are ignored. Answers, on PORT, the part of Consul's HTTP API that
# Exareme's bootstrap.sh uses (tests/lab/README.md): GET/PUT/DELETE /v1/kv/KEY with ?keys,
# ?recurse and ?raw, and GET /v1/health/state/passing. Keys live in the container, as with a
# Consul server without a volume: a new task starts empty.
set -eu
. /lab/http

KV=/run/kv # values/KEY and meta/KEY ("CreateIndex ModifyIndex"), "/" in KEY stored as "%2F"

if [ "$1" != request ]; then
	mkdir -p $KV/values $KV/meta $KV/new
	echo 0 >$KV/index
	echo "consul stand-in: key/value store on :$1"
	serve "$1" /lab/consul request
fi

file_name() { echo "$1" | sed 's/%/%25/g; s|/|%2F|g'; }

# keys PREFIX: the stored keys that start with PREFIX, sorted as Consul sorts them.
keys() {
	ls $KV/values | sed 's|%2F|/|g; s/%25/%/g' | awk -v prefix="$1" 'substr($0, 1, length(prefix)) == prefix' | sort
}

# entry KEY: the key as one JSON object of Consul's KV API (Value in base64, null when empty).
entry() {
	name=$(file_name "$1")
	read -r create modify <"$KV/meta/$name"
	value=null
	[ ! -s "$KV/values/$name" ] || value=\"$(base64 -w 0 "$KV/values/$name")\"
	printf '{"LockIndex":0,"Key":"%s","Flags":0,"Value":%s,"CreateIndex":%s,"ModifyIndex":%s}' \
		"$1" "$value" "$create" "$modify"
}

ok_json() { respond "200 OK" application/json; }
not_found() {
	respond "404 Not Found" text/plain </dev/null
	exit
}

get() {
	if has_param keys; then
		found=$(keys "$key")
		[ -n "$found" ] || not_found
		echo "$found" | sed 's/.*/"&"/' | json_list | ok_json
	elif has_param recurse; then
		found=$(keys "$key")
		[ -n "$found" ] || not_found
		echo "$found" | while read -r each; do entry "$each" && echo; done | json_list | ok_json
	elif [ ! -f "$KV/values/$(file_name "$key")" ]; then
		not_found
	elif has_param raw; then
		respond "200 OK" "text/plain; charset=utf-8" <"$KV/values/$(file_name "$key")"
	else
		entry "$key" | json_list | ok_json
	fi
}

# Writers take turns (mkdir is atomic), so that every write gets its own index.
lock() { until mkdir $KV/lock 2>/dev/null; do usleep 1000; done; }
unlock() { rmdir $KV/lock; }

put() {
	name=$(file_name "$key")
	head -c "$length" >"$KV/new/$name"
	lock
	index=$(($(cat $KV/index) + 1))
	echo $index >$KV/index
	create=$index
	[ ! -f "$KV/meta/$name" ] || read -r create _ <"$KV/meta/$name"
	echo "$create $index" >"$KV/meta/$name"
	mv "$KV/new/$name" "$KV/values/$name"
	unlock
	echo true | ok_json
}

delete() {
	if has_param recurse; then
		found=$(keys "$key")
	else
		found=$key
	fi
	for each in $found; do
		rm -f "$KV/values/$(file_name "$each")" "$KV/meta/$(file_name "$each")"
	done
	echo true | ok_json
}

# The one check of a lone Consul server, as /v1/health/state/passing lists it.
passing_checks() {
	printf '[{"Node":"%s","CheckID":"serfHealth","Name":"Serf Health Status",' "$(hostname)"
	printf '"Status":"passing","Notes":"","Output":"Agent alive and reachable","ServiceID":"",'
	printf '"ServiceName":"","ServiceTags":[],"Type":"","CreateIndex":1,"ModifyIndex":1}]\n'
}

read_request
case $method:$path in
GET:/v1/health/state/passing) passing_checks | ok_json ;;
*:/v1/kv/*\"* | *:/v1/kv/*\\*) echo 'key may not hold " or \' | respond "400 Bad Request" text/plain ;;
GET:/v1/kv/*) key=${path#/v1/kv/} && get ;;
PUT:/v1/kv/*) key=${path#/v1/kv/} && put ;;
DELETE:/v1/kv/*) key=${path#/v1/kv/} && delete ;;
*:/v1/kv/*) echo "method $method not allowed" | respond "405 Method Not Allowed" text/plain ;;
*) not_found ;;
esac
