"""The Terraform schemas of docker_network/docker_service/docker_container and a differ that follows
terraform-plugin-sdk v2's schemaMap.Diff, plus the pulumi-terraform-bridge's mapping of the result
to a Pulumi DiffResponse.

Sources (paths in those repositories):
- kreuzwerker/terraform-provider-docker v4.5.0 (bridged by pulumi-docker 5.x):
  internal/provider/resource_docker_{network,service,container}.go (schemas).
- hashicorp/terraform-plugin-sdk v2.40.1 helper/schema/schema.go: schemaMap.diff, diffString,
  diffList, diffMap, diffSet, Schema.finalizeDiff.
- pulumi/pulumi-terraform-bridge pkg/tfbridge/provider.go Diff, pkg/tfbridge/diff.go
  makePropertyDiff, pkg/tfshim/sdk-v2/instance_diff.go processIgnoreChanges.

Values in the TF shape are nested Python: primitives, lists (TypeList; MaxItems=1 blocks are
one-element lists), sets (lists whose identity is `code()`), maps (dicts), and blocks (dicts).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.engine.props import is_unknown

STR, INT, BOOL, FLOAT, LIST, SET, MAP = "str", "int", "bool", "float", "list", "set", "map"
PRIMITIVES = (STR, INT, BOOL, FLOAT)


@dataclass
class S:
    """One helper/schema.Schema: the attributes the differ uses."""

    type: str
    optional: bool = False
    required: bool = False
    computed: bool = False
    force_new: bool = False
    default: Any = None
    max_items: int = 0
    elem: dict[str, S] | S | None = None  # a block's fields, or a collection's element schema
    suppress: Callable[[str, str, str, DiffContext], bool] | None = None
    state_func: Callable[[Any], Any] | None = None
    p: str = ""  # the Pulumi name, when not the camelCase of the TF name

    @property
    def block(self) -> dict[str, S] | None:
        return self.elem if isinstance(self.elem, dict) else None

    @property
    def element(self) -> S:
        """A collection's element schema: TypeString when it names none."""
        return self.elem if isinstance(self.elem, S) else S(STR)

    @property
    def max_one(self) -> bool:
        """MaxItems=1 blocks are objects in Pulumi (pulumi-docker keeps the bridge default)."""
        return self.type in (LIST, SET) and self.max_items == 1 and self.block is not None


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def pname(name: str, schema: S) -> str:
    return schema.p or camel(name)


def zero(schema: S) -> Any:
    return {STR: "", INT: 0, BOOL: False, FLOAT: 0.0}.get(schema.type)


# ---------------------------------------------------------------------- schemas


def _label(force_new: bool) -> dict[str, S]:
    """helpers.go newLabelSchema."""
    return {
        "label": S(STR, required=True, force_new=force_new),
        "value": S(STR, required=True, force_new=force_new),
    }


def _strs(kind: str = LIST, **kw: Any) -> S:
    return S(kind, elem=S(STR), **kw)


def _block(fields: dict[str, S], **kw: Any) -> S:
    """A TypeList block with MaxItems=1 (an object in Pulumi)."""
    return S(LIST, max_items=1, elem=fields, **kw)


def _hosts(**kw: Any) -> S:
    """The extra /etc/hosts entries of a service's container spec and of a container."""
    return S(
        SET,
        optional=True,
        force_new=True,
        elem={
            "ip": S(STR, required=True, force_new=True),
            "host": S(STR, required=True, force_new=True),
        },
        **kw,
    )


def _healthcheck(*extra_durations: str) -> S:
    """The healthcheck block of a service's container spec and of a container (the container's
    has one more duration, start_interval)."""
    durations = ("interval", "timeout", "start_period", *extra_durations)
    return _block(
        {
            "test": _strs(optional=True, p="tests"),
            **{name: S(STR, default="0s", optional=True) for name in durations},
            "retries": S(INT, default=0, optional=True),
        },
        optional=True,
        computed=True,
    )


def _mount_fields() -> dict[str, S]:
    return {
        "target": S(STR, required=True),
        "source": S(STR, optional=True),
        "type": S(STR, required=True),
        "read_only": S(BOOL, optional=True),
    }


def _volume_options() -> dict[str, S]:
    return {
        "no_copy": S(BOOL, optional=True),
        "labels": S(SET, optional=True, elem=_label(True)),
        "driver_name": S(STR, optional=True),
        "driver_options": S(MAP, optional=True, elem=S(STR)),
    }


def _tmpfs_options() -> dict[str, S]:
    return {"size_bytes": S(INT, optional=True), "mode": S(INT, optional=True)}


def _resource_amounts() -> dict[str, S]:
    return {"nano_cpus": S(INT, optional=True), "memory_bytes": S(INT, optional=True)}


NETWORK: dict[str, S] = {
    "name": S(STR, required=True, force_new=True),
    "labels": S(SET, optional=True, force_new=True, elem=_label(True)),
    "driver": S(STR, optional=True, force_new=True, computed=True),
    "options": S(MAP, optional=True, force_new=True, computed=True),
    "internal": S(BOOL, optional=True, computed=True, force_new=True),
    "attachable": S(BOOL, optional=True, force_new=True),
    "ingress": S(BOOL, optional=True, force_new=True),
    "ipv6": S(BOOL, optional=True, force_new=True),
    "ipam_driver": S(STR, default="default", optional=True, force_new=True),
    "ipam_options": S(MAP, optional=True, force_new=True),
    "ipam_config": S(
        SET,
        optional=True,
        computed=True,
        force_new=True,
        p="ipamConfigs",
        elem={
            "subnet": S(STR, optional=True, force_new=True),
            "ip_range": S(STR, optional=True, force_new=True),
            "gateway": S(STR, optional=True, force_new=True),
            "aux_address": S(MAP, optional=True, force_new=True),
        },
    ),
    "scope": S(STR, computed=True),
}


