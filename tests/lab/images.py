"""Stand-in images, built locally as one `docker load` archive (no registry, no internet).

All images share one layer: Debian's static busybox with its applet links and the entrypoints in
standin/. They differ by entrypoint: the MIP services serve a small page on their port forever;
mip-lab/busybox idles or runs the command it is given. Their stop signal is SIGKILL, so stopping a
task or container is immediate.
"""

import hashlib
import io
import json
import subprocess
import tarfile
from collections.abc import Iterable

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


def entrypoint(role_: str) -> list[str]:
    if role_ == "busybox":
        return ["/lab/busybox-entry"]
    return ["/lab/standin", role_, str(PORTS[role_])]


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
        for directory in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "lab", "root", "www"):
            _add(layer, directory, tarfile.DIRTYPE, 0o755)
        _add(layer, "tmp", tarfile.DIRTYPE, 0o1777)
        with open(BUSYBOX, "rb") as binary:
            _add(layer, "bin/busybox", tarfile.REGTYPE, 0o755, binary.read())
        for applet in sorted(set(applets.stdout.split()) - {"bin/busybox"}):
            _add(layer, applet, tarfile.SYMTYPE, 0o777, link="/bin/busybox")
        _add(layer, "etc/passwd", tarfile.REGTYPE, 0o644, b"root:x:0:0:root:/root:/bin/sh\n")
        _add(layer, "etc/group", tarfile.REGTYPE, 0o644, b"root:x:0:\n")
        for script in ("standin", "busybox-entry"):
            _add(
                layer,
                f"lab/{script}",
                tarfile.REGTYPE,
                0o755,
                (STANDIN / f"{script}.sh").read_bytes(),
            )
    return buffer.getvalue()


def _config(role_: str, diff_id: str) -> bytes:
    config = {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Entrypoint": entrypoint(role_),
        "StopSignal": "SIGKILL",
        "Labels": {"org.mip-lab.stand-in": role_},
    }
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


def archive(images: Iterable[str]) -> bytes:
    """A `docker load` archive (docker save format) holding the named images. Deterministic:
    the same name gets the same image ID on every host and every run."""
    layer = _layer()
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    by_role: dict[str, list[str]] = {}
    for image in sorted({reference(image) for image in images}):
        by_role.setdefault(role(image), []).append(image)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as out:
        manifest = []
        _add(out, "layer/layer.tar", tarfile.REGTYPE, 0o644, layer)
        for role_, names in sorted(by_role.items()):
            config = _config(role_, diff_id)
            config_name = hashlib.sha256(config).hexdigest() + ".json"
            _add(out, config_name, tarfile.REGTYPE, 0o644, config)
            manifest.append(
                {"Config": config_name, "RepoTags": names, "Layers": ["layer/layer.tar"]}
            )
        _add(out, "manifest.json", tarfile.REGTYPE, 0o644, json.dumps(manifest).encode())
    return buffer.getvalue()
