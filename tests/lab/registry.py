"""The lab's image registry: Debian's docker-registry (the CNCF distribution registry), one per
lab, run in the root namespace on the lab's bridge address, port 5000, plain HTTP, no auth.

Its files are in DATA/<prefix>-registry/ (config.yml, storage/, log/registry.log), next to the
hosts' disks. The stand-in images are pushed to it with the registry's own HTTP API (the same
requests `docker push` makes: blob uploads, then the manifest), under the names they have on
Docker Hub; every host's dockerd has it as its registry mirror for docker.io, so a host pulls
`hbpmip/exareme:v5` from it, and `GET /distribution/hbpmip/exareme:v5/json` on a host's docker
socket (the provider's QueryRegistry) answers with the digest it serves.
"""

import http.client
import json
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from . import procs
from .host import LabError
from .images import Build, ImageName
from .paths import DATA, HOST_ENV

BINARY = "docker-registry"
PORT = 5000
MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
# What dockerd accepts when it resolves a tag; the registry answers with the manifest's own type.
ACCEPT = ", ".join(
    (
        MANIFEST,
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    )
)


class RegistryError(LabError):
    pass


@dataclass(frozen=True)
class Registry:
    prefix: str
    ip: str  # the lab bridge's address

    @property
    def address(self) -> str:
        """host:port, as in image names and dockerd's insecure-registries."""
        return f"{self.ip}:{PORT}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def data(self) -> Path:
        return DATA / f"{self.prefix}-registry"

    @property
    def config_file(self) -> Path:
        return self.data / "config.yml"

    @property
    def log(self) -> Path:
        return self.data / "log"

    @property
    def storage(self) -> Path:
        return self.data / "storage"

    def daemon_config(self) -> dict[str, list[str]]:
        """What a host's /etc/docker/daemon.json needs to pull docker.io names from the registry."""
        return {"registry-mirrors": [self.url], "insecure-registries": [self.address]}


def _config(registry: Registry) -> str:
    config = {
        "version": 0.1,
        "log": {"level": "info", "formatter": "text", "fields": {"service": "registry"}},
        "storage": {
            "filesystem": {"rootdirectory": str(registry.storage)},
            "delete": {"enabled": True},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "http": {
            "addr": registry.address,
            "secret": f"mip-lab-{registry.prefix}",  # no random secret: nothing to protect
            "headers": {"X-Content-Type-Options": ["nosniff"]},
        },
    }
    return json.dumps(config, indent=1) + "\n"  # JSON is YAML


def pids(registry: Registry) -> list[int]:
    """Processes serving this registry (found by their configuration file's path)."""
    return procs.with_arguments(str(registry.config_file))


def running(registry: Registry, pid: int | None) -> bool:
    return pid is not None and pid in pids(registry) and answers(registry)


def start(registry: Registry, timeout: float = 30.0) -> int:
    """Start the registry on empty storage (whatever an earlier one left is removed) and wait
    until it answers. Returns its pid."""
    if shutil.which(BINARY) is None:
        raise RegistryError(f"{BINARY} not found: apt-get install docker-registry")
    stop(registry)
    registry.storage.mkdir(parents=True)
    registry.log.mkdir()
    registry.config_file.write_text(_config(registry))
    log_file = registry.log / "registry.log"
    # A clean environment: REGISTRY_* variables would override the configuration.
    procs.start_detached([BINARY, "serve", str(registry.config_file)], log_file, env=HOST_ENV)
    deadline = time.monotonic() + timeout
    seen = False
    while True:
        found = pids(registry)
        if found and answers(registry):
            return found[0]
        # `setsid -f` returns before its child has exec'd the registry: not found yet is only an
        # exit once it was seen running (address in use?); otherwise wait up to the timeout.
        exited = seen and not found
        seen = seen or bool(found)
        if exited or time.monotonic() > deadline:
            tail = log_file.read_text(errors="replace")[-1500:]
            raise RegistryError(f"the registry at {registry.address} did not start:\n{tail}")
        time.sleep(0.05)


def stop(registry: Registry) -> None:
    """Kill the registry, if it runs, and remove its files. Idempotent."""
    procs.kill_and_wait(pids(registry))
    shutil.rmtree(registry.data, ignore_errors=True)


class _Client:
    """One keep-alive HTTP connection to the registry."""

    def __init__(self, registry: Registry, timeout: float = 30.0) -> None:
        self.registry = registry
        self.connection = http.client.HTTPConnection(registry.ip, PORT, timeout=timeout)

    def __enter__(self) -> "_Client":
        return self

    def __exit__(self, *_: object) -> None:
        self.connection.close()

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> http.client.HTTPResponse:
        headers = dict(headers or {})
        if body is not None:
            headers.setdefault("Content-Type", "application/octet-stream")
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        if response.status not in ok:
            raise RegistryError(
                f"{method} {self.registry.url}{path}: HTTP {response.status}: {data[:300]!r}"
            )
        return response


def answers(registry: Registry) -> bool:
    """True if the registry serves the v2 API."""
    try:
        with _Client(registry, timeout=1.0) as client:
            response = client.request("GET", "/v2/")
            return response.getheader("Docker-Distribution-API-Version") == "registry/2.0"
    except (OSError, RegistryError):
        return False


def digest(registry: Registry, name: ImageName) -> str | None:
    """The digest of the manifest the registry serves for `name`, or None if it has none."""
    with _Client(registry) as client:
        response = client.request(
            "HEAD",
            f"/v2/{name.path}/manifests/{name.tag}",
            headers={"Accept": ACCEPT},
            ok=(200, 404),
        )
        if response.status == 404:
            return None
        return response.getheader("Docker-Content-Digest")


def push(registry: Registry, build: Build, names: list[ImageName]) -> dict[str, str]:
    """Push the images `names` of `build`: for each, its layer and config blobs (a blob the
    registry has is not sent again), then its manifest under its tag. Returns name -> digest,
    as the registry reports it."""
    digests = {}
    with _Client(registry) as client:
        for name in names:
            image = build.image(name.role)
            for blob in (*image.layers, image.config):
                _push_blob(client, name.path, blob.digest, blob.data)
            response = client.request(
                "PUT",
                f"/v2/{name.path}/manifests/{name.tag}",
                image.manifest,
                {"Content-Type": MANIFEST},
                ok=(201,),
            )
            pushed = response.getheader("Docker-Content-Digest")
            if pushed != image.manifest_digest:
                raise RegistryError(
                    f"pushed {name.reference}: the registry reports {pushed}, "
                    f"expected {image.manifest_digest}"
                )
            digests[name.reference] = pushed
    return digests


def _push_blob(client: _Client, path: str, digest_: str, data: bytes) -> None:
    exists = client.request("HEAD", f"/v2/{path}/blobs/{digest_}", ok=(200, 404))
    if exists.status == 200:
        return
    started = client.request("POST", f"/v2/{path}/blobs/uploads/", ok=(202,))
    location = urlsplit(started.getheader("Location") or "")
    separator = "&" if location.query else ""
    upload = f"{location.path}?{location.query}{separator}digest={digest_}"
    client.request("PUT", upload, data, ok=(201,))
