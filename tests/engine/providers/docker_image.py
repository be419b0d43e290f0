"""Image references as the Docker client pins them when it creates a service: the tag and digest
forms and the answer of the daemon's /distribution endpoint (upstream: FIDELITY.md)."""

from __future__ import annotations

from typing import Any


def _fold(obj: dict[str, Any]) -> dict[str, Any]:
    """A JSON object with its keys lower-cased, as Go's case-insensitive decoding sees it."""
    return {str(k).lower(): v for k, v in obj.items()}


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
