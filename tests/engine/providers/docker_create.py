"""The API bodies terraform-provider-docker sends to the daemon, built from the TF config
(upstream: FIDELITY.md). The provider reads every key of a block with d.Get, so each is present
with its zero value: e.g. StopGracePeriod 0, Healthcheck {}, DNSConfig {}, Init false and
Isolation "default" are always sent.
"""

from __future__ import annotations

from typing import Any

from tests.engine.props import parse_duration_ns
from tests.engine.providers.docker_schema import CONTAINER
from tests.engine.providers.tf_schema import to_pulumi


def _ns(text: Any) -> int:
    """time.ParseDuration, errors ignored as the provider does (`parsed, _ :=`): 0."""
    try:
        return parse_duration_ns(str(text)) if text not in (None, "") else 0
    except (ValueError, KeyError):
        return 0


def _label_map(labels: list[dict[str, Any]] | None) -> dict[str, str]:
    """The provider's label blocks ({label, value}) as a Docker labels map."""
    return {str(i["label"]): str(i.get("value", "")) for i in labels or []}


def _one(block: list[Any] | None) -> dict[str, Any]:
    return (block or [{}])[0] or {}


def _kv_list(items: list[str] | None) -> dict[str, str]:
    """stringSetToMapStringString."""
    out: dict[str, str] = {}
    for item in items or []:
        if "=" in item:
            key, value = item.split("=", 1)
            out[key] = value
    return out


# ---------------------------------------------------------------------- networks


def network_create_body(c: dict[str, Any]) -> dict[str, Any]:
    """resourceDockerNetworkCreate: NetworkCreate options from d.GetOk (zero values omitted)."""
    body: dict[str, Any] = {"Name": c["name"], "CheckDuplicate": True}
    if c.get("labels"):
        body["Labels"] = _label_map(c["labels"])
    if c.get("driver"):
        body["Driver"] = c["driver"]
    if c.get("options"):
        body["Options"] = {k: str(v) for k, v in c["options"].items()}
    for key, api in (
        ("internal", "Internal"),
        ("attachable", "Attachable"),
        ("ingress", "Ingress"),
    ):
        if c.get(key):
            body[api] = True
    if c.get("ipv6"):
        body["EnableIPv6"] = True
    ipam: dict[str, Any] = {}
    if c.get("ipam_driver"):
        ipam["Driver"] = c["ipam_driver"]
    if c.get("ipam_config"):
        ipam["Config"] = [
            {
                "Subnet": e.get("subnet") or "",
                "IPRange": e.get("ip_range") or "",
                "Gateway": e.get("gateway") or "",
                "AuxiliaryAddresses": dict(e.get("aux_address") or {}),
            }
            for e in c["ipam_config"]
        ]
    if c.get("ipam_options"):
        ipam["Options"] = dict(c["ipam_options"])
    if ipam:
        body["IPAM"] = ipam
    return body


# ---------------------------------------------------------------------- services


def _container_spec(cs: dict[str, Any], image: str) -> dict[str, Any]:
    """createContainerSpec (init: the client negotiates API >= 1.37 with these daemons)."""
    out: dict[str, Any] = {
        "Image": image,
        "Labels": _label_map(cs.get("labels")),
        "Command": list(cs.get("command") or []),
        "Args": list(cs.get("args") or []),
        "Hostname": cs.get("hostname") or "",
        "Env": [f"{k}={v}" for k, v in (cs.get("env") or {}).items()],
        "Dir": cs.get("dir") or "",
        "User": cs.get("user") or "",
        "Groups": list(cs.get("groups") or []),
        "ReadOnly": bool(cs.get("read_only")),
        "Mounts": [_mount(m) for m in cs.get("mounts") or []],
        "StopSignal": cs.get("stop_signal") or "",
        "StopGracePeriod": _ns(cs.get("stop_grace_period")),
        "Healthcheck": _healthcheck(cs.get("healthcheck")),
        "Hosts": [f"{h['ip']} {h['host']}" for h in cs.get("hosts") or []],
        "DNSConfig": _dns_config(cs.get("dns_config")),
        "Secrets": [_file_ref(s, "secret") for s in cs.get("secrets") or []],
        "Configs": [_file_ref(s, "config") for s in cs.get("configs") or []],
        "Isolation": cs.get("isolation") or "",
        "Sysctls": {k: str(v) for k, v in (cs.get("sysctl") or {}).items()},
        "CapabilityAdd": list(cs.get("cap_add") or []),
        "CapabilityDrop": list(cs.get("cap_drop") or []),
        "Init": bool(cs.get("init")),
    }
    privileges = cs.get("privileges")
    if privileges:
        p = _one(privileges)
        out["Privileges"] = {}
        if p.get("credential_spec"):
            cred = _one(p["credential_spec"])
            # the provider writes `registry` into File too (createContainerSpec)
            out["Privileges"]["CredentialSpec"] = {
                "File": cred.get("registry") or cred.get("file") or ""
            }
        if p.get("se_linux_context"):
            se = _one(p["se_linux_context"])
            out["Privileges"]["SELinuxContext"] = {
                "Disable": bool(se.get("disable")),
                "User": se.get("user") or "",
                "Role": se.get("role") or "",
                "Type": se.get("type") or "",
                "Level": se.get("level") or "",
            }
    return _omitempty(out, keep=("Image", "StopGracePeriod", "Healthcheck", "DNSConfig", "Init"))


