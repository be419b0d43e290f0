"""The certificate rows: parsing node_certificate.sh's output, the threshold, the statuses, the
--cert-warn-days flag, and the script itself against a fake docker, id and sudo."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from federation import doctor
from federation.doctor import Row, certificates
from federation.scripts import render
from tests.federation.doctor.canned import certificate_pem, settings

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
EXPECTED = "valid, 14+ days left"


def cert_row(left: timedelta, warn_days: int = 14) -> Row | None:
    return doctor.certificate_row("hug", certificate_pem(NOW + left), NOW, warn_days)


def test_the_node_certificate_is_the_first_in_the_file():
    pem = certificate_pem(NOW + timedelta(days=30), intermediate=True)
    assert certificates.not_after(pem) == NOW + timedelta(days=30)
    with pytest.raises(ValueError):
        certificates.not_after("no PEM here")


def test_ok_with_the_date_and_days_left():
    assert cert_row(timedelta(days=89, hours=5)) == Row(
        "certificate", "hug", EXPECTED, "expires 2027-03-06 17:00 UTC, 89 days left", "OK"
    )


def test_warn_below_the_threshold_with_the_fix():
    found = cert_row(timedelta(days=13, hours=23))
    assert found == Row(
        "certificate", "hug", EXPECTED, "expires 2026-12-21 11:00 UTC, 13 days left", "WARN"
    )
    assert found.fix == certificates.RENEW_FIX
    assert "swarm.caRotation" in found.fix and "remove and re-add" in found.fix
    # exactly the threshold left is still OK; the threshold is the caller's
    assert cert_row(timedelta(days=14)).status == "OK"  # type: ignore[union-attr]
    assert cert_row(timedelta(days=14), warn_days=15).status == "WARN"  # type: ignore[union-attr]


def test_less_than_a_day_left_shows_hours_and_minutes():
    found = cert_row(timedelta(minutes=59), warn_days=1)
    assert found is not None and found.status == "WARN"
    assert found.actual == "expires 2026-12-07 12:59 UTC, 0 h 59 min left"
    assert cert_row(timedelta(days=1), warn_days=2).actual.endswith(", 1 day left")  # type: ignore[union-attr]


def test_expired_is_an_error_with_the_fix():
    found = cert_row(timedelta(seconds=0))
    assert found == Row("certificate", "hug", EXPECTED, "expired 2026-12-07 12:00 UTC", "ERROR")
    assert found.fix == certificates.EXPIRED_FIX
    assert cert_row(-timedelta(days=3)).status == "ERROR"  # type: ignore[union-attr]


def test_not_measured_is_a_warning_naming_why_and_no_swarm_is_no_row():
    file = "/var/lib/docker/swarm/certificates/swarm-node.crt"
    unread = doctor.certificate_row("hug", f"unread {file}: not in a swarm, or ...\n", NOW, 14)
    assert unread == Row(
        "certificate",
        "hug",
        EXPECTED,
        f"not measured: cannot read {file}: not in a swarm, or ...",
        "WARN",
    )
    assert unread.fix == certificates.UNREAD_FIX
    garbage = doctor.certificate_row("hug", "-----BEGIN CERTIFICATE-----\nxx", NOW, 14)
    assert garbage is not None and garbage.status == "WARN"
    assert garbage.actual.startswith("not measured: no certificate in '-----BEGIN")
    assert doctor.certificate_row("hug", f"absent {file}\n", NOW, 14) is None


def test_rows_in_stack_order_for_the_nodes_asked():
    printed = {
        "lille": certificate_pem(NOW + timedelta(days=3)),
        "chuv": certificate_pem(NOW + timedelta(days=60)),
    }  # hug unreachable: its node and swarm rows say so
    rows = doctor.certificate_rows(settings(), printed, NOW, 14)
    assert [(r.subject, r.status) for r in rows] == [("chuv", "OK"), ("lille", "WARN")]


def test_warnings_make_exit_status_1_and_their_own_verdict():
    ok = Row("node", "hug", "ready, active", "ready, active", "OK")
    warn = Row("certificate", "hug", EXPECTED, "expires ..., 3 days left", "WARN")
    drift = Row("label", "hug", "name=hug", "(none)", "DRIFT")
    assert doctor.exit_status([ok, warn]) == 1
    assert doctor.summary("prod", [ok, warn]) == (
        "stack prod: WARN: 2 checks, 1 OK, 1 warn, 0 drift, 0 error"
    )
    assert doctor.summary("prod", [ok, warn, drift]) == (
        "stack prod: DRIFT: 3 checks, 1 OK, 1 warn, 1 drift, 0 error"
    )
    assert doctor.summary("prod", [ok]) == "stack prod: IN SYNC: 1 checks, 1 OK, 0 drift, 0 error"


@pytest.mark.parametrize("days", ["0", "-3", "7301"])
def test_the_threshold_flag_is_validated_before_anything_is_read(days, tmp_path, capsys):
    missing = tmp_path / "Pulumi.prod.yaml"  # never read: the flag fails first
    assert doctor.main(["prod", "--stack-file", str(missing), "--cert-warn-days", days]) == 2
    assert capsys.readouterr().err == (
        f"doctor: --cert-warn-days {days}: give whole days between 1 and 7300\n"
    )


def test_the_threshold_flag_takes_whole_days_only(capsys):
    with pytest.raises(SystemExit) as exit_info:
        doctor.main(["prod", "--cert-warn-days", "2.5"])
    assert exit_info.value.code == 2
    assert "argument --cert-warn-days: invalid int value: '2.5'" in capsys.readouterr().err


# --- node_certificate.sh, with a fake docker (its root dir), id and sudo ------------------------

FAKE_DOCKER = """#!/bin/sh
[ -n "${DOCKER_DOWN:-}" ] && { echo "Cannot connect to the Docker daemon" >&2; exit 1; }
case "$*" in
  "info --format {{.DockerRootDir}}") echo "$ROOT_DIR" ;;
  *) echo "unexpected: $*" >&2; exit 2 ;;
