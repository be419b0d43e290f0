"""Test program: remote commands described by the stack config.

Config (namespace mip-federation): `connection` (object; its privateKey comes from the secret
`privateKey`), `commands`: list of {name, create, update, delete, stdin, secretStdin,
triggers, environment, logging, dependsOn, connection (overrides), deleteBeforeReplace,
secretOutputs, parent}; `components`: names of ComponentResources to use as parents.
"""

import pulumi
from pulumi_command import remote

config = pulumi.Config()
base = config.require_object("connection")
private_key = config.require_secret("privateKey")
components = {
    name: pulumi.ComponentResource("test:index:Group", name)
    for name in config.get_object("components") or []
}
made: dict[str, remote.Command] = {}
for spec in config.require_object("commands"):
    conn = {**base, **spec.get("connection", {})}
    stdin = spec.get("stdin")
    options = pulumi.ResourceOptions(
        depends_on=[made[d] for d in spec.get("dependsOn", [])],
        delete_before_replace=spec.get("deleteBeforeReplace", False),
        additional_secret_outputs=spec.get("secretOutputs"),
        parent=components.get(spec.get("parent", "")),
    )
    made[spec["name"]] = remote.Command(
        spec["name"],
        connection=remote.ConnectionArgs(private_key=private_key, **conn),
        create=spec.get("create"),
        update=spec.get("update"),
        delete=spec.get("delete"),
        stdin=pulumi.Output.secret(stdin) if spec.get("secretStdin") else stdin,
        triggers=spec.get("triggers"),
        environment=spec.get("environment"),
        logging=spec.get("logging"),
        opts=options,
    )
    pulumi.export(spec["name"], made[spec["name"]].stdout)
for component in components.values():
    component.register_outputs({})