def _omitempty(obj: dict[str, Any], keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """Go's `json:",omitempty"`: empty strings, slices, maps, false and 0 are not sent (pointers
    that are set, listed in keep, are)."""
    return {k: v for k, v in obj.items() if k in keep or v not in ("", [], {}, False, 0, None)}


def _healthcheck(block: list[Any] | None) -> dict[str, Any]:
    h = _one(block)
    return _omitempty(
        {
            "Test": list(h.get("test") or []),
            "Interval": _ns(h.get("interval")),
            "Timeout": _ns(h.get("timeout")),
            "StartPeriod": _ns(h.get("start_period")),
            "Retries": h.get("retries") or 0,
        }
    )


def _dns_config(block: list[Any] | None) -> dict[str, Any]:
    d = _one(block)
    return _omitempty(
        {
            "Nameservers": list(d.get("nameservers") or []),
            "Search": list(d.get("search") or []),
            "Options": list(d.get("options") or []),
        }
    )


def _mount(m: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Type": m["type"],
        "Target": m["target"],
        "Source": m.get("source") or "",
        "ReadOnly": bool(m.get("read_only")),
    }
    if m.get("bind_options"):
        out["BindOptions"] = _omitempty({"Propagation": _one(m["bind_options"]).get("propagation")})
    if m.get("volume_options"):
        v = _one(m["volume_options"])
        out["VolumeOptions"] = _omitempty(
            {
                "NoCopy": bool(v.get("no_copy")),
                "Labels": _label_map(v.get("labels")),
                "DriverConfig": _omitempty(
                    {"Name": v.get("driver_name"), "Options": v.get("driver_options")}
                ),
            }
        )
    if m.get("tmpfs_options"):
        t = _one(m["tmpfs_options"])
        out["TmpfsOptions"] = _omitempty({"SizeBytes": t.get("size_bytes"), "Mode": t.get("mode")})
    return _omitempty(out, keep=("Type", "Target"))


def _file_ref(ref: dict[str, Any], kind: str) -> dict[str, Any]:
    name = kind.capitalize()
    return _omitempty(
        {
            f"{name}ID": ref.get(f"{kind}_id"),
            f"{name}Name": ref.get(f"{kind}_name"),
            "File": {
                "Name": ref.get("file_name") or "",
                "UID": ref.get("file_uid") or "",
                "GID": ref.get("file_gid") or "",
                "Mode": ref.get("file_mode") or 0,
            },
        }
    )


def service_spec(c: dict[str, Any], image: str | None = None) -> dict[str, Any]:
    """createServiceSpec for a TF config with defaults applied."""
    ts = _one(c.get("task_spec"))
    cs = _one(ts.get("container_spec"))
    task: dict[str, Any] = {"ContainerSpec": _container_spec(cs, image or cs["image"])}
    res = _one(ts.get("resources"))
    task["Resources"] = _omitempty(
        {
            "Limits": _omitempty(
                {
                    "NanoCPUs": _one(res.get("limits")).get("nano_cpus"),
                    "MemoryBytes": _one(res.get("limits")).get("memory_bytes"),
                }
            )
            if res.get("limits")
            else None,
            "Reservations": _omitempty(
                {
                    "NanoCPUs": _one(res.get("reservation")).get("nano_cpus"),
                    "MemoryBytes": _one(res.get("reservation")).get("memory_bytes"),
                }
            )
            if res.get("reservation")
            else None,
        }
    )
    r = _one(ts.get("restart_policy"))
    task["RestartPolicy"] = (
        _omitempty(
            {
                "Condition": r.get("condition") or "",
                "Delay": _ns(r.get("delay")),
                "MaxAttempts": r.get("max_attempts") or 0,
                "Window": _ns(r.get("window")),
            },
            keep=("Delay", "MaxAttempts", "Window"),
        )
        if ts.get("restart_policy")
        else {}
    )
    pl = _one(ts.get("placement"))
    task["Placement"] = _omitempty(
        {
            "Constraints": list(pl.get("constraints") or []),
            "Preferences": [{"Spread": {"SpreadDescriptor": s}} for s in pl.get("prefs") or []],
            "Platforms": [
                {"Architecture": p["architecture"], "OS": p["os"]}
                for p in pl.get("platforms") or []
            ],
            "MaxReplicas": pl.get("max_replicas") or 0,
        }
    )
    task["ForceUpdate"] = ts.get("force_update") or 0
    if ts.get("runtime"):
        task["Runtime"] = ts["runtime"]
    task["Networks"] = [
        _omitempty(
            {
                "Target": n.get("id") or n.get("name"),
                "Aliases": sorted(n.get("aliases") or []),
                "DriverOpts": _kv_list(n.get("driver_opts")),
            }
        )
        for n in ts.get("networks_advanced") or []
    ]
    if ts.get("log_driver"):
        ld = _one(ts["log_driver"])
        task["LogDriver"] = _omitempty({"Name": ld.get("name"), "Options": ld.get("options")})
    spec: dict[str, Any] = {
        "Name": c["name"],
        "Labels": _label_map(c.get("labels")) or None,
        # createTaskSpec always sets these pointers (createResources, createServiceRestartPolicy,
        # createPlacement return non-nil), and Go's omitempty sends a non-nil pointer as {}.
        "TaskTemplate": _omitempty(
            task, keep=("ContainerSpec", "Resources", "RestartPolicy", "Placement")
        ),
    }
    mode = _one(c.get("mode"))
    service_mode: dict[str, Any] = {}
    if mode.get("replicated"):
        service_mode["Replicated"] = {"Replicas": _one(mode["replicated"]).get("replicas", 1)}
    if mode.get("global"):
        service_mode["Global"] = {}
    spec["Mode"] = service_mode
    for key, api in (("update_config", "UpdateConfig"), ("rollback_config", "RollbackConfig")):
        if c.get(key):
            u = _one(c[key])
            spec[api] = _omitempty(
                {
                    "Parallelism": u.get("parallelism") or 0,
                    "Delay": _ns(u.get("delay")),
                    "FailureAction": u.get("failure_action") or "",
                    "Monitor": _ns(u.get("monitor")),
                    "MaxFailureRatio": float(u.get("max_failure_ratio") or 0),
                    "Order": u.get("order") or "",
                }
            )
    ep = _one(c.get("endpoint_spec"))
    spec["EndpointSpec"] = _omitempty(
        {
            "Mode": ep.get("mode") or "",
            "Ports": [
                _omitempty(
                    {
                        "Name": p.get("name") or "",
                        "Protocol": p.get("protocol") or "",
                        "TargetPort": p.get("target_port") or 0,
                        "PublishedPort": p.get("published_port") or 0,
                        "PublishMode": p.get("publish_mode") or "",
                    }
                )
                for p in ep.get("ports") or []
            ],
        }
    )
    return spec


# ---------------------------------------------------------------------- containers


def container_create_body(c: dict[str, Any]) -> dict[str, Any]:
    """resourceDockerContainerCreate's Config/HostConfig for the fields pulumi programs here
    set; the rest as _inputs_body builds them."""
    body = _inputs_body(to_pulumi(c, CONTAINER))
    body["Env"] = list(c.get("env") or [])
    host = body.setdefault("HostConfig", {})
    host["NetworkMode"] = c.get("network_mode") or "bridge"
    host["Init"] = bool(c.get("init"))
    restart = c.get("restart") or "no"
    host["RestartPolicy"] = {"Name": restart}
    if restart == "on-failure":
        host["RestartPolicy"]["MaximumRetryCount"] = c.get("max_retry_count") or 0
    return body


def _inputs_duration(value: Any) -> int | None:
    return None if value in (None, "") else parse_duration_ns(str(value))


def _drop_none(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v not in (None, [], {})}


def _inputs_healthcheck(h: dict[str, Any]) -> dict[str, Any]:
    return _drop_none(
        {
            "Test": h.get("tests"),
            "Interval": _inputs_duration(h.get("interval")),
            "Timeout": _inputs_duration(h.get("timeout")),
            "StartPeriod": _inputs_duration(h.get("startPeriod")),
            "StartInterval": _inputs_duration(h.get("startInterval")),
            "Retries": h.get("retries"),
        }
    )


def _inputs_mount(m: dict[str, Any]) -> dict[str, Any]:
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
                    "Labels": _label_map(volume.get("labels")),
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


def _inputs_body(inputs: dict[str, Any]) -> dict[str, Any]:
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
            "Mounts": [_inputs_mount(m) for m in inputs.get("mounts") or []],
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
            "Labels": _label_map(inputs.get("labels")),
            "Tty": inputs.get("tty"),
            "OpenStdin": inputs.get("stdinOpen"),
            "StopSignal": inputs.get("stopSignal"),
            "StopTimeout": inputs.get("stopTimeout"),
            "ExposedPorts": exposed,
            "Healthcheck": _inputs_healthcheck(healthcheck) if healthcheck else None,
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
