"""The data-plane probe on the lab: UDP 4789 dropped on one host, TCP+UDP 7946 on another; the
deploy and `python -m federation.doctor --probe` name each host and its port; nothing is left
behind; with the ports open again everything passes and a second deploy is all `same`."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from federation import doctor
from federation.doctor import Row
from tests.e2e.conftest import sh, wait_for

pytestmark = pytest.mark.lab

NAMES = ["chuv", "hug", "bern", "zurich"]
VXLAN_HOST, GOSSIP_HOST = 2, 3  # hug, bern
BLOCK_VXLAN = "iptables -A INPUT -p udp --dport 4789 -j DROP"
BLOCK_GOSSIP = (
    "iptables -A INPUT -p udp --dport 7946 -j DROP && iptables -A INPUT -p tcp --dport 7946 -j DROP"
)
EXPECTED = "reaches exareme-keystore:8500 over mip-federation"
DEADLINE = 10


def write_stack(lab, path: Path) -> Path:
    path.write_text(yaml.safe_dump(lab.stack_config(NAMES, encrypted=False), sort_keys=False))
    return path


def probe_rows(stack_file: Path) -> list[Row]:
    _, rows = doctor.report("e2e", stack_file, None, 5.0, probe_deadline=DEADLINE)
    return [r for r in rows if r.check == "probe"]


def leftovers(lab) -> list[str]:
    """Probe containers, services and networks other than the stack's, on every host."""
    found = []
    for index in range(1, len(NAMES) + 1):
        containers = sh(lab, index, "docker ps -aq --filter label=mip-federation.probe")
        if containers:
            found.append(f"{lab.host(index).name}: containers {containers.split()}")
    services = sh(lab, 1, "docker service ls --format '{{.Name}}'").split()
    found += [f"service {s}" for s in services if not s.startswith("exareme-")]
    networks = sh(lab, 1, "docker network ls --filter driver=overlay --format '{{.Name}}'")
    found += [f"network {n}" for n in networks.split() if n not in ("ingress", "mip-federation")]
    return found


def unblock(lab) -> None:
    for index in (VXLAN_HOST, GOSSIP_HOST):
        lab.run(index, "iptables -F INPUT", check=False)


def test_blocked_vxlan_and_gossip_are_named_per_host_then_everything_passes(federation, tmp_path):
    lab = federation.lab
    hug, bern = lab.host(VXLAN_HOST), lab.host(GOSSIP_HOST)
    config = federation.config(NAMES)
    stack_file = write_stack(lab, tmp_path / "Pulumi.e2e.yaml")
    try:
        # Ports blocked before the first deploy: the deploy fails at the probes, naming each host
        # and its port (a node alone cannot tell VXLAN from a gossip loss: it names both).
        lab.run(VXLAN_HOST, BLOCK_VXLAN)
        lab.run(GOSSIP_HOST, BLOCK_GOSSIP)
        started = time.monotonic()
        failed = federation.deploy(config)
        deploy_seconds = time.monotonic() - started
        errors = dict(failed.errors)
        assert set(errors) == {"probe-hug", "probe-bern"}, failed.errors
        assert (
            f"node hug ({hug.ip}): the overlay mip-federation carries no traffic"
            in (errors["probe-hug"])
        )
        assert "VXLAN, UDP 4789" in errors["probe-hug"]
        assert f"node bern ({bern.ip}): " in errors["probe-bern"]
        assert "gossip, TCP+UDP 7946" in errors["probe-bern"]
        assert {o["name"] for o in failed.ops("create") if o["name"].startswith("probe-")} >= {
            "probe-chuv",
            "probe-zurich",
        }
        assert leftovers(lab) == []

        # The doctor tells them apart by the leader's gossip peers.
        expected = [
            Row("probe", "chuv", EXPECTED, EXPECTED, "OK"),
            ("hug", "VXLAN, UDP 4789 (gossip works)"),
            ("bern", "gossip, TCP+UDP 7946"),
            Row("probe", "zurich", EXPECTED, EXPECTED, "OK"),
        ]

        def named() -> list[Row] | None:
            rows = probe_rows(stack_file)
            ok = (
                rows[0] == expected[0]
                and rows[3] == expected[3]
                and rows[1].status == rows[2].status == "DRIFT"
                and expected[1][1] in rows[1].actual
                and expected[2][1] in rows[2].actual
            )
            return rows if ok else None

        started = time.monotonic()
        rows = wait_for(named, timeout=120, interval=1, what="the doctor naming both ports")
        probe_seconds = time.monotonic() - started
        print("\n".join(f"{r.subject}: {r.actual}" for r in rows))
        assert leftovers(lab) == []
    finally:
        unblock(lab)

    # Ports open again: the probe passes everywhere (the leader readmits bern to its gossip
    # within about 30 s), the deploy completes, a second deploy is all same.
    wait_for(
        lambda: all(r.status == "OK" for r in probe_rows(stack_file)),
        timeout=120,
        interval=1,
        what="every probe passing once the ports are open",
    )
    started = time.monotonic()
    _, rows = doctor.report("e2e", stack_file, None, 5.0, probe_deadline=DEADLINE)
    clean_seconds = time.monotonic() - started
    assert [r for r in rows if r.status != "OK"] == []
    result = federation.deploy(config)
    assert result.ok, result.errors
    # The probes that failed were not stored: this deploy runs them again, and they pass.
    assert {"probe-hug", "probe-bern"} <= {o["name"] for o in result.ops("create")}
    assert not {"probe-chuv", "probe-zurich"} & {o["name"] for o in result.ops("create")}
    again = federation.deploy(config)
    assert again.ok, again.errors
    assert {o["op"] for o in again.operations} == {"same"}
    assert leftovers(lab) == []
    print(
        f"timings, {len(NAMES)} nodes: failing deploy {deploy_seconds:.1f} s, doctor --probe "
        f"naming both {probe_seconds:.1f} s (with waits), "
        f"clean doctor --probe {clean_seconds:.1f} s"
    )


def test_an_encrypted_overlay_without_esp_is_named_esp(federation, tmp_path):
    """This kernel has no ESP: on an encrypted overlay, gossip works and the VXLAN packets inside
    ESP go nowhere, as when ESP (IP protocol 50) is dropped between hosts on a real kernel."""
    lab = federation.lab
    config = federation.config(NAMES, encrypted=True)
    result = federation.deploy(config)
    errors = dict(result.errors)
    assert set(errors) == {f"probe-{name}" for name in NAMES[1:]}, result.errors
    for index, name in enumerate(NAMES[1:], start=2):
        assert f"node {name} ({lab.host(index).ip}): " in errors[f"probe-{name}"]
        assert "ESP, IP protocol 50, or UDP 4789 (VXLAN inside ESP)" in errors[f"probe-{name}"]
    path = tmp_path / "Pulumi.e2e.yaml"
    path.write_text(yaml.safe_dump(lab.stack_config(NAMES, encrypted=True), sort_keys=False))
    rows = probe_rows(path)
    assert [(r.subject, r.status) for r in rows] == [
        ("chuv", "OK"),
        ("hug", "DRIFT"),
        ("bern", "DRIFT"),
        ("zurich", "DRIFT"),
    ]
    for row in rows[1:]:
        assert row.actual.endswith(
            "ESP, IP protocol 50, or UDP 4789 (the encrypted overlay carries VXLAN inside ESP; "
            "gossip works)"
        ), row.actual
    assert leftovers(lab) == []
