#!/bin/sh
# Entrypoint of the stand-ins for the MIP images (Exareme, Consul, portal backend).
# Usage: standin ROLE PORT [ARGUMENTS...] - the arguments given to the real image are ignored.
# Serves, on PORT and forever, a page naming the role and the node (/, /exa-view/index.html) and
# the container's environment (/env).
role=$1 port=$2

mkdir -p /www/exa-view
cat >/www/index.html <<PAGE
<html><body>
<h1>mip-lab stand-in: $role</h1>
<p>NODE_NAME=${NODE_NAME-}</p>
<p>MASTER_FLAG=${MASTER_FLAG-}</p>
<p>EXAREME_URL=${EXAREME_URL-}</p>
<p>HOSTNAME=$(hostname)</p>
</body></html>
PAGE
cp /www/index.html /www/exa-view/index.html
env | sort >/www/env
exec httpd -f -p "$port" -h /www
