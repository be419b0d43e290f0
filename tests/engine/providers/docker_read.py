"""What terraform-provider-docker v4.5.0 sends to the daemon and what its Read stores.

- Read: the daemon's inspect flattened by the provider's flatten funcs into the TF state
  (internal/provider/resource_docker_network_funcs.go resourceDockerNetworkReadRefreshFunc,
  resource_docker_service_funcs.go resourceDockerServiceReadRefreshFunc +
  resource_docker_service_structures.go flatten*, resource_docker_container_funcs.go
  resourceDockerContainerRead).
- Create: the API bodies built from the TF config as the provider builds them
  (resource_docker_service_structures.go createServiceSpec: every key of a block read with
  d.Get is present, with its zero value, so e.g. StopGracePeriod 0, Healthcheck {}, DNSConfig {},
  Init false and Isolation "default" are always sent).
- QueryRegistry: docker/docker v28.5.2 client/service_create.go (ServiceCreate,
  resolveContainerSpecImage, imageDigestAndPlatforms, imageWithDigestString, imageWithTagString).
"""

from __future__ import annotations

from typing import Any

from tests.engine.props import parse_duration_ns

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


def _ns(text: Any) -> int:
    """time.ParseDuration, errors ignored as the provider does (`parsed, _ :=`): 0."""
    try:
        return parse_duration_ns(str(text)) if text not in (None, "") else 0
    except (ValueError, KeyError):
        return 0


# ---------------------------------------------------------------------- image references


def _split_ref(image: str) -> tuple[str, str, str]:
    """(name, tag, digest) of a reference, as written."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = ""
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    return name, tag, digest


def _familiar(name: str) -> str:
    for prefix in ("docker.io/", "index.docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            if name.startswith("library/") and name.count("/") == 1:
                name = name[len("library/") :]
    return name


def image_with_tag(image: str) -> str:
    """imageWithTagString: the familiar form with `:latest` added to a bare name."""
    name, tag, digest = _split_ref(image)
    if not tag and not digest:
        tag = "latest"
    return _familiar(name) + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def image_with_digest(image: str, digest: str) -> str:
    """imageWithDigestString: `name:tag@digest` unless the reference already has a digest."""
    name, tag, has_digest = _split_ref(image)
    if has_digest or not digest:
        return image
    return _familiar(name) + (f":{tag}" if tag else "") + f"@{digest}"


def query_registry(distribution: dict[str, Any] | None, image: str) -> tuple[str, list[Any] | None]:
    """imageDigestAndPlatforms: the pinned image and the platforms from a /distribution answer
    (None: the call failed, the image is kept and the platforms are left alone)."""
    if distribution is None:
        return image, None
    # Go's encoding/json matches keys case-insensitively: the daemon answers the OCI
    # descriptor's lower-case "digest" into Descriptor.Digest.
    descriptor = _fold(distribution).get("descriptor") or {}
    pinned = image_with_digest(image, _fold(descriptor).get("digest", ""))
    platforms = []
    for p in _fold(distribution).get("platforms") or []:
        p = _fold(p)
        arch = p.get("architecture", "")
        if arch.lower() == "arm":
            arch = ""
        platforms.append({"Architecture": arch, "OS": p.get("os", "")})
    return pinned, platforms or None


# ---------------------------------------------------------------------- helpers


def _fold(obj: dict[str, Any]) -> dict[str, Any]:
    """A JSON object with its keys lower-cased, as Go's case-insensitive decoding sees it."""
    return {str(k).lower(): v for k, v in obj.items()}


def label_map(labels: list[dict[str, Any]] | None) -> dict[str, str]:
    """The provider's label blocks ({label, value}) as a Docker labels map."""
    return {str(i["label"]): str(i.get("value", "")) for i in labels or []}


def _label_set(labels: dict[str, str] | None) -> list[dict[str, str]]:
    return [{"label": k, "value": v} for k, v in sorted((labels or {}).items())]


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
        body["Labels"] = label_map(c["labels"])
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


def _container_spec(cs: dict[str, Any], image: str) -> dict[str, Any]:
    """createContainerSpec (init: the client negotiates API >= 1.37 with these daemons)."""
    out: dict[str, Any] = {
        "Image": image,
        "Labels": label_map(cs.get("labels")),
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
                "Labels": label_map(v.get("labels")),
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
        "Labels": label_map(c.get("labels")) or None,
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


def container_create_body(c: dict[str, Any]) -> dict[str, Any]:
    """resourceDockerContainerCreate's Config/HostConfig for the fields pulumi programs here
    set; the rest as docker_spec builds them."""
    from tests.engine.providers import docker_spec
    from tests.engine.providers.docker_schema import CONTAINER, to_pulumi

    body = docker_spec.container_create_body(to_pulumi(c, CONTAINER))
    body["Env"] = list(c.get("env") or [])
    host = body.setdefault("HostConfig", {})
    host["NetworkMode"] = c.get("network_mode") or "bridge"
    host["Init"] = bool(c.get("init"))
    restart = c.get("restart") or "no"
    host["RestartPolicy"] = {"Name": restart}
    if restart == "on-failure":
        host["RestartPolicy"]["MaximumRetryCount"] = c.get("max_retry_count") or 0
    return body
