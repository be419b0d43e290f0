"""Test program for previews and delete-before-replace: an overlay network and services on it,
through an explicit ssh:// docker provider.

Config (namespace mip-federation): `host`, `sshOpts`, `image`, `encrypted` (bool), `services`
(list of names), `password` (secret, an env var of every service).
Network and services have fixed names and delete_before_replace=True, network options as the
daemon reports them, and a service `mode` that depends on the network, like the real program's.
"""

import pulumi
import pulumi_docker as docker

config = pulumi.Config()
provider = docker.Provider(
    "node", host=config.require("host"), ssh_opts=config.require_object("sshOpts")
)
dbr = pulumi.ResourceOptions(provider=provider, delete_before_replace=True)
network = docker.Network(
    "net",
    name="pv-net",
    driver="overlay",
    attachable=True,
    options={
        "com.docker.network.driver.overlay.vxlanid_list": "10205000",
        **({"encrypted": "true"} if config.require_bool("encrypted") else {}),
    },
    ipam_configs=[
        docker.NetworkIpamConfigArgs(
            subnet="10.20.50.0/24", ip_range="10.20.50.0/24", gateway="10.20.50.254"
        )
    ],
    opts=dbr,
)
for name in config.require_object("services"):
    docker.Service(
        f"svc-{name}",
        name=f"pv-{name}",
        task_spec=docker.ServiceTaskSpecArgs(
            container_spec=docker.ServiceTaskSpecContainerSpecArgs(
                image=config.require("image"),
                commands=["/bin/sleep", "3600"],
                env={"NODE_NAME": name, "PASSWORD": config.require_secret("password")},
                # With a grace period the provider's delete waits (as long as the period) for the
                # containers on its daemon to go, so the replaced network's name is free when it
                # is created again. `sleep` as PID 1 ignores SIGTERM: only SIGKILL stops it
                # within that wait.
                stop_signal="SIGKILL",
                stop_grace_period="20s",
            ),
            networks_advanceds=[docker.ServiceTaskSpecNetworksAdvancedArgs(id=network.id)],
        ),
        endpoint_spec=docker.ServiceEndpointSpecArgs(mode="dnsrr"),
        mode=docker.ServiceModeArgs(
            replicated=docker.ServiceModeReplicatedArgs(replicas=network.id.apply(lambda _: 1))
        ),
        opts=dbr,
    )
pulumi.export("networkId", network.id)
