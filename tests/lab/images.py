"""Stand-in images, built locally (no internet) and pushed to the lab's registry (registry.py).

All images share one layer: Debian's static busybox with its applet links and the scripts in
standin/ (as /lab/NAME, without ".sh"). They differ by entrypoint: the MIP services behave like
the real images where the program's wiring matters (the Consul keystore's KV API, Exareme's
registration and the master's wait for its workers, the portal reaching EXAREME_URL; see
tests/lab/README.md); mip-lab/busybox idles or runs the command it is given. Their stop signal
is SIGKILL, so stopping a task or container is immediate. Builds are deterministic: the same name
gets the same image ID and manifest digest on every run (on a machine with the same
busybox-static).
"""

import functools
import gzip
import hashlib
import io
import json
import re
import subprocess
import tarfile
from dataclasses import dataclass

from .paths import STANDIN

# Image name -> role. Extra names get the role their repository name mentions (see `role`).
STANDIN_IMAGES = {
    "hbpmip/exareme:v5": "exareme",
    "hashicorp/consul:1.15.4": "consul",
    "hbpmip/portal-backend:2.5.4": "portal",
    "mip-lab/busybox:1": "busybox",
}
PORTS = {"exareme": 9090, "consul": 8500, "portal": 8080}
BUSYBOX = "/bin/busybox"
CREATED = "2018-01-01T00:00:00Z"


# Docker's reference grammar: [domain/]path[:tag], path components lowercase.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME_RE = re.compile(
    rf"(?:(?P<domain>[a-zA-Z0-9.-]+(?::[0-9]+)?)/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
)
DOCKER_HUB = ("docker.io", "index.docker.io")


class ImageNameError(ValueError):
    pass


@dataclass(frozen=True)
class ImageName:
    """A stand-in image name and where it lives in the lab's registry."""

    reference: str  # the name with its tag, as the lab's users write it: hbpmip/exareme:v5
    path: str  # repository in the registry: hbpmip/exareme; library/NAME for a one-word name
    tag: str

    @property
    def role(self) -> str:
        return role(self.reference)


def parse(image: str, registry: str) -> ImageName:
    """`image` as a Docker Hub name (served by the lab registry as the hosts' docker.io mirror)
    or as a name on the lab registry itself (`registry`/path:tag)."""
    match = _NAME_RE.fullmatch(image)
    if match is None:
        raise ImageNameError(f"not a valid image name: {image!r}")
    domain, path = match["domain"], match["path"]
    if domain and not ("." in domain or ":" in domain or domain == "localhost"):
        # As in Docker: a first component is a registry only if it looks like a host name.
        if not re.fullmatch(_COMPONENT, domain):
            raise ImageNameError(f"not a valid image name: {image!r}")
        domain, path = None, f"{domain}/{path}"
    if domain not in (None, *DOCKER_HUB, registry):
        raise ImageNameError(
            f"{image!r} names registry {domain}: stand-ins are Docker Hub names (served by the "
            f"lab registry as the hosts' mirror) or names on the lab registry {registry}"
        )
    if domain != registry and "/" not in path:
        path = f"library/{path}"
    return ImageName(reference(image), path, match["tag"] or "latest")


def _split(image: str) -> tuple[str, str]:
    """(repository, tag) of an image name; the tag defaults to latest."""
    repository, _, tag = image.rpartition(":")
    if not repository or "/" in tag:
        return image, "latest"
    return repository, tag


def reference(image: str) -> str:
    """The image name with its tag: "hbpmip/exareme" -> "hbpmip/exareme:latest"."""
    repository, tag = _split(image)
    return f"{repository}:{tag}"


def role(image: str) -> str:
    """Role of an image name: exareme, consul, portal (by repository name) or busybox."""
    if reference(image) in STANDIN_IMAGES:
        return STANDIN_IMAGES[reference(image)]
    repository = _split(image)[0]
    return next((known for known in PORTS if known in repository), "busybox")


# The real Exareme image's start (HBPMedical/Exareme-docker Dockerfile): WORKDIR /root/exareme,
# ENTRYPOINT /bin/bash bootstrap.sh in shell form (later CMD ["/bin/bash","bootstrap.sh"]). The
# program's task command execs `/bin/bash bootstrap.sh` itself, so the stand-in has both: a
# /bin/bash that is busybox's sh, and a bootstrap.sh that starts the stand-in script.
EXAREME_WORKDIR = "/root/exareme"
EXAREME_FILES = {
    "bin/bash": b'#!/bin/sh\nexec /bin/sh "$@"\n',
    "root/exareme/bootstrap.sh": f'exec /lab/exareme {PORTS["exareme"]} "$@"\n'.encode(),
}