esac
"""
FAKE_ID = """#!/bin/sh
case "$1" in -u) echo 1000 ;; -un) echo mip ;; esac
"""
# Passwordless sudo when SUDO_OK is set; `-n` is required (a prompt would hang the doctor).
FAKE_SUDO = """#!/bin/sh
[ "$1" = -n ] || exit 9
[ -n "${SUDO_OK:-}" ] || { echo "sudo: a password is required" >&2; exit 1; }
shift; SUDO_OK= exec "$@"
"""


def run_script(tmp_path: Path, user: bool = False, **env: str) -> str:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    tools = {"docker": FAKE_DOCKER, "sudo": FAKE_SUDO, **({"id": FAKE_ID} if user else {})}
    for name, text in tools.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    result = subprocess.run(
        ["sh", "-c", render("node_certificate")],
        capture_output=True,
        text=True,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "ROOT_DIR": str(tmp_path / "docker"), **env},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_script_prints_the_certificate_under_dockers_root_dir(tmp_path):
    pem = certificate_pem(NOW + timedelta(days=90))
    certs = tmp_path / "docker" / "swarm" / "certificates"
    certs.mkdir(parents=True)
    (certs / "swarm-node.crt").write_text(pem)
    assert run_script(tmp_path) == pem
    (certs / "swarm-node.crt").chmod(0o000)  # unreadable but to root: sudo reads it
    if subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() == "0":
        return  # root reads a mode 000 file: the sudo path cannot be shown as root
    assert run_script(tmp_path, user=True, SUDO_OK="1") == pem


def test_the_script_says_absent_or_unread_and_never_prompts(tmp_path):
    file = tmp_path / "docker" / "swarm" / "certificates" / "swarm-node.crt"
    is_root = subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() == "0"
    if is_root:
        assert run_script(tmp_path) == f"absent {file}\n"
    assert run_script(tmp_path, user=True) == (
        f"unread {file}: not in a swarm, or mip may not read it (root or passwordless sudo for "
        "cat)\n"
    )
    # A stopped daemon: the file is still where Docker's default root keeps it.
    out = run_script(tmp_path, user=True, DOCKER_DOWN="1")
    assert out.startswith("unread /var/lib/docker/swarm/certificates/swarm-node.crt: ") or (
        out.startswith("-----BEGIN CERTIFICATE-----")
    )
