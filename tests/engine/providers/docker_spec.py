"""pulumi-docker inputs (camelCase wire names) to Docker Engine API objects.

Follows kreuzwerker/terraform-provider-docker, which pulumi-docker 5.x bridges: durations are Go
duration strings converted to nanoseconds, label lists become maps, env maps become sorted
"K=V" lists.
"""

from __future__ import annotations

from typing import Any

from tests.engine.props import parse_duration_ns


def _labels(items: list[dict[str, Any]] | None) -> dict[str, str]:
    return {str(i["label"]): str(i.get("value", "")) for i in items or []}


def _duration(value: Any) -> int | None:
    return None if value in (None, "") else parse_duration_ns(str(value))


def _drop_none(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v not in (None, [], {})}


# ---------------------------------------------------------------- networks


def network_create_kwargs(inputs: dict[str, Any]) -> dict[str, Any]:
    pools = [
        _drop_none(
            {
                "Subnet": c.get("subnet"),
                "IPRange": c.get("ipRange"),
                "Gateway": c.get("gateway"),
                "AuxiliaryAddresses": c.get("auxAddress"),
            }
        )
        for c in inputs.get("ipamConfigs") or []
    ]
    ipam = None
    if pools or inputs.get("ipamDriver") or inputs.get("ipamOptions"):
        ipam = _drop_none(
            {
                "Driver": inputs.get("ipamDriver") or "default",
                "Config": pools,
                "Options": inputs.get("ipamOptions"),
            }
        )
    return _drop_none(
        {
            "name": inputs["name"],
            "driver": inputs.get("driver"),
            "options": inputs.get("options"),
            "ipam": ipam,
            "internal": inputs.get("internal"),
            "attachable": inputs.get("attachable"),
            "ingress": inputs.get("ingress"),
            "enable_ipv6": inputs.get("ipv6"),
            "labels": _labels(inputs.get("labels")),
            "check_duplicate": True,
        }
    )


# ---------------------------------------------------------------- services


def _container_spec(spec: dict[str, Any]) -> dict[str, Any]:
    env = spec.get("env") or {}
    healthcheck = spec.get("healthcheck")
    dns = spec.get("dnsConfig")
    privileges = spec.get("privileges")
    return _drop_none(
        {
            "Image": spec["image"],
            "Labels": _labels(spec.get("labels")),
            "Command": spec.get("commands"),
            "Args": spec.get("args"),
            "Hostname": spec.get("hostname"),
            "Env": [f"{k}={env[k]}" for k in sorted(env)],
            "Dir": spec.get("dir"),
            "User": spec.get("user"),
            "Groups": spec.get("groups"),
            "Privileges": _privileges(privileges) if privileges else None,
            "ReadOnly": spec.get("readOnly"),
            "Mounts": [_mount(m) for m in spec.get("mounts") or []],
            "StopSignal": spec.get("stopSignal"),
            "StopGracePeriod": _duration(spec.get("stopGracePeriod")),
            "Healthcheck": _healthcheck(healthcheck) if healthcheck else None,
            "Hosts": [f"{h['ip']} {h['host']}" for h in spec.get("hosts") or []],
            "DNSConfig": _drop_none(
                {
                    "Nameservers": dns.get("nameservers"),
                    "Search": dns.get("searches"),
                    "Options": dns.get("options"),
                }
            )
            if dns
            else None,
            "Secrets": [_file_ref(s, "secret") for s in spec.get("secrets") or []],
            "Configs": [_file_ref(c, "config") for c in spec.get("configs") or []],
            "Isolation": spec.get("isolation"),
            "Init": spec.get("init"),
            "Sysctls": spec.get("sysctl"),
            "CapabilityAdd": spec.get("capAdds"),
            "CapabilityDrop": spec.get("capDrops"),
        }
    )


def _privileges(p: dict[str, Any]) -> dict[str, Any]:
    cred = p.get("credentialSpec") or {}
    se = p.get("seLinuxContext") or {}
    return _drop_none(
        {
            "CredentialSpec": _drop_none(
                {"File": cred.get("file"), "Registry": cred.get("registry")}
            ),
            "SELinuxContext": _drop_none(
                {
                    "Disable": se.get("disable"),
                    "User": se.get("user"),
                    "Role": se.get("role"),
                    "Type": se.get("type"),
                    "Level": se.get("level"),
                }
            ),
        }
    )


def _healthcheck(h: dict[str, Any]) -> dict[str, Any]:
    return _drop_none(
        {
            "Test": h.get("tests"),
            "Interval": _duration(h.get("interval")),
            "Timeout": _duration(h.get("timeout")),
            "StartPeriod": _duration(h.get("startPeriod")),
            "StartInterval": _duration(h.get("startInterval")),
            "Retries": h.get("retries"),
        }
    )


