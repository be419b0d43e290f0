"""The Terraform schemas of docker_network, docker_service and docker_container as
terraform-provider-docker declares them (upstream: FIDELITY.md): the attributes the differ uses.
"""

from __future__ import annotations

from typing import Any

from tests.engine.providers.tf_diff import DiffContext
from tests.engine.providers.tf_schema import BOOL, INT, LIST, MAP, SET, STR, S


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
