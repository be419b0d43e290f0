"""The body of a container create from pulumi-docker inputs (camelCase wire names).

Follows kreuzwerker/terraform-provider-docker, which pulumi-docker 5.x bridges: durations are Go
duration strings converted to nanoseconds, label lists become maps. Services and networks are
built from the provider's schema in docker_read.py.
"""

from __future__ import annotations

from typing import Any

from tests.engine.props import parse_duration_ns
from tests.engine.providers.docker_read import label_map


def _duration(value: Any) -> int | None:
    return None if value in (None, "") else parse_duration_ns(str(value))


def _drop_none(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v not in (None, [], {})}


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
                    "Labels": label_map(volume.get("labels")),
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
            "Labels": label_map(inputs.get("labels")),
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
