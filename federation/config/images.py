"""Image references: Docker's reference grammar and what a reference pins."""

from __future__ import annotations

import re

# Docker's reference grammar (distribution/reference), without the optional leading domain.
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_RE = re.compile(
    r"^(?:(?P<domain>(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?)/)?"
    rf"(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


def image_problem(image: str) -> str | None:
    """Why an image reference is malformed, or None."""
    match = IMAGE_RE.match(image)
    domain = match.group("domain") if match else None
    # As in Docker, a first component is a registry only if it has a '.' or ':' or is localhost.
    if domain and not ("." in domain or ":" in domain or domain == "localhost"):
        match = None if domain.lower() != domain else match
    if match is None or len(image) > 255:
        return (
            "is not a valid image reference; use repository[:tag][@sha256:digest], "
            "e.g. hbpmip/exareme:v5"
        )
    return None


def is_floating_tag(image: str) -> bool:
    match = IMAGE_RE.match(image)
    if match is None or match.group("digest"):
        return False
    return match.group("tag") in (None, "latest")


def has_digest(image: str) -> bool:
    match = IMAGE_RE.match(image)
    return bool(match and match.group("digest"))