def entrypoint(role_: str) -> list[str]:
    if role_ == "busybox":
        return ["/lab/busybox-entry"]
    if role_ == "exareme":
        return ["/bin/sh", "-c", "/bin/bash bootstrap.sh"]
    return [f"/lab/{role_}", str(PORTS[role_])]


def _add(
    layer: tarfile.TarFile, name: str, kind: bytes, mode: int, data: bytes = b"", link: str = ""
) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.linkname = kind, mode, len(data), link
    layer.addfile(info, io.BytesIO(data) if data else None)


def _layer() -> bytes:
    applets = subprocess.run([BUSYBOX, "--list-full"], check=True, capture_output=True, text=True)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as layer:
        directories = ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "lab", "root", "run")
        for directory in (*directories, EXAREME_WORKDIR.lstrip("/")):
            _add(layer, directory, tarfile.DIRTYPE, 0o755)
        _add(layer, "tmp", tarfile.DIRTYPE, 0o1777)
        with open(BUSYBOX, "rb") as binary:
            _add(layer, "bin/busybox", tarfile.REGTYPE, 0o755, binary.read())
        for applet in sorted(set(applets.stdout.split()) - {"bin/busybox"}):
            _add(layer, applet, tarfile.SYMTYPE, 0o777, link="/bin/busybox")
        _add(layer, "etc/passwd", tarfile.REGTYPE, 0o644, b"root:x:0:0:root:/root:/bin/sh\n")
        _add(layer, "etc/group", tarfile.REGTYPE, 0o644, b"root:x:0:\n")
        for script in sorted(STANDIN.glob("*.sh")):
            _add(layer, f"lab/{script.stem}", tarfile.REGTYPE, 0o755, script.read_bytes())
        for name, text in EXAREME_FILES.items():
            _add(layer, name, tarfile.REGTYPE, 0o755, text)
    return buffer.getvalue()


def _config(role_: str, diff_id: str) -> bytes:
    config = {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Entrypoint": entrypoint(role_),
        "StopSignal": "SIGKILL",
        "Labels": {"org.mip-lab.stand-in": role_},
    }
    if role_ == "exareme":
        config["WorkingDir"] = EXAREME_WORKDIR
    if role_ in PORTS:
        config["ExposedPorts"] = {f"{PORTS[role_]}/tcp": {}}
    image = {
        "architecture": "amd64",
        "os": "linux",
        "created": CREATED,
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": CREATED, "created_by": f"mip-lab stand-in ({role_})"}],
    }
    return json.dumps(image, sort_keys=True).encode()


MEDIA_TYPES = {
    "config": "application/vnd.docker.container.image.v1+json",
    "layer": "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "manifest": "application/vnd.docker.distribution.manifest.v2+json",
}


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Blob:
    media_type: str
    data: bytes

    @functools.cached_property
    def digest(self) -> str:
        return _digest(self.data)

    def descriptor(self) -> dict[str, object]:
        return {"mediaType": self.media_type, "size": len(self.data), "digest": self.digest}


@dataclass(frozen=True)
class Image:
    """One stand-in image as a registry holds it: config, layers, manifest (schema 2)."""

    config: Blob
    layers: tuple[Blob, ...]

    @functools.cached_property
    def manifest(self) -> bytes:
        manifest = {
            "schemaVersion": 2,
            "mediaType": MEDIA_TYPES["manifest"],
            "config": self.config.descriptor(),
            "layers": [layer.descriptor() for layer in self.layers],
        }
        return json.dumps(manifest, indent=3).encode()

    @property
    def manifest_digest(self) -> str:
        return _digest(self.manifest)

    @property
    def id(self) -> str:
        """The image ID a daemon gives it: the digest of its config."""
        return self.config.digest


class Build:
    """The stand-in images of every role, built once (the shared layer takes ~0.15 s)."""

    def __init__(self) -> None:
        self.layer_tar = _layer()
        self.diff_id = _digest(self.layer_tar)
        # mtime=0 and a fixed level: the same bytes, so the same digest, on every run.
        self.layer = Blob(MEDIA_TYPES["layer"], gzip.compress(self.layer_tar, 1, mtime=0))

    @functools.cache  # noqa: B019 (a Build lives for one up)
    def image(self, role_: str) -> Image:
        return Image(Blob(MEDIA_TYPES["config"], _config(role_, self.diff_id)), (self.layer,))