def _mount(m: dict[str, Any]) -> dict[str, Any]:
    bind = m.get("bindOptions") or {}
    volume = m.get("volumeOptions") or {}
    tmpfs = m.get("tmpfsOptions") or {}
    return _drop_none(
        {
            "Target": m["target"],
            "Source": m.get("source"),
            "Type": m["type"],
            "ReadOnly": m.get("readOnly"),
            "BindOptions": _drop_none({"Propagation": bind.get("propagation")}),
            "VolumeOptions": _drop_none(
                {
                    "NoCopy": volume.get("noCopy"),
                    "Labels": _labels(volume.get("labels")),
                    "DriverConfig": _drop_none(
                        {"Name": volume.get("driverName"), "Options": volume.get("driverOptions")}
                    ),
                }
            ),
            "TmpfsOptions": _drop_none(
                {"SizeBytes": tmpfs.get("sizeBytes"), "Mode": tmpfs.get("mode")}
            ),
        }
    )


def _file_ref(item: dict[str, Any], kind: str) -> dict[str, Any]:
    return _drop_none(
        {
            f"{kind.capitalize()}ID": item.get(f"{kind}Id"),
            f"{kind.capitalize()}Name": item.get(f"{kind}Name"),
            "File": _drop_none(
                {
                    "Name": item.get("fileName"),
                    "UID": item.get("fileUid", "0"),
                    "GID": item.get("fileGid", "0"),
                    "Mode": item.get("fileMode", 0o444),
                }
            ),
        }
    )


def _resources(r: dict[str, Any]) -> dict[str, Any]:
    limits = r.get("limits") or {}
    reservation = r.get("reservation") or {}
    return _drop_none(
        {
            "Limits": _drop_none(
                {"NanoCPUs": limits.get("nanoCpus"), "MemoryBytes": limits.get("memoryBytes")}
            ),
            "Reservations": _drop_none(
                {
                    "NanoCPUs": reservation.get("nanoCpus"),
                    "MemoryBytes": reservation.get("memoryBytes"),
                }
            ),
        }
    )


def _placement(p: dict[str, Any]) -> dict[str, Any]:
    return _drop_none(
        {
            "Constraints": p.get("constraints"),
            "Preferences": [{"Spread": {"SpreadDescriptor": s}} for s in p.get("prefs") or []],
            "MaxReplicas": p.get("maxReplicas"),
            "Platforms": [
                {"Architecture": x.get("architecture"), "OS": x.get("os")}
                for x in p.get("platforms") or []
            ],
        }
    )


def _restart_policy(r: dict[str, Any]) -> dict[str, Any]:
    return _drop_none(
        {
            "Condition": r.get("condition"),
            "Delay": _duration(r.get("delay")),
            "MaxAttempts": r.get("maxAttempts"),
            "Window": _duration(r.get("window")),
        }
    )


def _update_config(u: dict[str, Any] | None) -> dict[str, Any] | None:
    if not u:
        return None
    ratio = u.get("maxFailureRatio")
    return _drop_none(
        {
            "Parallelism": u.get("parallelism"),
            "Delay": _duration(u.get("delay")),
            "FailureAction": u.get("failureAction"),
            "Monitor": _duration(u.get("monitor")),
            "MaxFailureRatio": float(ratio) if ratio not in (None, "") else None,
            "Order": u.get("order"),
        }
    )


def task_template(task: dict[str, Any]) -> dict[str, Any]:
    log_driver = task.get("logDriver")
    return _drop_none(
        {
            "ContainerSpec": _container_spec(task["containerSpec"]),
            "Resources": _resources(task["resources"]) if task.get("resources") else None,
            "RestartPolicy": _restart_policy(task["restartPolicy"])
            if task.get("restartPolicy")
            else None,
            "Placement": _placement(task["placement"]) if task.get("placement") else None,
            "ForceUpdate": task.get("forceUpdate"),
            "Runtime": task.get("runtime"),
            "Networks": [
                _drop_none(
                    {
                        "Target": n.get("id") or n.get("name"),
                        "Aliases": n.get("aliases"),
                        "DriverOpts": _driver_opts(n.get("driverOpts")),
                    }
                )
                for n in task.get("networksAdvanceds") or []
            ],
            "LogDriver": _drop_none(
                {"Name": log_driver.get("name"), "Options": log_driver.get("options")}
            )
            if log_driver
            else None,
        }
    )


def _driver_opts(opts: list[str] | None) -> dict[str, str] | None:
    if not opts:
        return None
    pairs = [o.split("=", 1) if "=" in o else [o, ""] for o in opts]
    return {key: value for key, value in pairs}


def service_mode(mode: dict[str, Any] | None) -> dict[str, Any]:
    if mode and mode.get("global"):
        return {"Global": {}}
    replicas = ((mode or {}).get("replicated") or {}).get("replicas", 1)
    return {"Replicated": {"Replicas": int(replicas)}}


def endpoint_spec(spec: dict[str, Any] | None) -> dict[str, Any] | None:
    if not spec:
        return None
    return _drop_none(
        {
            "Mode": spec.get("mode") or "vip",
            "Ports": [
                _drop_none(
                    {
                        "Name": p.get("name"),
                        "Protocol": p.get("protocol") or "tcp",
                        "TargetPort": p["targetPort"],
                        "PublishedPort": p.get("publishedPort"),
                        "PublishMode": p.get("publishMode") or "ingress",
                    }
                )
                for p in spec.get("ports") or []
            ],
        }
    )


