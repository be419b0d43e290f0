"""What terraform-provider-docker's Read stores: the daemon's inspect flattened by the provider's
flatten funcs into the TF state (upstream: FIDELITY.md)."""

from __future__ import annotations

from typing import Any

# ---------------------------------------------------------------------- durations


def _frac(value: int, prec: int) -> tuple[str, int]:
    """Go time.fmtFrac: the fraction digits of value/10^prec, trailing zeros dropped."""
    digits = ""
    printed = False
    for _ in range(prec):
        digit = value % 10
        printed = printed or digit != 0
        if printed:
            digits = str(digit) + digits
        value //= 10
    return ("." + digits if printed else ""), value


def go_duration(ns: int) -> str:
    """Go's time.Duration.String()."""
    if ns == 0:
        return "0s"
    neg = ns < 0
    u = -ns if neg else ns
    if u < 1_000_000_000:
        if u < 1_000:
            text = f"{u}ns"
        elif u < 1_000_000:
            frac, whole = _frac(u, 3)
            text = f"{whole}{frac}µs"
        else:
            frac, whole = _frac(u, 6)
            text = f"{whole}{frac}ms"
    else:
        frac, secs = _frac(u, 9)
        text = f"{secs % 60}{frac}s"
        minutes = secs // 60
        if minutes:
            text = f"{minutes % 60}m" + text
            hours = minutes // 60
            if hours:
                text = f"{hours}h" + text
    return "-" + text if neg else text


def short_dur(ns: int) -> str:
    """resource_docker_service_structures.go shortDur: Duration.String() without a trailing
    "0s" after minutes and "0m" after hours."""
    text = go_duration(ns)
    if text.endswith("m0s"):
        text = text[:-2]
    if text.endswith("h0m"):
        text = text[:-2]
    return text


def _label_set(labels: dict[str, str] | None) -> list[dict[str, str]]:
    return [{"label": k, "value": v} for k, v in sorted((labels or {}).items())]


# ---------------------------------------------------------------------- networks


def flatten_network(info: dict[str, Any]) -> dict[str, Any]:
    """resourceDockerNetworkReadRefreshFunc + flattenIpamConfigSpec."""
    ipam = info.get("IPAM") or {}
    configs = []
    for v in ipam.get("Config") or []:
        m: dict[str, Any] = {}
        for api, key in (("Subnet", "subnet"), ("IPRange", "ip_range"), ("Gateway", "gateway")):
            if v.get(api):
                m[key] = v[api]
        if v.get("AuxiliaryAddresses"):
            m["aux_address"] = dict(v["AuxiliaryAddresses"])
        configs.append(m)
    return {
        "name": info.get("Name"),
        "labels": _label_set(info.get("Labels")),
        "driver": info.get("Driver"),
        "internal": bool(info.get("Internal")),
        "attachable": bool(info.get("Attachable")),
        "ingress": bool(info.get("Ingress")),
        "ipv6": bool(info.get("EnableIPv6")),
        "ipam_driver": ipam.get("Driver"),
        "ipam_options": ipam.get("Options"),
        "scope": info.get("Scope"),
        "options": info.get("Options"),
        "ipam_config": configs,
    }


# ---------------------------------------------------------------------- services