def _float_ratio(_k: str, old: str, new: str, _d: DiffContext) -> bool:
    """validators.go suppressEquivalentFloatRatio."""
    try:
        return float(old) == float(new)
    except ValueError:
        return False


def _update_config() -> dict[str, S]:
    return {
        "parallelism": S(INT, default=1, optional=True),
        "delay": S(STR, default="0s", optional=True),
        "failure_action": S(STR, default="pause", optional=True),
        "monitor": S(STR, default="5s", optional=True),
        "max_failure_ratio": S(STR, default="0.0", optional=True, suppress=_float_ratio),
        "order": S(STR, default="stop-first", optional=True),
    }


def _file_ref(kind: str) -> dict[str, S]:
    return {
        f"{kind}_id": S(STR, required=True),
        f"{kind}_name": S(STR, optional=True),
        "file_name": S(STR, required=True),
        "file_uid": S(STR, default="0", optional=True),
        "file_gid": S(STR, default="0", optional=True),
        "file_mode": S(INT, default=0o444, optional=True),
    }


CONTAINER_SPEC: dict[str, S] = {
    "image": S(STR, required=True),
    "labels": S(SET, optional=True, elem=_label(True)),
    "command": _strs(optional=True, p="commands"),
    "args": _strs(optional=True),
    "hostname": S(STR, optional=True),
    "env": S(MAP, optional=True, elem=S(STR)),
    "dir": S(STR, optional=True),
    "user": S(STR, optional=True),
    "groups": _strs(optional=True),
    "privileges": _block(
        {
            "credential_spec": _block(
                {"file": S(STR, optional=True), "registry": S(STR, optional=True)}, optional=True
            ),
            "se_linux_context": _block(
                {
                    "disable": S(BOOL, optional=True),
                    "user": S(STR, optional=True),
                    "role": S(STR, optional=True),
                    "type": S(STR, optional=True),
                    "level": S(STR, optional=True),
                },
                optional=True,
            ),
        },
        optional=True,
    ),
    "read_only": S(BOOL, optional=True),
    "mounts": S(
        SET,
        optional=True,
        elem={
            **_mount_fields(),
            "bind_options": _block(
                {"propagation": S(STR, default="rprivate", optional=True)}, optional=True
            ),
            "volume_options": _block(_volume_options(), optional=True),
            "tmpfs_options": _block(_tmpfs_options(), optional=True),
        },
    ),
    "stop_signal": S(STR, optional=True),
    "stop_grace_period": S(STR, optional=True, computed=True),
    "healthcheck": _healthcheck(),
    "hosts": _hosts(),
    "dns_config": _block(
        {
            "nameservers": _strs(required=True),
            "search": _strs(optional=True, p="searches"),
            "options": _strs(optional=True),
        },
        optional=True,
        computed=True,
    ),
    "secrets": S(SET, optional=True, elem=_file_ref("secret")),
    "configs": S(SET, optional=True, elem=_file_ref("config")),
    "isolation": S(STR, default="default", optional=True),
    "sysctl": S(MAP, optional=True, force_new=True),
    "cap_add": _strs(optional=True, p="capAdds"),
    "cap_drop": _strs(optional=True, p="capDrops"),
    "init": S(BOOL, optional=True, computed=True),
}

TASK_SPEC: dict[str, S] = {
    "container_spec": _block(CONTAINER_SPEC, required=True),
    "resources": _block(
        {
            "limits": _block(_resource_amounts(), optional=True),
            "reservation": _block(
                {
                    **_resource_amounts(),
                    "generic_resources": _block(
                        {
                            "named_resources_spec": _strs(SET, optional=True),
                            "discrete_resources_spec": _strs(SET, optional=True),
                        },
                        optional=True,
                    ),
                },
                optional=True,
            ),
        },
        optional=True,
        computed=True,
    ),
    "restart_policy": _block(
        {
            "condition": S(STR, optional=True),
            "delay": S(STR, optional=True),
            "max_attempts": S(INT, optional=True),
            "window": S(STR, optional=True),
        },
        optional=True,
        computed=True,
    ),
    "placement": _block(
        {
            "constraints": _strs(SET, optional=True),
            "prefs": _strs(SET, optional=True),
            "max_replicas": S(INT, optional=True),
            "platforms": S(
                SET,
                optional=True,
                elem={"architecture": S(STR, required=True), "os": S(STR, required=True)},
            ),
        },
        optional=True,
        computed=True,
    ),
    "force_update": S(INT, optional=True, computed=True),
    "runtime": S(STR, optional=True, computed=True),
    "networks_advanced": S(
        SET,
        optional=True,
        p="networksAdvanceds",
        elem={
            "name": S(STR, force_new=True, optional=True),
            "id": S(STR, force_new=True, optional=True),
            "aliases": _strs(SET, optional=True, force_new=True),
            "driver_opts": _strs(SET, optional=True, force_new=True),
        },
    ),
    "log_driver": _block(
        {"name": S(STR, required=True), "options": S(MAP, optional=True, elem=S(STR))},
        optional=True,
    ),
}

