# HTTP for the stand-ins, with busybox nc: a server that runs one handler per connection, the
# handler's request parsing and response, and a small client. Sourced, not run.

CR=$(printf '\r')

# listen_options: nc's options for a server that runs its handler for each connection. busybox nc
# listens with a backlog of one per -l (nc.c: xlisten(sfd, do_listen)): `-ll` queued 2
# connections and dropped the rest of a burst (29 workers registering at once; their SYNs were
# retried after 1 s and 3 s, past the clients' timeouts), where Consul's Go server queues them.
# 64 of them. A function: every handler sources this file, and only servers need it.
listen_options() { printf -- '-%s' "$(printf 'l%.0s' $(seq 64))"; }

# serve PORT HANDLER [ARGUMENTS]: run HANDLER for each connection to PORT, on the socket.
serve() {
	port=$1
	shift
	exec nc "$(listen_options)" -p "$port" -e "$@"
}

# read_request: sets method, path, query and length (of the body, which is left on stdin).
# shellcheck disable=SC2034 # for the handler that calls it
read_request() {
	# Errors to the container's log: on the socket they would hold the connection open (a
	# `timeout` watcher lives a second) and land in the response.
	exec 2>>/proc/1/fd/1
	read -r method target _
	path=${target%%\?*}
	query=
	case $target in *\?*) query=${target#*\?} ;; esac
	length=0
	while read -r header && [ -n "${header%"$CR"}" ]; do
		case $header in
		[Cc]ontent-[Ll]ength:*) length=$(echo "${header#*:}" | tr -dc 0-9) ;;
		esac
	done
}

# has_param NAME: the query has NAME (?keys, ?raw, ?recurse=true ...).
has_param() {
	case "&$query&" in *"&$1&"* | *"&$1="*) return 0 ;; esac
	return 1
}

# respond STATUS CONTENT-TYPE: the response, with stdin as its body.
respond() {
	body=$(cat && echo .)
	body=${body%.}
	printf 'HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s' \
		"$1" "$2" "$(printf %s "$body" | wc -c)" "$body"
}

# request METHOD URL [BODY]: the response body on stdout; fails unless the status is 2xx.
# URL: [http://]HOST:PORT[/PATH] (CONSULURL has no "http://").
request() {
	request_url=${2#http://}
	request_server=${request_url%%/*}
	request_path=${request_url#"$request_server"}
	request_response=$(printf '%s /%s HTTP/1.0\r\nHost: %s\r\nContent-Length: %s\r\n\r\n%s' \
		"$1" "${request_path#/}" "$request_server" "$(printf %s "${3-}" | wc -c)" "${3-}" |
		timeout "${REQUEST_TIMEOUT:-3}" nc "${request_server%:*}" "${request_server##*:}") || return 1
	printf '%s\n' "$request_response" |
		awk 'NR == 1 { ok = $2 ~ /^2/ } body { print } /^\r?$/ { body = 1 } END { exit !ok }'
}

# json_list: stdin's lines (each a JSON value) as one JSON array.
json_list() { awk 'BEGIN { printf "[" } { printf "%s%s", (NR > 1 ? "," : ""), $0 } END { print "]" }'; }

# page TITLE: the stand-in's HTML page: its role, node and the container's hostname.
page() {
	cat <<PAGE
<html><body>
<h1>mip-lab stand-in: $1</h1>
<p>NODE_NAME=${NODE_NAME-}</p>
<p>MASTER_FLAG=${MASTER_FLAG-}</p>
<p>EXAREME_URL=${EXAREME_URL-}</p>
<p>HOSTNAME=$(hostname)</p>
</body></html>
PAGE
}

# public_env: the variables the stand-ins read, as NAME=value; never a password.
public_env() {
	for name in NODE_NAME MASTER_FLAG MODE CONSULURL EXA_WORKERS_WAIT EXAREME_URL \
		RAWUSERNAME RAWHOST RAWPORT RAWDB RAWENDPOINT RAWRESULTS RAWDATAKEY; do
		eval "[ -z \"\${$name+set}\" ] || echo \"$name=\${$name}\""
	done
}
