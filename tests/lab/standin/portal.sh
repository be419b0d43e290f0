#!/bin/sh
# Stand-in for hbpmip/portal-backend (role portal). Usage: portal PORT [ARGUMENTS...]: the
# arguments given to the real image are ignored. On PORT: /exareme is what EXAREME_URL answers
# (the Exareme master's answer), or 502 when it does not answer; / is its page, /env the
# variables it reads.
set -eu
. /lab/http

if [ "$1" != request ]; then
	echo "portal stand-in on :$1, EXAREME_URL=${EXAREME_URL-}"
	serve "$1" /lab/portal request
fi

read_request
case $path in
/exareme)
	if answer=$(REQUEST_TIMEOUT=5 request GET "${EXAREME_URL-}"); then
		echo "$answer" | respond "200 OK" application/json
	else
		echo '{"error":"no answer from EXAREME_URL"}' | respond "502 Bad Gateway" application/json
	fi
	;;
/env) public_env | respond "200 OK" text/plain ;;
/ | /index.html) page portal | respond "200 OK" text/html ;;
*) respond "404 Not Found" text/plain </dev/null ;;
esac
