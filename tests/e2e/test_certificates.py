"""On the lab: swarm.certExpiry and swarm.caRotation (a new root CA, every node Ready with a
certificate from it and the configured lifetime) and network.mtu on the overlay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509

from federation import doctor
from tests.e2e.conftest import Federation, sh, swarm_nodes

pytestmark = pytest.mark.lab

NODE_CERT = "/var/lib/docker/swarm/certificates/swarm-node.crt"


def not_after(federation: Federation, index: int) -> datetime:
    pem = federation.lab.run(index, f"cat {NODE_CERT}").stdout
    return x509.load_pem_x509_certificate(pem.encode()).not_valid_after_utc


def trust_root(federation: Federation) -> str:
    return sh(federation.lab, 1, "docker info --format '{{.Swarm.Cluster.TLSInfo.TrustRoot}}'")


def write_stack(federation: Federation, config: dict[str, Any], path: Path) -> Path:
    """The stack file of `config` for the doctor."""
    document = federation.lab.stack_config(["chuv", "hug"], encrypted=False)
    document["config"] = {f"mip-federation:{key}": value for key, value in config.items()}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_ca_rotation_keeps_every_node_ready_with_the_new_lifetime_and_mtu_is_stable(
    federation, tmp_path
):
    lab = federation.lab
    config = federation.config(["chuv", "hug"])
    config["network"] = dict(config.get("network") or {}, mtu=1400)
    config["swarm"] = {"certExpiry": "720h"}
    first = federation.deploy(config)
    assert first.ok, first.errors
    options = sh(lab, 1, "docker network inspect --format '{{json .Options}}' mip-federation")
    assert '"com.docker.network.driver.mtu":"1400"' in options, options
    expiry = "docker info --format '{{.Swarm.Cluster.Spec.CAConfig.NodeCertExpiry}}'"
    assert sh(lab, 1, expiry) == "720h0m0s"

    again = federation.deploy(config)
    assert again.ok and {o["op"] for o in again.operations} == {"same"}, again.operations

    # A rotation: only its command; a new root CA, every node Ready with a certificate issued
    # by it for the configured 30 days (the old ones were for 90).
    old_root = trust_root(federation)
    config["swarm"] = dict(config["swarm"], caRotation="2026-12-01")
    rotated = federation.deploy(config)
    assert rotated.ok, rotated.errors
    assert {o["name"] for o in rotated.operations if o["op"] != "same"} == {"swarm-ca-rotation"}
    assert trust_root(federation) != old_root
    assert all(n["state"] == "ready" for n in swarm_nodes(lab).values()), swarm_nodes(lab)
    for index in (1, 2):
        left = not_after(federation, index) - datetime.now(UTC)
        assert timedelta(days=29) < left < timedelta(days=31, hours=2), (index, left)

    # The doctor's certificate rows: 30 days left is OK at the default threshold (14 days), and
    # a warning with the fix when the threshold is longer than the lifetime.
    stack_file = write_stack(federation, config, tmp_path / "Pulumi.e2e.yaml")
    for warn_days, status in ((doctor.CERT_WARN_DAYS, "OK"), (31, "WARN")):
        _, rows = doctor.report("e2e", stack_file, None, 10.0, cert_warn_days=warn_days)
        certificates = {r.subject: r for r in rows if r.check == "certificate"}
        assert set(certificates) == {"chuv", "hug"}, rows
        for index, name in ((1, "chuv"), (2, "hug")):
            row = certificates[name]
            real = not_after(federation, index)
            assert row.status == status, row
            assert row.actual.startswith(f"expires {real:%Y-%m-%d %H:%M} UTC, "), (row, real)
            assert " days left" in row.actual, row
            assert (row.fix != "") == (status == "WARN"), row

    # The federation still works: services as deployed, a further up is all same.
    settled = federation.deploy(config)
    assert settled.ok and {o["op"] for o in settled.operations} == {"same"}, settled.operations

    # Changing the rotation text again rotates again; an MTU change previews the replacement.
    config["swarm"] = dict(config["swarm"], caRotation="2027-01-01")
    config["network"] = dict(config["network"], mtu=1450)
    plan = federation.preview(config)
    assert plan.ok, plan.errors
    ops = plan.step_ops()
    assert ops["swarm-ca-rotation"] == "replace"
    assert ops["overlay-network"] == "replace"
