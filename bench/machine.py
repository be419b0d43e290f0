"""The machine and the versions the numbers were measured with."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata


def _run(argv: list[str]) -> str:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0] if lines else ""


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _memory() -> str:
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    return "?"


def _cpu() -> str:
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def _collection(name: str) -> str:
    from bench.tools.ansible import ansible_bin

    try:
        lines = subprocess.run(
            [ansible_bin("ansible-galaxy"), "collection", "list", name],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout.splitlines()
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    return next((line.split()[1] for line in lines if line.startswith(name + " ")), "not found")


def describe() -> dict[str, str]:
    return {
        "CPU": f"{os.cpu_count()} x {_cpu()} (nproc {len(os.sched_getaffinity(0))})",
        "memory": _memory(),
        "kernel": platform.release(),
        "OS": _run(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "Docker Engine": _run(["dockerd", "--version"]),
        "OpenSSH": _run(["ssh", "-V"]),
        "Python": sys.version.split()[0],
        "Pulumi Python SDK": (
            f"pulumi {_version('pulumi')}, pulumi-docker {_version('pulumi_docker')}, "
            f"pulumi-command {_version('pulumi_command')}"
        ),
        "Ansible": (
            f"ansible {_version('ansible')} (ansible-core {_version('ansible-core')}), "
            f"community.docker {_collection('community.docker')}"
        ),
        "Docker SDK on the Ansible targets": _run(
            ["/usr/bin/python3", "-c", "import docker; print('python3-docker', docker.__version__)"]
        ),
    }
