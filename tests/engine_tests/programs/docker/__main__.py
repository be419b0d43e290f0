"""Test program: docker resources through an explicit ssh:// provider, from the stack config.

Config (namespace mip-federation): `host`, `sshOpts`, `image`, `network` (object or null:
name, subnet, gateway, encrypted), `service` (object or null: name, env, replicas, command, port,
stopSignal, stopGracePeriod),
`container` (object or null: name, envs, port).
"""

import pulumi
import pulumi_docker as docker

config = pulumi.Config()
provider = docker.Provider(
    "node", host=config.require("host"), ssh_opts=config.require_object("sshOpts")
)
opts = pulumi.ResourceOptions(provider=provider)
image = config.require("image")

net_spec = config.get_object("network")
network = None
if net_spec:
    network = docker.Network(
        "net",
        name=net_spec["name"],
        driver="overlay",
        attachable=True,
        # Read stores the daemon's whole Options map (the VXLAN id it allocated too): options
        # are ignored in diffs, and a label that the daemon echoes carries the encryption, so
        # toggling it replaces the network (a replacement is checked from the program's inputs).
        options={"encrypted": "true"} if net_spec.get("encrypted") else None,
        labels=[
            docker.NetworkLabelArgs(
                label="encrypted", value="true" if net_spec.get("encrypted") else "false"
            )
        ],
        ipam_configs=[
            # With no gateway, Read stores the daemon's and the set element differs: a replace.
            docker.NetworkIpamConfigArgs(
                subnet=net_spec["subnet"],
                ip_range=net_spec["subnet"],
                gateway=net_spec.get("gateway"),
            )
        ],
        # Created before the old one is deleted, a same-subnet network is never allocated.
        opts=pulumi.ResourceOptions(
            provider=provider, ignore_changes=["options"], delete_before_replace=True
        ),
    )
    pulumi.export("networkId", network.id)

svc_spec = config.get_object("service")
if svc_spec:
    service = docker.Service(
        "svc",
        name=svc_spec["name"],
        task_spec=docker.ServiceTaskSpecArgs(
            container_spec=docker.ServiceTaskSpecContainerSpecArgs(
                image=image,
                commands=svc_spec.get("command"),
                env=svc_spec.get("env"),
                stop_signal=svc_spec.get("stopSignal"),
                stop_grace_period=svc_spec.get("stopGracePeriod"),
            ),
            restart_policy=docker.ServiceTaskSpecRestartPolicyArgs(
                condition="on-failure", delay="5s", max_attempts=3, window="2m"
            ),
            networks_advanceds=[docker.ServiceTaskSpecNetworksAdvancedArgs(id=network.id)]
            if network
            else None,
        ),
        # `mode` is ForceNew. Making it depend on the network means that when the network is
        # replaced delete-first, the engine's dependent check (mode unknown) answers replace,
        # so the service is deleted before its network and created again on the new one.
        mode=docker.ServiceModeArgs(
            replicated=docker.ServiceModeReplicatedArgs(
                replicas=network.id.apply(lambda _: svc_spec.get("replicas", 1))
                if network
                else svc_spec.get("replicas", 1)
            )
        ),
        endpoint_spec=docker.ServiceEndpointSpecArgs(
            mode="dnsrr",
            ports=[
                docker.ServiceEndpointSpecPortArgs(
                    target_port=svc_spec["port"],
                    published_port=svc_spec["port"],
                    publish_mode="host",
                )
            ]
            if svc_spec.get("port")
            else None,
        ),
        # A fixed name: a replacement must delete the old service first.
        opts=pulumi.ResourceOptions(provider=provider, delete_before_replace=True),
    )
    pulumi.export("serviceId", service.id)

ctr_spec = config.get_object("container")
if ctr_spec:
    container = docker.Container(
        "ctr",
        name=ctr_spec.get("name"),
        image=image,
        command=["/bin/sleep", "3600"],
        envs=ctr_spec.get("envs"),
        restart="unless-stopped",
        opts=opts,
    )
    pulumi.export("containerId", container.id)
    pulumi.export("containerName", container.name)