def _ports(ports: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """flattenServicePorts."""
    return [
        {
            "name": p.get("Name", ""),
            "protocol": p.get("Protocol", ""),
            "target_port": p.get("TargetPort", 0),
            "published_port": p.get("PublishedPort", 0),
            "publish_mode": p.get("PublishMode", ""),
        }
        for p in ports or []
    ]


def flatten_service(info: dict[str, Any]) -> dict[str, Any]:
    """resourceDockerServiceReadRefreshFunc: name, labels, task_spec, mode, update_config,
    rollback_config, endpoint_spec (from Endpoint when it has a mode, else from Spec)."""
    spec = info.get("Spec") or {}
    out: dict[str, Any] = {
        "name": spec.get("Name"),
        "labels": _label_set(spec.get("Labels")),
        "task_spec": [_flatten_task(spec.get("TaskTemplate") or {})],
        "mode": [_flatten_mode(spec.get("Mode") or {})],
        "update_config": _flatten_update(spec.get("UpdateConfig")),
        "rollback_config": _flatten_update(spec.get("RollbackConfig")),
    }
    endpoint = info.get("Endpoint") or {}
    if (endpoint.get("Spec") or {}).get("Mode"):
        out["endpoint_spec"] = [
            {"mode": endpoint["Spec"]["Mode"], "ports": _ports(endpoint.get("Ports"))}
        ]
    elif (spec.get("EndpointSpec") or {}).get("Mode"):
        ep = spec["EndpointSpec"]
        out["endpoint_spec"] = [{"mode": ep["Mode"], "ports": _ports(ep.get("Ports"))}]
    return out


def _flatten_mode(mode: dict[str, Any]) -> dict[str, Any]:
    """flattenServiceMode / flattenReplicated."""
    m: dict[str, Any] = {}
    if mode.get("Replicated") is not None:
        r = mode["Replicated"]
        m["replicated"] = [{"replicas": r["Replicas"]} if "Replicas" in r else {}]
    m["global"] = mode.get("Global") is not None
    return m


def _flatten_update(u: dict[str, Any] | None) -> list[dict[str, Any]]:
    """flattenServiceUpdateOrRollbackConfig (max_failure_ratio: FormatFloat 'f', 1)."""
    if u is None:
        return []
    return [
        {
            "parallelism": u.get("Parallelism", 0),
            "delay": short_dur(u.get("Delay", 0)),
            "failure_action": u.get("FailureAction", ""),
            "monitor": short_dur(u.get("Monitor", 0)),
            "max_failure_ratio": f"{float(u.get('MaxFailureRatio', 0)):.1f}",
            "order": u.get("Order", ""),
        }
    ]


def _flatten_task(t: dict[str, Any]) -> dict[str, Any]:
    """flattenTaskSpec."""
    m: dict[str, Any] = {}
    if t.get("ContainerSpec") is not None:
        m["container_spec"] = [_flatten_container_spec(t["ContainerSpec"])]
    if t.get("Resources") is not None:
        r = t["Resources"]
        m["resources"] = [
            {
                "limits": [
                    {
                        "nano_cpus": r["Limits"].get("NanoCPUs", 0),
                        "memory_bytes": r["Limits"].get("MemoryBytes", 0),
                    }
                ]
                if r.get("Limits") is not None
                else [],
                "reservation": [
                    {
                        "nano_cpus": r["Reservations"].get("NanoCPUs", 0),
                        "memory_bytes": r["Reservations"].get("MemoryBytes", 0),
                        "generic_resources": [],
                    }
                ]
                if r.get("Reservations") is not None
                else [],
            }
        ]
    if t.get("RestartPolicy") is not None:
        rp = t["RestartPolicy"]
        p: dict[str, Any] = {}
        if rp.get("Condition"):
            p["condition"] = rp["Condition"]
        if rp.get("Delay") is not None:
            p["delay"] = short_dur(rp["Delay"])
        if rp.get("MaxAttempts") is not None:
            p["max_attempts"] = rp["MaxAttempts"]
        if rp.get("Window") is not None:
            p["window"] = short_dur(rp["Window"])
        m["restart_policy"] = [p]
    if t.get("Placement") is not None:
        pl = t["Placement"]
        pm: dict[str, Any] = {}
        if pl.get("Constraints"):
            pm["constraints"] = list(pl["Constraints"])
        if pl.get("Preferences"):
            pm["prefs"] = [x["Spread"]["SpreadDescriptor"] for x in pl["Preferences"]]
        if pl.get("Platforms"):
            pm["platforms"] = [
                {"architecture": x.get("Architecture", ""), "os": x.get("OS", "")}
                for x in pl["Platforms"]
            ]
        pm["max_replicas"] = pl.get("MaxReplicas", 0)
        m["placement"] = [pm]
    m["force_update"] = t.get("ForceUpdate", 0)
    if t.get("Runtime"):
        m["runtime"] = t["Runtime"]
    if t.get("Networks"):
        nets = []
        for n in t["Networks"]:
            entry: dict[str, Any] = {
                "id": n.get("Target"),
                "driver_opts": [f"{k}={v}" for k, v in (n.get("DriverOpts") or {}).items()],
            }
            if n.get("Aliases"):
                entry["aliases"] = list(n["Aliases"])
            nets.append(entry)
        m["networks_advanced"] = nets
    if t.get("LogDriver") is not None:
        ld = t["LogDriver"]
        m["log_driver"] = [
            {
                "name": ld.get("Name", ""),
                **({"options": ld["Options"]} if ld.get("Options") else {}),
            }
        ]
    return m


def _flatten_container_spec(cs: dict[str, Any]) -> dict[str, Any]:
    """flattenContainerSpec (init: supportsServiceContainerInit is true with API >= 1.37)."""
    m: dict[str, Any] = {}
    simple = (
        ("Image", "image"),
        ("Command", "command"),
        ("Args", "args"),
        ("Hostname", "hostname"),
        ("User", "user"),
        ("Dir", "dir"),
        ("Groups", "groups"),
        ("StopSignal", "stop_signal"),
        ("Isolation", "isolation"),
        ("Sysctls", "sysctl"),
        ("CapabilityAdd", "cap_add"),
        ("CapabilityDrop", "cap_drop"),
    )
    for api, key in simple:
        if cs.get(api):
            m[key] = cs[api]
    if cs.get("Labels"):
        m["labels"] = _label_set(cs["Labels"])
    if cs.get("Env"):
        env: dict[str, str] = {}
        for item in cs["Env"]:
            if item:
                key, *rest = item.split("=")
                env[key] = "=".join(rest)
        m["env"] = env
    if cs.get("Privileges") is not None:
        p = cs["Privileges"]
        pm: dict[str, Any] = {}
        if p.get("CredentialSpec") is not None:
            pm["credential_spec"] = [
                {
                    "file": p["CredentialSpec"].get("File", ""),
                    "registry": p["CredentialSpec"].get("Registry", ""),
                }
            ]
        if p.get("SELinuxContext") is not None:
            se = p["SELinuxContext"]
            pm["se_linux_context"] = [
                {
                    "disable": se.get("Disable", False),
                    "user": se.get("User", ""),
                    "role": se.get("Role", ""),
                    "type": se.get("Type", ""),
                    "level": se.get("Level", ""),
                }
            ]
        m["privileges"] = [pm]
    if cs.get("ReadOnly"):
        m["read_only"] = True
    if cs.get("Mounts"):
        m["mounts"] = [_flatten_mount(x) for x in cs["Mounts"]]
    if cs.get("StopGracePeriod") is not None:
        m["stop_grace_period"] = short_dur(cs["StopGracePeriod"])
    if cs.get("Healthcheck") is not None:
        h = cs["Healthcheck"]
        hm: dict[str, Any] = {}
        if h.get("Test"):
            hm["test"] = list(h["Test"])
        hm["interval"] = short_dur(h.get("Interval", 0))
        hm["timeout"] = short_dur(h.get("Timeout", 0))
        hm["start_period"] = short_dur(h.get("StartPeriod", 0))
        hm["retries"] = h.get("Retries", 0)
        m["healthcheck"] = [hm]
    if cs.get("Hosts"):
        m["hosts"] = [{"ip": h.split(" ")[0], "host": h.split(" ")[1]} for h in cs["Hosts"]]
    if cs.get("DNSConfig") is not None:
        d = cs["DNSConfig"]
        m["dns_config"] = [
            {
                k: list(d[a])
                for a, k in (
                    ("Nameservers", "nameservers"),
                    ("Search", "search"),
                    ("Options", "options"),
                )
                if d.get(a)
            }
        ]
    for api, key, kind in (("Secrets", "secrets", "secret"), ("Configs", "configs", "config")):
        if cs.get(api):
            refs = []
            for ref in cs[api]:
                r: dict[str, Any] = {f"{kind}_id": ref.get(f"{kind.capitalize()}ID")}
                if ref.get(f"{kind.capitalize()}Name"):
                    r[f"{kind}_name"] = ref[f"{kind.capitalize()}Name"]
                if ref.get("File") is not None:
                    f = ref["File"]
                    r["file_name"] = f.get("Name", "")
                    if f.get("UID"):
                        r["file_uid"] = f["UID"]
                    if f.get("GID"):
                        r["file_gid"] = f["GID"]
                    r["file_mode"] = f.get("Mode", 0)
                refs.append(r)
            m[key] = refs
    if cs.get("Init") is not None:
        m["init"] = cs["Init"]
    return m


def _flatten_mount(v: dict[str, Any]) -> dict[str, Any]:
    m: dict[str, Any] = {
        "target": v.get("Target", ""),
        "source": v.get("Source", ""),
        "type": v.get("Type", ""),
        "read_only": v.get("ReadOnly", False),
    }
    if v.get("BindOptions") is not None:
        b = v["BindOptions"]
        m["bind_options"] = [{"propagation": b["Propagation"]} if b.get("Propagation") else {}]
    if v.get("VolumeOptions") is not None:
        vo = v["VolumeOptions"]
        item: dict[str, Any] = {
            "no_copy": vo.get("NoCopy", False),
            "labels": _label_set(vo.get("Labels")),
        }
        if vo.get("DriverConfig") is not None:
            if vo["DriverConfig"].get("Name"):
                item["driver_name"] = vo["DriverConfig"]["Name"]
            item["driver_options"] = dict(vo["DriverConfig"].get("Options") or {})
        m["volume_options"] = [item]
    if v.get("TmpfsOptions") is not None:
        t = v["TmpfsOptions"]
        m["tmpfs_options"] = [
            {"size_bytes": t.get("SizeBytes", 0), "mode": t.get("Mode", 0) & 0o777}
        ]
    return m


# ---------------------------------------------------------------------- containers


def flatten_container(info: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """resourceDockerContainerRead: the attributes it sets, over `state` (the planned or prior
    state: env, labels, start, ... are never read back)."""
    out = dict(state)
    config = info.get("Config") or {}
    host = info.get("HostConfig") or {}
    net = info.get("NetworkSettings")
    running = bool((info.get("State") or {}).get("Running"))
    if net is not None:
        out["bridge"] = net.get("Bridge", "")
        if (running or state.get("must_run", True)) and state.get("ports"):
            out["ports"] = _container_ports(net.get("Ports") or {})
        out["network_data"] = [
            {
                "network_name": name,
                "ip_address": d.get("IPAddress", ""),
                "ip_prefix_length": d.get("IPPrefixLen", 0),
                "gateway": d.get("Gateway", ""),
                "global_ipv6_address": d.get("GlobalIPv6Address", ""),
                "global_ipv6_prefix_length": d.get("GlobalIPv6PrefixLen", 0),
                "ipv6_gateway": d.get("IPv6Gateway", ""),
                "mac_address": d.get("MacAddress", ""),
            }
            for name, d in (net.get("Networks") or {}).items()
        ]
    if not running:
        out["exit_code"] = (info.get("State") or {}).get("ExitCode", 0)
        if state.get("must_run", True):
            out["must_run"] = False
    image = state.get("image") or ""
    out.update(
        {
            "name": (info.get("Name") or "").lstrip("/"),
            "rm": bool(host.get("AutoRemove")),
            "read_only": bool(host.get("ReadonlyRootfs")),
            "image": info.get("Image") if image.startswith("sha256:") else config.get("Image"),
            "hostname": config.get("Hostname", ""),
            "domainname": config.get("Domainname", ""),
            "command": config.get("Cmd") or [],
            "entrypoint": config.get("Entrypoint") or [],
            "user": config.get("User", ""),
            "dns": host.get("Dns") or [],
            "dns_opts": host.get("DnsOptions") or [],
            "security_opts": host.get("SecurityOpt") or [],
            "dns_search": host.get("DnsSearch") or [],
            "publish_all_ports": bool(host.get("PublishAllPorts")),
            "restart": (host.get("RestartPolicy") or {}).get("Name", ""),
            "max_retry_count": (host.get("RestartPolicy") or {}).get("MaximumRetryCount", 0),
            "init": bool(host.get("Init")),
            "working_dir": config.get("WorkingDir", ""),
            "runtime": host.get("Runtime", ""),
            "platform": info.get("Platform", ""),
            "mounts": [_flatten_mount(x) for x in host.get("Mounts") or []],
            "tmpfs": host.get("Tmpfs"),
            "host": [
                {"host": h.split(":")[0], "ip": h.split(":")[1]}
                for h in host.get("ExtraHosts") or []
            ],
            "privileged": bool(host.get("Privileged")),
            "device_read_bps": [],
            "device_read_iops": [],
            "device_write_bps": [],
            "device_write_iops": [],
            "memory": (host.get("Memory") or 0) // 1024 // 1024,
            "memory_reservation": _mb_or_raw(host.get("MemoryReservation") or 0),
            "memory_swap": _mb_or_raw(host.get("MemorySwap") or 0),
            "shm_size": (host.get("ShmSize") or 0) // 1024 // 1024,
            "cpu_shares": host.get("CpuShares", 0),
            "cpu_set": host.get("CpusetCpus", ""),
            "log_driver": (host.get("LogConfig") or {}).get("Type", ""),
            "log_opts": (host.get("LogConfig") or {}).get("Config")
            if state.get("log_opts")
            else None,
            "storage_opts": host.get("StorageOpt"),
            "network_mode": host.get("NetworkMode", ""),
            "userns_mode": host.get("UsernsMode", ""),
            "sysctls": host.get("Sysctls"),
            "ipc_mode": host.get("IpcMode", ""),
            "group_add": host.get("GroupAdd") or [],
            "tty": bool(config.get("Tty")),
            "stdin_open": bool(config.get("OpenStdin")),
            "stop_signal": config.get("StopSignal", ""),
            "stop_timeout": config.get("StopTimeout") or 0,
        }
    )
    if host.get("CapAdd") or host.get("CapDrop"):
        out["capabilities"] = [{"add": host.get("CapAdd") or [], "drop": host.get("CapDrop") or []}]
    if (host.get("NanoCpus") or 0) > 0:
        out["cpus"] = _nano_decimal(host["NanoCpus"])
    if state.get("pid_mode"):
        out["pid_mode"] = host.get("PidMode", "")
    if config.get("Healthcheck") is not None:
        h = config["Healthcheck"]
        out["healthcheck"] = [
            {
                "test": h.get("Test") or [],
                "interval": go_duration(h.get("Interval", 0)),
                "timeout": go_duration(h.get("Timeout", 0)),
                "start_period": go_duration(h.get("StartPeriod", 0)),
                "start_interval": go_duration(h.get("StartInterval", 0)),
                "retries": h.get("Retries", 0),
            }
        ]
    return out


def _mb_or_raw(value: int) -> int:
    return value // 1024 // 1024 if value > 0 else value


def _nano_decimal(nano: int) -> str:
    text = f"{nano / 1e9:.9f}".rstrip("0")
    return text.rstrip(".")


def _container_ports(ports: dict[str, Any]) -> list[dict[str, Any]]:
    """flattenContainerPorts: one entry per binding, sorted by port then protocol."""

    def order(key: str) -> tuple[int, str]:
        port, _, proto = key.partition("/")
        return int(port), proto

    out = []
    for key in sorted(ports, key=order):
        port, _, proto = key.partition("/")
        for binding in ports[key] or []:
            out.append(
                {
                    "internal": int(port),
                    "external": int(binding.get("HostPort") or 0),
                    "ip": binding.get("HostIp", ""),
                    "protocol": proto,
                }
            )
    return out