SERVICE: dict[str, S] = {
    "auth": _block(
        {
            "server_address": S(STR, required=True, force_new=True),
            "username": S(STR, optional=True, force_new=True),
            "password": S(STR, optional=True, force_new=True),
        },
        optional=True,
        force_new=True,
    ),
    "name": S(STR, required=True, force_new=True),
    "labels": S(SET, optional=True, computed=True, elem=_label(False)),
    "task_spec": _block(TASK_SPEC, required=True),
    "mode": _block(
        {
            "replicated": _block(
                {"replicas": S(INT, default=1, optional=True)}, optional=True, computed=True
            ),
            "global": S(BOOL, default=False, optional=True),
        },
        optional=True,
        computed=True,
        force_new=True,
    ),
    "update_config": _block(_update_config(), optional=True),
    "rollback_config": _block(_update_config(), optional=True),
    "endpoint_spec": _block(
        {
            "mode": S(STR, optional=True, computed=True),
            "ports": S(
                LIST,
                optional=True,
                elem={
                    "name": S(STR, optional=True),
                    "protocol": S(STR, default="tcp", optional=True),
                    "target_port": S(INT, required=True),
                    "published_port": S(INT, optional=True, computed=True),
                    "publish_mode": S(STR, default="ingress", optional=True),
                },
            ),
        },
        optional=True,
        computed=True,
    ),
    "converge_config": _block(
        {
            "delay": S(STR, default="7s", optional=True),
            "timeout": S(STR, default="3m", optional=True),
        },
        optional=True,
    ),
}


def _suppress_empty_new(_k: str, old: str, new: str, _d: DiffContext) -> bool:
    """resource_docker_container.go `user`/`working_dir`: "" is a no-op (Docker's default)."""
    return old == (new or old)


def _ports_unchanged(k: str, old: str, new: str, d: DiffContext) -> bool:
    """resource_docker_container.go suppressIfPortsDidNotChangeForMigrationV0ToV1."""
    if k == "ports.#" and old != new:
        return False
    olds = d.state.get("ports") or []
    news = d.config_with_defaults("ports") or []
    if len(olds) != len(news):
        return False
    for port_old in olds:
        found = False
        for port_new in news:
            if port_new.get("internal") == port_old.get("internal"):
                if port_new.get("protocol") != port_old.get("protocol"):
                    if any(
                        p.get("internal") == port_old.get("internal")
                        and p.get("protocol") == port_old.get("protocol")
                        for p in news
                    ):
                        continue
                    return False
                if port_new.get("external") != port_old.get("external"):
                    return False
                if port_new.get("ip") != port_old.get("ip"):
                    return False
                found = True
                break
        if not found:
            return False
    return True


def _ip_state(value: Any) -> Any:
    return value or "0.0.0.0"  # noqa: S104 - the provider's StateFunc for ports.ip


def _throttle() -> S:
    return S(
        SET,
        optional=True,
        elem={"path": S(STR, required=True), "rate": S(INT, required=True)},
    )


