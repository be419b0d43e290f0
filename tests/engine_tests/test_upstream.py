"""The upstream table (tests/engine/upstream.py) against the program's pins in requirements.txt:
a bump of pulumi, pulumi-command or pulumi-docker fails here until the double is reviewed."""

from __future__ import annotations

from pathlib import Path

from tests.engine.upstream import UPSTREAM

REQUIREMENTS = Path(__file__).parents[2] / "requirements.txt"


def pins() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in REQUIREMENTS.read_text().splitlines():
        name, sep, version = line.split("#", 1)[0].strip().partition("==")
        if sep:
            out[name.lower().replace("-", "_")] = version
    return out


def test_modelled_versions_are_the_pinned_ones() -> None:
    pinned = pins()
    checked = {name: entry for name, entry in UPSTREAM.items() if entry.pip}
    assert set(checked) == {"pulumi", "pulumi-command", "pulumi-docker"}
    for name, entry in checked.items():
        assert entry.pip is not None
        assert pinned[entry.pip.lower().replace("-", "_")] == entry.version, (
            f"requirements.txt pins {entry.pip}=={pinned[entry.pip]}, the engine double models "
            f"{name} {entry.version}: review the double against the new version (FIDELITY.md), "
            "then update tests/engine/upstream.py"
        )
