"""The query port's firewall: its validation, its command under mocks, and its scripts run by a
real shell against a fake iptables (the rules themselves are proven on the lab:
tests/e2e/test_trust_boundary.py)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from federation.config import NodeSettings, validate
from federation.doctor.compare import _firewall_rows
from federation.firewall import CHAIN, apply_script, expected_rules, remove_script
from tests.federation.doctor.canned import in_sync, settings
from tests.federation.test_config import only_problem, valid

LEADER = NodeSettings(name="chuv", host="192.0.2.10", role="manager")


@pytest.mark.parametrize("source", ["10.0.0.1/24", "not-an-ip", "10.0.0.0/33", "; reboot"])
def test_a_bad_source_is_refused_naming_the_field_and_the_fix(source):
    raw = {**valid(), "exareme": {"allowFrom": ["192.0.2.7", source]}}
    problem = only_problem(raw)
    assert problem.startswith("exareme.allowFrom[1]: ")
    assert "CIDR form with no host bits set (e.g. 192.0.2.7 or 192.0.2.0/24)" in problem


def test_sources_are_normalised_and_closed_by_default():
    assert validate(valid(), "test", {"sshPrivateKey"}).exareme.allow_from == []
    raw = {**valid(), "exareme": {"allowFrom": ["192.0.2.7", "2001:db8::/32", "198.51.100.0/24"]}}
    settings_ = validate(raw, "test", {"sshPrivateKey"})
    assert settings_.exareme.allow_from == ["192.0.2.7/32", "2001:db8::/32", "198.51.100.0/24"]


def test_the_command_runs_on_the_leader_before_the_master_and_removes_its_chain(run, config):
    config["exareme"] = {"allowFrom": ["192.0.2.7", "2001:db8::/32"]}
    ev = run(config)
    command = ev.named("query-port-firewall").plain
    assert command["connection"]["host"] == "192.0.2.10"
    assert command["create"] == command["update"]
    assert "PORT=9090\nALLOW4=192.0.2.7/32\nALLOW6=2001:db8::/32\n" in command["create"]
    assert command["delete"] == f"CHAIN={CHAIN}\n" + remove_script().split("\n", 1)[1]


# iptables that logs each call (and the rules fed to a -restore), and answers -C and -D "no such
# rule" (a fresh host).
FAKE_IPTABLES = """#!/bin/sh
echo "${0##*/} $*" >> "$FAKE_LOG"
case "${0##*/}" in *-restore) sed 's/^/  /' >> "$FAKE_LOG" ;; esac
case "$*" in *" -C "* | *" -D "*) exit 1 ;; esac
"""


def run_with_fake_iptables(tmp_path: Path, script: str) -> list[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in ("iptables", "ip6tables", "iptables-restore", "ip6tables-restore"):
        (bin_dir / name).write_text(FAKE_IPTABLES)
        (bin_dir / name).chmod(0o755)
    (bin_dir / "sudo").write_text('#!/bin/sh\nshift\nexec "$@"\n')
    (bin_dir / "sudo").chmod(0o755)
    log = tmp_path / "log"
    log.write_text("")
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_LOG": str(log)}
    result = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return log.read_text().splitlines()


def test_the_rules_reset_all_but_the_listed_sources_on_the_published_port(tmp_path):
    calls = run_with_fake_iptables(
        tmp_path, apply_script(LEADER, 9090, ["192.0.2.7/32", "2001:db8::/32"])
    )
    restore4 = calls.index("iptables-restore -w --noflush")
    assert calls[restore4 + 1 : restore4 + 6] == [
        "  *filter",
        f"  :{CHAIN} - [0:0]",
        f"  -A {CHAIN} -s 192.0.2.7/32 -j RETURN",
        f"  -A {CHAIN} -p tcp -m conntrack --ctstate DNAT --ctorigdstport 9090 "
        "-j REJECT --reject-with tcp-reset",
        "  COMMIT",
    ]
    # The jump is inserted only because the fake says it is missing (-C fails).
    assert f"iptables -w -C DOCKER-USER -o docker_gwbridge -j {CHAIN}" in calls
    assert f"iptables -w -I DOCKER-USER -o docker_gwbridge -j {CHAIN}" in calls
    if Path("/proc/net/if_inet6").exists():
        restore6 = calls.index("ip6tables-restore -w --noflush")
        assert calls[restore6 + 3 : restore6 + 6] == [
            f"  -A {CHAIN} -i lo -j RETURN",
            f"  -A {CHAIN} -s 2001:db8::/32 -j RETURN",
            f"  -A {CHAIN} -p tcp -m tcp --dport 9090 -j REJECT --reject-with tcp-reset",
        ]
        assert f"ip6tables -w -I INPUT -j {CHAIN}" in calls


def test_removal_deletes_the_jumps_then_the_chain(tmp_path):
    calls = run_with_fake_iptables(tmp_path, remove_script())
    assert calls[:4] == [
        f"iptables -w -D DOCKER-USER -o docker_gwbridge -j {CHAIN}",
        f"iptables -w -n -L {CHAIN}",
        f"iptables -w -F {CHAIN}",
        f"iptables -w -X {CHAIN}",
    ]


def test_the_doctor_reports_a_missing_rule_as_drift_with_the_fix():
    stack, live = settings(), in_sync()
    in_place = _firewall_rows(stack, replace(live, firewall=tuple(expected_rules(9090, []))))
    assert [(r.check, r.subject, r.status) for r in in_place] == [("query port", "chuv:9090", "OK")]
    gone = ("4 jump no", "6 jump no")  # a reboot flushed it
    [row] = _firewall_rows(stack, replace(live, firewall=gone))
    assert (row.expected, row.actual, row.status) == (
        "closed but to the portal",
        "open: no rule",
        "DRIFT",
    )
    assert "pulumi up --replace" in row.fix
    assert _firewall_rows(stack, live) == []  # not read