CONTAINER: dict[str, S] = {
    "name": S(STR, required=True, force_new=True),
    "rm": S(BOOL, default=False, optional=True),
    "read_only": S(BOOL, default=False, optional=True, force_new=True),
    "start": S(BOOL, default=True, optional=True),
    "wait": S(BOOL, default=False, optional=True),
    "wait_timeout": S(INT, default=60, optional=True),
    "attach": S(BOOL, default=False, optional=True),
    "logs": S(BOOL, default=False, optional=True),
    "must_run": S(BOOL, default=True, optional=True),
    "exit_code": S(INT, computed=True),
    "container_logs": S(STR, computed=True),
    "image": S(STR, required=True, force_new=True),
    "hostname": S(STR, optional=True, force_new=True, computed=True),
    "domainname": S(STR, optional=True, force_new=True),
    "command": _strs(optional=True, force_new=True, computed=True, p="command"),
    "entrypoint": _strs(optional=True, force_new=True, computed=True, p="entrypoints"),
    "user": S(STR, optional=True, force_new=True, suppress=_suppress_empty_new),
    "dns": _strs(SET, optional=True, force_new=True),
    "dns_opts": _strs(SET, optional=True, force_new=True),
    "dns_search": _strs(SET, optional=True, force_new=True, p="dnsSearches"),
    "publish_all_ports": S(BOOL, optional=True, force_new=True),
    "restart": S(STR, default="no", optional=True),
    "max_retry_count": S(INT, optional=True),
    "working_dir": S(STR, optional=True, force_new=True, suppress=_suppress_empty_new),
    "remove_volumes": S(BOOL, default=True, optional=True),
    "capabilities": S(
        SET,
        optional=True,
        force_new=True,
        max_items=1,
        elem={
            "add": _strs(SET, optional=True, force_new=True, p="adds"),
            "drop": _strs(SET, optional=True, force_new=True, p="drops"),
        },
    ),
    "security_opts": _strs(SET, optional=True, force_new=True, computed=True),
    "runtime": S(STR, optional=True, force_new=True, computed=True),
    "platform": S(STR, optional=True, force_new=True, computed=True),
    "stop_signal": S(STR, optional=True, force_new=True, computed=True),
    "stop_timeout": S(INT, optional=True, force_new=True, computed=True),
    "mounts": S(
        SET,
        optional=True,
        force_new=True,
        elem={
            **_mount_fields(),
            "bind_options": _block({"propagation": S(STR, optional=True)}, optional=True),
            "volume_options": _block(
                {**_volume_options(), "subpath": S(STR, optional=True, force_new=True)},
                optional=True,
            ),
            "tmpfs_options": _block(_tmpfs_options(), optional=True, force_new=True),
        },
    ),
    "volumes": S(
        SET,
        optional=True,
        force_new=True,
        elem={
            "from_container": S(STR, optional=True, force_new=True),
            "container_path": S(STR, optional=True, force_new=True),
            "host_path": S(STR, optional=True, force_new=True),
            "volume_name": S(STR, optional=True, force_new=True),
            "read_only": S(BOOL, optional=True, force_new=True),
            "selinux_relabel": S(STR, optional=True, force_new=True),
        },
    ),
    "tmpfs": S(MAP, optional=True),
    "ports": S(
        LIST,
        optional=True,
        force_new=True,
        suppress=_ports_unchanged,
        elem={
            "internal": S(INT, required=True, force_new=True),
            "external": S(INT, optional=True, computed=True, force_new=True),
            "ip": S(STR, default="0.0.0.0", optional=True, force_new=True, state_func=_ip_state),  # noqa: S104
            "protocol": S(STR, default="tcp", optional=True, force_new=True),
        },
    ),
    "host": _hosts(p="hosts"),
    "ulimit": S(
        SET,
        optional=True,
        force_new=True,
        p="ulimits",
        elem={
            "name": S(STR, required=True, force_new=True),
            "soft": S(INT, required=True, force_new=True),
            "hard": S(INT, required=True, force_new=True),
        },
    ),
    "env": _strs(SET, optional=True, force_new=True, computed=True, p="envs"),
    "bridge": S(STR, computed=True),
    "network_data": S(
        LIST,
        computed=True,
        p="networkDatas",
        elem={
            "network_name": S(STR, computed=True),
            "ip_address": S(STR, computed=True),
            "ip_prefix_length": S(INT, computed=True),
            "gateway": S(STR, computed=True),
            "global_ipv6_address": S(STR, computed=True),
            "global_ipv6_prefix_length": S(INT, computed=True),
            "ipv6_gateway": S(STR, computed=True),
            "mac_address": S(STR, computed=True),
        },
    ),
    "privileged": S(BOOL, optional=True, force_new=True),
    "devices": S(
        SET,
        optional=True,
        force_new=True,
        elem={
            "host_path": S(STR, required=True, force_new=True),
            "container_path": S(STR, optional=True, force_new=True),
            "permissions": S(STR, optional=True, force_new=True, default="rwm"),
        },
    ),
    "device_read_bps": _throttle(),
    "device_read_iops": _throttle(),
    "device_write_bps": _throttle(),
    "device_write_iops": _throttle(),
    "destroy_grace_seconds": S(INT, optional=True),
    "labels": S(SET, optional=True, force_new=True, computed=True, elem=_label(True)),
    "memory": S(INT, optional=True),
    "memory_reservation": S(INT, optional=True, default=0),
    "memory_swap": S(INT, optional=True),
    "shm_size": S(INT, optional=True, force_new=True, computed=True),
    "cpu_shares": S(INT, optional=True),
    "cpu_set": S(STR, optional=True),
    "log_driver": S(STR, computed=True, optional=True, force_new=True),
    "log_opts": S(MAP, optional=True, force_new=True),
    "network_mode": S(STR, optional=True, force_new=True, default="bridge"),
    "networks_advanced": S(
        SET,
        optional=True,
        force_new=True,
        p="networksAdvanced",
        elem={
            "name": S(STR, required=True, force_new=True),
            "aliases": _strs(SET, optional=True, force_new=True),
            "ipv4_address": S(STR, optional=True, force_new=True),
            "ipv6_address": S(STR, optional=True, force_new=True),
            "link_local_ips": _strs(SET, optional=True, force_new=True),
            "mac_address": S(STR, optional=True, force_new=True),
            "driver_opts": _strs(SET, optional=True, force_new=True),
            "gw_priority": S(INT, optional=True, force_new=True),
        },
    ),
    "pid_mode": S(STR, optional=True, force_new=True),
    "userns_mode": S(STR, optional=True, force_new=True),
    "healthcheck": _healthcheck("start_interval"),
    "container_read_refresh_timeout_milliseconds": S(INT, optional=True, default=15000),
    "sysctls": S(MAP, optional=True, force_new=True),
    "ipc_mode": S(STR, optional=True, force_new=True, computed=True),
    "group_add": _strs(SET, optional=True, force_new=True, p="groupAdds"),
    "init": S(BOOL, optional=True, computed=True),
    "tty": S(BOOL, default=False, optional=True, force_new=True),
    "stdin_open": S(BOOL, default=False, optional=True, force_new=True),
    "storage_opts": S(MAP, optional=True, force_new=True),
    "gpus": S(STR, optional=True, force_new=True),
    "cpus": S(STR, optional=True, force_new=True),
    "cpu_period": S(INT, optional=True),
    "cpu_quota": S(INT, optional=True),
    "cgroupns_mode": S(STR, optional=True, force_new=True),
    "cgroup_parent": S(STR, optional=True, force_new=True),
}


# ---------------------------------------------------------------------- Pulumi <-> TF shapes


def to_tf(value: dict[str, Any], schema: dict[str, S]) -> dict[str, Any]:
    """Pulumi property values (camelCase, MaxItems=1 blocks as objects) to the TF shape."""
    out: dict[str, Any] = {}
    for name, sch in schema.items():
        key = pname(name, sch)
        if key in value and value[key] is not None:
            out[name] = _to_tf_value(value[key], sch)
    return out


def _to_tf_value(value: Any, sch: S) -> Any:
    if is_unknown(value):
        return value
    block = sch.block
    if sch.max_one:
        return (
            [to_tf(value, block)] if isinstance(value, dict) else [to_tf(v, block) for v in value]
        )  # type: ignore[arg-type]
    if sch.type in (LIST, SET):
        items = value if isinstance(value, list) else [value]
        if block is not None:
            return [to_tf(v, block) if isinstance(v, dict) else v for v in items]
        return list(items)
    if sch.type == MAP:
        return dict(value)
    return value


