"""Canned doctor inputs: a stack's settings and docker's JSON as `docker node|service|network|
container inspect` and task inspect print it, for the NODES federation."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from federation import doctor
from federation.config.model import StackSettings
from federation.config.validation import validate
from federation.doctor import HostReport, Live, Row

NODES = [
    {"name": "chuv", "host": "192.0.2.10", "role": "manager"},
    {"name": "hug", "host": "198.51.100.21", "role": "worker"},
    {
        "name": "lille",
        "host": "lille-mip.example.org",
        "advertiseAddr": "203.0.113.41",
        "role": "worker",
    },
]
ADDRS = {"chuv": "192.0.2.10", "hug": "198.51.100.21", "lille": "203.0.113.41"}


def settings(**changes: Any) -> StackSettings:
    raw: dict[str, Any] = {"sshPrivateKey": doctor.UNDECRYPTED, "nodes": copy.deepcopy(NODES)}
    raw.update(changes)
    return validate(raw, "test", {"sshPrivateKey"})


def node(name: str, role: str = "worker", **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ID": f"id-{name}",
        "Spec": {"Labels": {"name": name}, "Role": role, "Availability": "active"},
        "Description": {"Hostname": f"host-{name}"},
        "Status": {"State": "ready", "Addr": ADDRS.get(name, "192.0.2.99")},
    }
    if role == "manager":
        data["ManagerStatus"] = {"Reachability": "reachable", "Addr": f"{ADDRS[name]}:2377"}
    for path, value in over.items():  # e.g. Status__State="down"
        target = data
        *parents, last = path.split("__")
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    return data


def service(name: str, alias: str, role: str = "worker", **over: Any) -> dict[str, Any]:
    image = "hashicorp/consul:1.15.4" if name == "exareme-keystore" else "hbpmip/exareme:v5"
    constraints = [f"node.role == {role}", f"node.labels.name == {alias}"]
    data = {
        "ID": f"svc-{name}",
        "Spec": {
            "Name": name,
            "Mode": {"Replicated": {"Replicas": 1}},
            "TaskTemplate": {
                "ContainerSpec": {"Image": image},
                "Placement": {"Constraints": constraints},
            },
        },
    }
    data["Spec"].update(over)
    return data


def task(
    service_name: str, alias: str | None, state: str = "running", err: str = ""
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ID": f"task-{service_name}-{alias}-{state}",
        "ServiceID": f"svc-{service_name}",
        "Slot": 1,
        "DesiredState": "running",
        "Status": {"State": state, **({"Err": err} if err else {})},
    }
    if alias is not None:
        data["NodeID"] = f"id-{alias}"
    return data


def network(**over: Any) -> dict[str, Any]:
    data = {
        "Name": "mip-federation",
        "Id": "net1",
        "Driver": "overlay",
        "Scope": "swarm",
        "Attachable": False,
        "Options": {"com.docker.network.driver.overlay.vxlanid_list": "4097", "encrypted": ""},
        "IPAM": {"Config": [{"Subnet": "10.20.30.0/24", "Gateway": "10.20.30.254"}]},
    }
    data.update(over)
    return data


def portal(state: str = "running", image: str = "hbpmip/portal-backend:2.5.4") -> dict[str, Any]:
    return {
        "Name": "/mip-federation-portal",
        "State": {"Status": state},
        "Config": {"Image": image},
    }


SERVICES = [
    ("exareme-keystore", "chuv", "manager"),
    ("exareme-master", "chuv", "manager"),
    ("exareme-worker-hug", "hug", "worker"),
    ("exareme-worker-lille", "lille", "worker"),
]


def in_sync() -> Live:
    """What the leader of the NODES federation reports when nothing drifted."""
    return Live(
        swarm={
            "LocalNodeState": "active",
            "ControlAvailable": True,
            "NodeID": "id-chuv",
            "Cluster": {"ID": "cluster-1"},
        },
        nodes=[node("chuv", "manager"), node("hug"), node("lille")],
        networks=[{"Name": "bridge", "Driver": "bridge", "Scope": "local"}, network()],
        services=[service(name, alias, role) for name, alias, role in SERVICES],
        tasks=[task(name, alias) for name, alias, _ in SERVICES],
        portal=[portal()],
    )


def member(alias: str, **over: Any) -> HostReport:
    """What a worker of the NODES federation says about itself when nothing drifted."""
    swarm: dict[str, Any] = {
        "LocalNodeState": "active",
        "NodeID": f"id-{alias}",
        "RemoteManagers": [{"NodeID": "id-chuv", "Addr": "192.0.2.10:2377"}],
    }
    swarm.update(over)
    return HostReport.from_swarm(swarm)


def drift(live: Live, **reports: HostReport) -> list[Row]:
    return [r for r in doctor.compare(settings(), live, reports) if r.status != "OK"]


def certificate_pem(not_after: datetime, intermediate: bool = False) -> str:
    """A PEM certificate (self-signed, as swarm-node.crt holds one, CN the node id) valid until
    `not_after`; with `intermediate`, followed by a second one valid a year longer."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "id-chuv")])

    def one(until: datetime) -> str:
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(until - timedelta(days=400))
            .not_valid_after(until)
            .sign(key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM).decode()

    return one(not_after) + (one(not_after + timedelta(days=365)) if intermediate else "")


def valid_pem(days: int = 90) -> str:
    return certificate_pem(datetime.now(UTC) + timedelta(days=days))