def service_kwargs(inputs: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for docker.APIClient.create_service / update_service."""
    return _drop_none(
        {
            "task_template": task_template(inputs["taskSpec"]),
            "name": inputs["name"],
            "labels": _labels(inputs.get("labels")),
            "mode": service_mode(inputs.get("mode")),
            "update_config": _update_config(inputs.get("updateConfig")),
            "rollback_config": _update_config(inputs.get("rollbackConfig")),
            "endpoint_spec": endpoint_spec(inputs.get("endpointSpec")),
        }
    )


# ---------------------------------------------------------------- containers


def container_create_body(inputs: dict[str, Any]) -> dict[str, Any]:
    """The body of POST /containers/create (Config + HostConfig + NetworkingConfig)."""
    ports = inputs.get("ports") or []
    exposed: dict[str, dict[str, Any]] = {}
    bindings: dict[str, list[dict[str, str]]] = {}
    for p in ports:
        key = f"{p['internal']}/{p.get('protocol') or 'tcp'}"
        exposed[key] = {}
        if p.get("external") is not None:
            bindings.setdefault(key, []).append(
                {"HostIp": p.get("ip") or "0.0.0.0", "HostPort": str(p["external"])}  # noqa: S104
            )
    healthcheck = inputs.get("healthcheck")
    restart = inputs.get("restart") or "no"
    networks = inputs.get("networksAdvanced") or []
    host_config = _drop_none(
        {
            "PortBindings": bindings,
            "PublishAllPorts": inputs.get("publishAllPorts"),
            "RestartPolicy": _drop_none(
                {
                    "Name": restart,
                    "MaximumRetryCount": inputs.get("maxRetryCount")
                    if restart == "on-failure"
                    else None,
                }
            ),
            "NetworkMode": inputs.get("networkMode") or (networks[0]["name"] if networks else None),
            "Privileged": inputs.get("privileged"),
            "Binds": [_bind(v) for v in inputs.get("volumes") or [] if v.get("hostPath")]
            + [
                f"{v['volumeName']}:{v['containerPath']}"
                for v in inputs.get("volumes") or []
                if v.get("volumeName") and not v.get("hostPath")
            ],
            "Mounts": [_mount(m) for m in inputs.get("mounts") or []],
            "Dns": inputs.get("dns"),
            "DnsOptions": inputs.get("dnsOpts"),
            "DnsSearch": inputs.get("dnsSearches"),
            "ExtraHosts": [f"{h['host']}:{h['ip']}" for h in inputs.get("hosts") or []],
            "CapAdd": (inputs.get("capabilities") or {}).get("adds"),
            "CapDrop": (inputs.get("capabilities") or {}).get("drops"),
            "Memory": _mb(inputs.get("memory")),
            "MemorySwap": _mb(inputs.get("memorySwap")),
            "ShmSize": _mb(inputs.get("shmSize")),
            "CpuShares": inputs.get("cpuShares"),
            "ReadonlyRootfs": inputs.get("readOnly"),
            "Init": inputs.get("init"),
            "SecurityOpt": inputs.get("securityOpts"),
            "Sysctls": inputs.get("sysctls"),
            "Tmpfs": inputs.get("tmpfs"),
            "LogConfig": _drop_none(
                {"Type": inputs.get("logDriver"), "Config": inputs.get("logOpts")}
            ),
            "Ulimits": [
                {"Name": u["name"], "Soft": u["soft"], "Hard": u["hard"]}
                for u in inputs.get("ulimits") or []
            ],
            "PidMode": inputs.get("pidMode"),
            "IpcMode": inputs.get("ipcMode"),
            "UsernsMode": inputs.get("usernsMode"),
            "GroupAdd": inputs.get("groupAdds"),
            "Runtime": inputs.get("runtime"),
        }
    )
    endpoints = {
        n["name"]: _drop_none({"Aliases": n.get("aliases")}) for n in networks[:1] if n.get("name")
    }
    body = _drop_none(
        {
            "Image": inputs["image"],
            "Hostname": inputs.get("hostname"),
            "Domainname": inputs.get("domainname"),
            "User": inputs.get("user"),
            "Env": inputs.get("envs"),
            "Cmd": inputs.get("command"),
            "Entrypoint": inputs.get("entrypoints"),
            "WorkingDir": inputs.get("workingDir"),
            "Labels": _labels(inputs.get("labels")),
            "Tty": inputs.get("tty"),
            "OpenStdin": inputs.get("stdinOpen"),
            "StopSignal": inputs.get("stopSignal"),
            "StopTimeout": inputs.get("stopTimeout"),
            "ExposedPorts": exposed,
            "Healthcheck": _healthcheck(healthcheck) if healthcheck else None,
            "HostConfig": host_config,
            "NetworkingConfig": {"EndpointsConfig": endpoints} if endpoints else None,
        }
    )
    return body


def _bind(volume: dict[str, Any]) -> str:
    mode = ":ro" if volume.get("readOnly") else ""
    return f"{volume['hostPath']}:{volume['containerPath']}{mode}"


def _mb(value: Any) -> int | None:
    return None if value in (None, 0) else int(value) * 1024 * 1024