def to_pulumi(value: dict[str, Any], schema: dict[str, S]) -> dict[str, Any]:
    """TF-shaped state to Pulumi outputs (every attribute of the schema; absent ones omitted)."""
    out: dict[str, Any] = {}
    for name, sch in schema.items():
        if name in value and value[name] is not None:
            out[pname(name, sch)] = _to_pulumi_value(value[name], sch)
    return out


def _to_pulumi_value(value: Any, sch: S) -> Any:
    block = sch.block
    if sch.max_one:
        return to_pulumi(value[0], block) if value else None  # type: ignore[arg-type]
    if sch.type in (LIST, SET):
        if block is not None:
            return [to_pulumi(v, block) for v in value]
        return list(value)
    if sch.type == MAP:
        return dict(value)
    return value


# ---------------------------------------------------------------------- set identity


def canonical(value: Any, sch: S, defaults: bool) -> Any:
    """A value as the TF readers return it: every field of a block present (config: Default,
    else the type's zero), sets ordered by code. The basis of set-element identity
    (schema.HashResource hashes Optional/Required fields)."""
    if value is None:
        if sch.type in PRIMITIVES:
            return sch.default if defaults and sch.default is not None else zero(sch)
        return {MAP: {}}.get(sch.type, [])
    if is_unknown(value):
        return value
    block = sch.block
    if sch.type in (LIST, SET):
        if block is not None:
            items = [
                {
                    k: canonical(v.get(k) if isinstance(v, dict) else None, s, defaults)
                    for k, s in block.items()
                    if s.optional or s.required
                }
                for v in value
            ]
        else:
            items = [canonical(v, sch.element, defaults) for v in value]
        if sch.type == SET:
            return sorted(items, key=lambda i: json.dumps(i, sort_keys=True))
        return items
    if sch.type == MAP:
        return {str(k): _weak(v) for k, v in value.items()}
    if sch.state_func is not None:
        value = sch.state_func(value)
    return value


def code(element: Any, sch: S, defaults: bool) -> str:
    """A stable identity for a set element (stands in for the SDK's hash code)."""
    elem = sch.block
    if elem is not None:
        canon = canonical([element], S(LIST, elem=elem), defaults)[0]
    else:
        canon = canonical(element, sch.element, defaults)
    digest = hashlib.sha256(json.dumps(canon, sort_keys=True).encode()).hexdigest()
    return str(int(digest[:8], 16))


# ---------------------------------------------------------------------- the differ


@dataclass
class AttrDiff:
    """terraform.ResourceAttrDiff."""

    old: str = ""
    new: str = ""
    new_computed: bool = False
    new_removed: bool = False
    requires_new: bool = False


def _weak(value: Any) -> str:
    """mapstructure.WeakDecode(value, &string)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


_MISSING = object()


@dataclass
class DiffContext:
    """What a DiffSuppressFunc's *ResourceData exposes: the state and the config."""

    schema: dict[str, S]
    state: dict[str, Any]
    config: dict[str, Any]
    resource_id: str = "id"

    def config_with_defaults(self, key: str) -> Any:
        value = self.config.get(key)
        sch = self.schema[key]
        return None if value is None else canonical(value, sch, True)

    def lookup(self, root: dict[str, Any], parts: list[str], defaults: bool) -> Any:
        """The value at a flat TF key, or _MISSING. The config side applies Defaults."""
        value: Any = root
        schema: dict[str, S] | None = self.schema
        sch: S | None = None
        i = 0
        while i < len(parts):
            part = parts[i]
            if sch is not None and sch.type in (LIST, SET):
                if not isinstance(value, list):
                    return _MISSING
                if sch.type == LIST:
                    idx = int(part)
                    if idx >= len(value):
                        return _MISSING
                    value = value[idx]
                else:
                    found = [v for v in value if code(v, sch, defaults) == part]
                    if not found:
                        return _MISSING
                    value = found[0]
                schema = sch.block
                if schema is None:
                    sch = sch.element
                    i += 1
                    continue
                sch = None
                i += 1
                continue
            if sch is not None and sch.type == MAP:
                key = ".".join(parts[i:])  # flatmap keys of a map may contain dots
                return value.get(key, _MISSING) if isinstance(value, dict) else _MISSING
            assert schema is not None
            sch = schema[part]
            if not isinstance(value, dict) or value.get(part) is None:
                if defaults and sch.type in PRIMITIVES and sch.default is not None:
                    value = sch.default
                else:
                    return _MISSING
            else:
                value = value[part]
            i += 1
        return value


