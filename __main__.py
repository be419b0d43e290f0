"""Pulumi entry point: read the stack configuration, build the federation, export its outputs."""

import pulumi

from federation import Federation, load_config

federation = Federation("mip-federation", load_config())
pulumi.export("leaderAddress", federation.leader_address)
pulumi.export("swarmId", federation.swarm_id)
pulumi.export("exaremeUrl", federation.exareme_url)
pulumi.export("portalUrl", federation.portal_url)
pulumi.export("nodes", federation.nodes)
if federation.unlock_key is not None:  # swarm.autolock: true; a secret output
    pulumi.export("swarmUnlockKey", federation.unlock_key)