class Differ:
    """schemaMap.Diff for one resource (the non-destroy, non-customized path)."""

    def __init__(self, schema: dict[str, S], state: dict[str, Any], config: dict[str, Any]):
        self.ctx = DiffContext(schema, state, config)
        self.schema = schema

    def change(self, key: str) -> tuple[Any, Any, bool]:
        parts = key.split(".")
        o = self.ctx.lookup(self.ctx.state, parts, False)
        n = self.ctx.lookup(self.ctx.config, parts, True)
        computed = n is not _MISSING and is_unknown(n)
        return (None if o is _MISSING else o), (None if n is _MISSING else n), computed

    def diff(self) -> dict[str, AttrDiff]:
        result: dict[str, AttrDiff | None] = {}
        for k, sch in self.schema.items():
            self._diff(k, sch, result, False)
        return {k: v for k, v in result.items() if v is not None}

    def _diff(self, k: str, sch: S, out: dict[str, AttrDiff | None], all_: bool) -> None:
        unsuppressed: dict[str, AttrDiff | None] = {}
        if sch.type in PRIMITIVES:
            self._diff_string(k, sch, unsuppressed, all_)
        elif sch.type == LIST:
            self._diff_list(k, sch, unsuppressed, all_)
        elif sch.type == MAP:
            self._diff_map(k, sch, unsuppressed, all_)
        else:
            self._diff_set(k, sch, unsuppressed, all_)
        for attr_k, attr_v in unsuppressed.items():
            if (
                sch.suppress is not None
                and attr_v is not None
                and sch.suppress(attr_k, attr_v.old, attr_v.new, self.ctx)
            ):
                if not all_:
                    continue
                attr_v = AttrDiff(old=attr_v.old, new=attr_v.old)
            out[attr_k] = attr_v

    @staticmethod
    def finalize(sch: S, d: AttrDiff | None) -> AttrDiff | None:
        """Schema.finalizeDiff (customized is always false here)."""
        if d is None:
            return d
        if sch.type == BOOL:
            d.old = {"0": "false", "1": "true"}.get(d.old, d.old)
            d.new = {"0": "false", "1": "true"}.get(d.new, d.new)
        if sch.computed and not d.new_removed and d.new == "":
            d.new_computed = True
        if sch.force_new:
            d.requires_new = d.old != d.new or d.new_computed
        if d.new_removed:
            return d
        if sch.computed:
            if d.old != "" and d.new == "":
                return None
            if d.new == "" and not d.new_computed:
                d.new_computed = True
        return d

    def _diff_string(self, k: str, sch: S, out: dict[str, AttrDiff | None], all_: bool) -> None:
        o, n, computed = self.change(k)
        if sch.state_func is not None and n is not None:
            n = sch.state_func(n)
        nraw = n
        if nraw is None and o is not None:
            nraw = zero(sch)
        os_, ns = _weak(o), _weak(nraw)
        if os_ == ns and not all_ and not computed:
            return  # d.Id() != "": an existing resource
        removed = o is not None and n is None and not computed
        if removed and sch.computed:
            return
        attr = self.finalize(
            sch, AttrDiff(old=os_, new=ns, new_removed=removed, new_computed=computed)
        )
        if attr is not None:
            out[k] = attr

    def _diff_list(self, k: str, sch: S, out: dict[str, AttrDiff | None], all_: bool) -> None:
        o, n, computed_list = self.change(k)
        if computed_list:
            n = None
        n_set = n is not None
        if o is not None and n is None and not computed_list and sch.computed:
            return
        os_ = o or []
        vs = n or []
        if not all_ and n_set and canonical(os_, sch, False) == canonical(vs, sch, True):
            return
        old_len, new_len = len(os_), len(vs)
        old_str = str(old_len)
        if computed_list:
            out[k + ".#"] = AttrDiff(old=old_str, new_computed=True, requires_new=sch.force_new)
            return
        changed = old_len != new_len
        computed = old_len == 0 and new_len == 0 and sch.computed
        if changed or computed or all_:
            count = S(INT, computed=sch.computed, force_new=sch.force_new)
            new_str = ""
            if not computed:
                new_str = str(new_len)
            else:
                old_str = ""
            attr = self.finalize(count, AttrDiff(old=old_str, new=new_str))
            if attr is not None:
                out[k + ".#"] = attr
            else:
                out.pop(k + ".#", None)
        for i in range(max(old_len, new_len)):
            self._diff_element(f"{k}.{i}", sch, out, all_)

    def _diff_map(self, k: str, sch: S, out: dict[str, AttrDiff | None], all_: bool) -> None:
        o, n, n_computed = self.change(k)
        state_map = {str(a): _weak(b) for a, b in (o or {}).items()}
        config_map = (
            {str(a): _weak(b) for a, b in n.items()}
            if isinstance(n, dict) and not n_computed
            else {}
        )
        state_exists = o is not None
        old_len, new_len = len(state_map), len(config_map)
        changed = old_len != new_len
        if old_len != 0 and new_len == 0 and sch.computed:
            changed = False
        computed = old_len == 0 and new_len == 0 and sch.computed and not state_exists
        if changed or computed or n_computed:
            count = S(INT, computed=sch.computed or n_computed, force_new=sch.force_new)
            old_str = str(old_len)
            new_str = ""
            if not computed and not n_computed:
                new_str = str(new_len)
            else:
                old_str = ""
            attr = self.finalize(count, AttrDiff(old=old_str, new=new_str))
            if attr is not None:
                out[k + ".%"] = attr
            else:
                out.pop(k + ".%", None)
        if n is None and sch.computed:
            return
        elem = S(STR, computed=sch.computed, force_new=sch.force_new)
        for key, value in config_map.items():
            old = state_map.pop(key, None)
            if old == value and not all_:
                continue
            attr = self.finalize(elem, AttrDiff(old=old or "", new=value))
            if attr is not None:
                out[f"{k}.{key}"] = attr
        for key, value in state_map.items():
            attr = self.finalize(elem, AttrDiff(old=value, new_removed=True))
            if attr is not None:
                out[f"{k}.{key}"] = attr

    def _diff_set(self, k: str, sch: S, out: dict[str, AttrDiff | None], all_: bool) -> None:
        o, n, computed_set = self.change(k)
        if computed_set:
            n = None
        n_set = n is not None
        if o is not None and n is None and not computed_set and sch.computed:
            return
        old_codes = [code(v, sch, False) for v in o or []]
        new_codes = [code(v, sch, True) for v in n or []]
        old_codes = list(dict.fromkeys(old_codes))
        new_codes = list(dict.fromkeys(new_codes))
        if not all_ and n_set and sorted(old_codes) == sorted(new_codes):
            return
        count = S(INT, computed=sch.computed, force_new=sch.force_new)
        if computed_set or (sch.computed and not n_set):
            # d.GetOk(k + ".#") with no state (o is None here): not ok, so countStr is "".
            attr = self.finalize(count, AttrDiff(old="", new_computed=True))
            if attr is not None:
                out[k + ".#"] = attr
            return
        if len(old_codes) != len(new_codes) or all_:
            attr = self.finalize(count, AttrDiff(old=str(len(old_codes)), new=str(len(new_codes))))
            if attr is not None:
                out[k + ".#"] = attr
        gone = [c for c in old_codes if c not in new_codes]
        for c in gone + new_codes:
            self._diff_element(f"{k}.{c}", sch, out, True)

    def _diff_element(self, k: str, sch: S, out: dict[str, AttrDiff | None], all_: bool) -> None:
        """One element of a list or set (diffList/diffSet): each field of a block, or the
        primitive element itself, which takes the collection's ForceNew."""
        block = sch.block
        if block is not None:
            for k2, sub in block.items():
                self._diff(f"{k}.{k2}", sub, out, all_)
        else:
            self._diff(k, dataclasses.replace(sch.element, force_new=sch.force_new), out, all_)


# ---------------------------------------------------------------------- the bridge


@dataclass
class BridgeDiff:
    changes: bool
    diffs: list[str]
    replaces: list[str]
    detailed: dict[str, str]  # Pulumi property path -> kind
    attributes: dict[str, AttrDiff] = field(default_factory=dict)


_PATH_PART = re.compile(r"\[(\d+)\]|\[\"((?:[^\"\\]|\\.)*)\"\]|\.?([^.\[]+)")


def _split_pulumi_path(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for m in _PATH_PART.finditer(path):
        if m.group(1) is not None:
            parts.append(int(m.group(1)))
        elif m.group(2) is not None:
            parts.append(m.group(2))
        elif m.group(3) not in (None, "*"):
            parts.append(m.group(3))
        else:
            parts.append("*")
    return parts


def ignore_keys(
    schema: dict[str, S], olds: dict[str, Any], news: dict[str, Any], paths: list[str]
) -> list[str]:
    """Pulumi ignoreChanges paths as TF flat-key prefixes (pkg/tfbridge/diff.go
    computeIgnoreChanges, simplified: `*` and indexes into sets resolve against olds, then news)."""
    keys: list[str] = []
    for path in paths:
        parts = _split_pulumi_path(path)
        tf_parts: list[str] = []
        block: dict[str, S] | None = schema
        sch: S | None = None
        old_v: Any = olds
        new_v: Any = news
        ok = True
        i = 0
        while i < len(parts):
            part = parts[i]
            if sch is not None and sch.type == MAP:
                tf_parts.append(str(part))
                i += 1
                continue
            if sch is not None and sch.type in (LIST, SET) and not sch.max_one:
                if part == "*":
                    break
                if not isinstance(part, int):
                    ok = False
                    break
                if sch.type == LIST:
                    tf_parts.append(str(part))
                else:
                    source, defaults = (old_v, False) if isinstance(old_v, list) else (new_v, True)
                    if not isinstance(source, list) or part >= len(source):
                        ok = False
                        break
                    tf_parts.append(code(source[part], sch, defaults))
                old_v = old_v[part] if isinstance(old_v, list) and part < len(old_v) else None
                new_v = new_v[part] if isinstance(new_v, list) and part < len(new_v) else None
                block = sch.block
                sch = None
                i += 1
                continue
            if block is None:
                ok = False
                break
            match = [(n, s) for n, s in block.items() if pname(n, s) == part]
            if not match:
                ok = False
                break
            name, sch = match[0]
            tf_parts.append(name)
            old_v = old_v.get(part) if isinstance(old_v, dict) else None
            new_v = new_v.get(part) if isinstance(new_v, dict) else None
            if sch.max_one:
                tf_parts.append("0")
                block = sch.block
                old_v = old_v[0] if isinstance(old_v, list) and old_v else old_v
                new_v = new_v[0] if isinstance(new_v, list) and new_v else new_v
                sch = None
            i += 1
        if ok:
            keys.append(".".join(tf_parts))
    return keys


def process_ignore_changes(attrs: dict[str, AttrDiff], keys: list[str]) -> dict[str, AttrDiff]:
    """pkg/tfshim/sdk-v2/instance_diff.go processIgnoreChanges: drop a key equal to an ignored
    key or under it."""
    return {
        k: v for k, v in attrs.items() if not any(k == ig or k.startswith(ig + ".") for ig in keys)
    }


def _pulumi_path(
    key: str, schema: dict[str, S], olds: dict[str, Any], news: dict[str, Any]
) -> tuple[str, bool, bool]:
    """A TF flat key as a Pulumi property path, and whether it exists in olds and in news."""
    parts = key.split(".")
    out = ""
    block: dict[str, S] | None = schema
    sch: S | None = None
    old_v: Any = olds
    new_v: Any = news
    i = 0
    while i < len(parts):
        part = parts[i]
        if part in ("#", "%"):
            break
        if sch is not None and sch.type == MAP:
            part = ".".join(parts[i:])  # flatmap keys of a map may contain dots
            out += f".{part}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part) else f'["{part}"]'
            old_v = old_v.get(part) if isinstance(old_v, dict) else None
            new_v = new_v.get(part) if isinstance(new_v, dict) else None
            break
        if sch is not None and sch.type in (LIST, SET):
            if sch.max_one:
                old_v = old_v if isinstance(old_v, dict) else None
                new_v = new_v if isinstance(new_v, dict) else None
            else:
                if sch.type == LIST:
                    idx = int(part)
                else:
                    olds_l = old_v if isinstance(old_v, list) else []
                    news_l = new_v if isinstance(new_v, list) else []
                    new_idx = [j for j, v in enumerate(news_l) if code(v, sch, True) == part]
                    old_idx = [j for j, v in enumerate(olds_l) if code(v, sch, False) == part]
                    idx = (new_idx or old_idx or [0])[0]
                    if not new_idx:
                        new_v = None
                    if not old_idx:
                        old_v = None
                out += f"[{idx}]"
                old_v = old_v[idx] if isinstance(old_v, list) and idx < len(old_v) else None
                new_v = new_v[idx] if isinstance(new_v, list) and idx < len(new_v) else None
            block = sch.block
            sch = sch if block is None else None
            i += 1
            continue
        assert block is not None
        sch = block[part]
        out += ("." if out else "") + pname(part, sch)
        old_v = old_v.get(part) if isinstance(old_v, dict) else None
        new_v = new_v.get(part) if isinstance(new_v, dict) else None
        if sch.max_one and i + 1 < len(parts) and parts[i + 1] == "0":
            old_v = old_v[0] if isinstance(old_v, list) and old_v else None
            new_v = new_v[0] if isinstance(new_v, list) and new_v else None
            block = sch.block
            sch = None
            i += 2
            continue
        i += 1
    return out, old_v is not None, new_v is not None


def _is_max_one(key: str, schema: dict[str, S]) -> bool:
    parts = key.split(".")[:-1]
    block: dict[str, S] | None = schema
    sch: S | None = None
    for part in parts:
        if block is not None and part in block:
            sch = block[part]
            block = sch.block
    return sch is not None and sch.max_one


def bridge_diff(
    schema: dict[str, S],
    state: dict[str, Any],
    config: dict[str, Any],
    ignore_changes: list[str] | None = None,
) -> BridgeDiff:
    """The DiffResponse that pulumi-terraform-bridge builds from the TF diff of `config` (the
    checked news, TF shape) against `state` (the stored outputs, TF shape)."""
    state = with_empty_collections(state, schema)
    attrs = Differ(schema, state, config).diff()
    if ignore_changes:
        attrs = process_ignore_changes(attrs, ignore_keys(schema, state, config, ignore_changes))
    detailed: dict[str, str] = {}
    collections: dict[str, str] = {}
    for key, d in sorted(attrs.items()):
        if d.old == d.new and not d.new_removed and not d.new_computed:
            continue
        path, in_old, in_new = _pulumi_path(key, schema, state, config)
        top = key.split(".")[0]
        arr = attrs.get(top + ".#")
        replace = d.requires_new or bool(arr and arr.requires_new and "." in key)
        if key.endswith((".#", ".%")):
            # makePropertyDiff: a count change of a list/set/map the values hold is a
            # collection diff of kind UPDATE (MaxItems=1 blocks are objects: no ".%" key)
            # A collection that will be computed (an unknown input: a preview, or the engine's
            # dependent-replacement check) is an update of the whole property.
            if d.new_computed:
                collections[path] = "update-replace" if d.requires_new else "update"
            elif d.old != d.new and not _is_max_one(key, schema):
                collections[path] = "update"
            continue
        if d.new_removed:
            kind = "delete"
        elif in_old and in_new:
            kind = "update"
        else:
            kind = "add"
        kind += "-replace" if replace else ""
        previous = detailed.get(path, "")
        if {previous.split("-")[0], kind.split("-")[0]} == {"delete", "add"}:
            # olds are visited first, then news: the same path in both is an update
            kind = "update" + ("-replace" if replace or previous.endswith("replace") else "")
        detailed[path] = kind
    for path, kind in collections.items():
        detailed[path] = kind
    changes = any(d.old != d.new or d.new_removed or d.new_computed for d in attrs.values())
    tops = sorted({re.split(r"[.\[]", p, maxsplit=1)[0] for p in detailed})
    replaces = sorted(
        {re.split(r"[.\[]", p, maxsplit=1)[0] for p, k in detailed.items() if k.endswith("replace")}
    )
    return BridgeDiff(changes, tops, replaces, detailed, attrs)


def with_empty_collections(state: dict[str, Any], schema: dict[str, S]) -> dict[str, Any]:
    """The SDK writes a zero count for a top-level list/set nothing set ("labels.#" = "0")."""
    out = dict(state)
    for name, sch in schema.items():
        if out.get(name) is None and sch.type in (LIST, SET):
            out[name] = []
    return out


def apply_defaults(value: dict[str, Any], schema: dict[str, S]) -> dict[str, Any]:
    """TF shape: a block with the schema's Defaults filled in where the config has no value
    (what the SDK's config reader returns, and what the bridge's Check adds to the inputs)."""
    out = dict(value)
    for name, sch in schema.items():
        v = out.get(name)
        if v is None:
            if sch.type in PRIMITIVES and sch.default is not None:
                out[name] = sch.default
            continue
        if is_unknown(v):
            continue
        block = sch.block
        if block is not None and isinstance(v, list):
            out[name] = [apply_defaults(e, block) if isinstance(e, dict) else e for e in v]
    return out
