"""The data-plane probe's scripts, run by a real shell against a fake `docker`: what each node's
probe.sh reports and leaves behind, and how probe_verdict.sh classifies a failure by port."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from federation.config.model import NetworkSettings, NodeSettings
from federation.probe import parse_verdict, probe_script, verdict_script

LEADER = NodeSettings(name="chuv", host="127.0.0.1", role="manager")
HUG = NodeSettings(name="hug", host="127.0.0.2", role="worker")
PLAIN = NetworkSettings(encrypted=False)
ENCRYPTED = NetworkSettings(encrypted=True)

# A `docker` that logs its arguments, answers `docker info`, prints $FAKE_RUN for `docker run`
# and, for `docker network inspect`, the next line of $FAKE_PEERS (one sample per call);
# `docker events` writes its pid next to the log and, like the real one with no event, blocks.
FAKE_DOCKER = """#!/bin/sh
printf '%s\n' "$*" | tr '\n' ' ' | sed 's/ $//' >> "$FAKE_LOG"; echo >> "$FAKE_LOG"
case "$1 $2" in
  "info --format")
    case "$3" in *LocalNodeState*) echo "$FAKE_STATE" ;; *NodeAddr*) echo 192.0.2.11 ;; esac ;;
  "network inspect")
    n=$(grep -c '^network inspect' "$FAKE_LOG")
    printf '%s\\n' "$FAKE_PEERS" | sed -n "${n}p" ;;
  run*) printf '%s\\n' "$FAKE_RUN"; exit "${FAKE_RUN_CODE:-0}" ;;
  ps*) [ -z "$FAKE_TASK" ] || echo "$FAKE_TASK" ;;
  events*) echo $$ > "$FAKE_LOG.events"; exec sleep 30 ;;
esac
"""


def fake_env(tmp_path: Path, docker_script: str = FAKE_DOCKER, **values: str) -> dict[str, str]:
    """The environment of a probe run against `docker_script` as `docker`; HOME is tmp_path, for
    the fakes that keep state there."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    docker = bin_dir / "docker"
    docker.write_text(docker_script)
    docker.chmod(0o755)
    # probe.sh's check that the leader answers on TCP 2377 (`timeout 5 bash -c ...`): no traffic.
    check = bin_dir / "timeout"
    check.write_text('#!/bin/sh\necho "timeout $*" >> "$FAKE_LOG"\nexit "${FAKE_LEADER_DOWN:-0}"\n')
    check.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "FAKE_LOG": str(tmp_path / "docker.log"),
        "FAKE_STATE": "active",
        "FAKE_RUN": "",
        "FAKE_PEERS": "",
        "FAKE_TASK": "task-0",
    }
    env.update(values)
    return env


def run(
    script: str, env: dict[str, str], timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", "-c", script], env=env, capture_output=True, text=True, timeout=timeout
    )


def alive(pid_file: Path) -> bool:
    try:
        os.kill(int(pid_file.read_text()), 0)
    except ProcessLookupError:
        return False
    return True


# --- probe.sh, on each node --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("docker_run", "line", "cause"),
    [
        ("ok 10.20.30.2", "hug 192.0.2.11 ok 10.20.30.2", None),
        (
            "connect 10.20.30.2:8500 nc: timed out",
            "hug 192.0.2.11 connect 10.20.30.2:8500 nc: timed out",
            "VXLAN, UDP 4789, or gossip, TCP+UDP 7946 if the leader's gossip lost this node",
        ),
        (
            "resolve exareme-keystore",
            "hug 192.0.2.11 resolve exareme-keystore",
            "exareme-keystore not resolved: gossip, TCP+UDP 7946",
        ),
        (
            "docker: Error response from daemon: No such image: consul.",
            "hug 192.0.2.11 run docker: Error response from daemon: No such image: consul.",
            "no probe container in the task exareme-worker-hug: docker: Error response",
        ),
    ],
)
def test_probe_prints_its_line_and_names_the_likely_port(tmp_path, docker_run, line, cause):
    env = fake_env(tmp_path, FAKE_RUN=docker_run)
    result = run(probe_script(HUG, PLAIN, "hashicorp/consul:1.15.4", 5, leader=LEADER), env)
    assert result.stdout.splitlines() == [line]
    if cause is None:
        assert result.returncode == 0 and result.stderr == ""
    else:
        assert result.returncode == 20
        assert result.stderr.startswith("node hug (192.0.2.11): the overlay mip-federation ")
        assert cause in result.stderr
    calls = (tmp_path / "docker.log").read_text().splitlines()
    # A leftover of an interrupted run is removed first, the container again on exit.
    assert any(c.startswith("timeout 5 bash -c") and c.endswith(" 127.0.0.1") for c in calls)
    removals = [c for c in calls if c == "rm -f mip-federation-probe-hug"]
    assert len(removals) == 2 and calls[-1] == removals[-1]
    [docker_run_call] = [c for c in calls if c.startswith("run ")]
    assert docker_run_call.startswith(
        "run --rm --name mip-federation-probe-hug --label mip-federation.probe=hug "
        "--network container:task-0 --log-driver none --entrypoint /bin/sh "
        "hashicorp/consul:1.15.4 -c "
    )
    assert docker_run_call.endswith(" probe exareme-keystore 8500 5")


@pytest.mark.parametrize(
    ("node", "service"), [(HUG, "exareme-worker-hug"), (LEADER, "exareme-master")]
)
def test_probe_shares_the_network_namespace_of_its_nodes_exareme_task(tmp_path, node, service):
    # No attachment of its own: the probe proves the path the node's Exareme task uses.
    env = fake_env(tmp_path, FAKE_RUN="ok 10.20.30.2", FAKE_TASK="0123abcd")
    result = run(probe_script(node, PLAIN, "consul", 5, leader=LEADER, task_wait=30), env)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "docker.log").read_text().splitlines()
    [ps] = [c for c in calls if c.startswith("ps ")]  # found at once: no wait
    assert f"--filter label=com.docker.swarm.service.name={service}" in ps
    [docker_run_call] = [c for c in calls if c.startswith("run ")]
    assert " --network container:0123abcd " in docker_run_call


def test_probe_waits_for_the_task_then_reports_that_it_does_not_run(tmp_path):
    # The network is not attachable: without its node's task the probe has nowhere to run.
    env = fake_env(tmp_path, FAKE_RUN="ok 10.20.30.2", FAKE_TASK="")
    result = run(probe_script(HUG, PLAIN, "consul", 5, leader=LEADER, task_wait=1), env)
    assert result.returncode == 20
    assert result.stdout.splitlines() == [
        "hug 192.0.2.11 task exareme-worker-hug does not run here (no task container on this host)"
    ]
    assert result.stderr.startswith("node hug (192.0.2.11): ")
    assert "check docker service ps exareme-worker-hug on a manager" in result.stderr
    calls = (tmp_path / "docker.log").read_text().splitlines()
    # One event stream for the wait, not a `docker ps` per second: looked, waited, looked again.
    [events] = [c for c in calls if c.startswith("events ")]
    assert events.startswith("events --since ")
    assert (
        "--filter type=container --filter event=start --filter event=die "
        "--filter label=com.docker.swarm.service.name=exareme-worker-hug"
    ) in events
    assert len([c for c in calls if c.startswith("ps -q ")]) == 2
    assert [c for c in calls if c.startswith("run ")] == []  # no container attached anywhere
    assert not alive(tmp_path / "docker.log.events"), "the event watcher outlived the probe"


# The task's container starts while the probe waits: the event comes, then `docker ps` has it.
STARTING_TASK_DOCKER = """#!/bin/sh
echo "$*" >> "$FAKE_LOG"
case "$1" in
  info) case "$3" in *LocalNodeState*) echo active ;; *NodeAddr*) echo 192.0.2.11 ;; esac ;;
  ps) case "$*" in *status=running*) [ ! -e "$HOME/started" ] || echo task-1 ;; esac ;;
  events)
    echo $$ > "$FAKE_LOG.events"
    sleep 0.3; touch "$HOME/started"; echo start; exec sleep 30 ;;
  run) echo "ok 10.20.30.2" ;;
esac
"""


def test_probe_stops_waiting_when_its_task_starts(tmp_path):
    env = fake_env(tmp_path, STARTING_TASK_DOCKER)
    # Task wait 60 s, the fake's event stream 30 s: only the start event ends the wait in time.
    script = probe_script(HUG, PLAIN, "consul", 5, leader=LEADER, task_wait=60)
    result = run(script, env, timeout=20)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["hug 192.0.2.11 ok 10.20.30.2"]
    calls = (tmp_path / "docker.log").read_text().splitlines()
    [docker_run_call] = [c for c in calls if c.startswith("run ")]
    assert " --network container:task-1 " in docker_run_call
    assert not alive(tmp_path / "docker.log.events"), "the event watcher outlived the probe"


RESTARTING_TASK_DOCKER = """#!/bin/sh
echo "$*" >> "$FAKE_LOG"
case "$1" in
  info) case "$3" in *LocalNodeState*) echo active ;; *NodeAddr*) echo 192.0.2.11 ;; esac ;;
  ps) [ -e "$HOME/restarted" ] && echo task-2 || echo task-1 ;;
  run)
    case "$*" in
      *"--network container:task-1 "*)
        touch "$HOME/restarted"  # the task restarted between `docker ps` and `docker run`
        echo "docker: Error response from daemon: namespace path: lstat /proc/311/ns/net"
        exit 125 ;;
      *) echo "ok 10.20.30.2" ;;
    esac ;;
esac
"""


def test_probe_follows_its_task_into_the_container_that_replaced_it(tmp_path):
    env = fake_env(tmp_path, RESTARTING_TASK_DOCKER)
    result = run(probe_script(HUG, PLAIN, "consul", 5, leader=LEADER, task_wait=30), env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["hug 192.0.2.11 ok 10.20.30.2"]
    runs = [c for c in (tmp_path / "docker.log").read_text().splitlines() if c.startswith("run ")]
    assert [
        " --network container:task-1 " in runs[0],
        " --network container:task-2 " in runs[1],
    ] == [
        True,
        True,
    ]


EXITED_TASK_DOCKER = """#!/bin/sh
echo "$*" >> "$FAKE_LOG"
case "$1" in
  info) case "$3" in *LocalNodeState*) echo active ;; *NodeAddr*) echo 192.0.2.11 ;; esac ;;
  ps) case "$*" in *status=exited*) echo dead-1 ;; esac ;;
  run) echo "ok 10.20.30.2" ;;
esac
"""


def test_probe_does_not_wait_for_a_task_that_exited(tmp_path):
    # An Exareme image exits at start without its RAW* settings: said at once, no 120 s wait.
    env = fake_env(tmp_path, EXITED_TASK_DOCKER)
    result = run(probe_script(HUG, PLAIN, "consul", 5, leader=LEADER, task_wait=120), env)
    assert result.returncode == 20
    assert result.stdout.splitlines() == [
        "hug 192.0.2.11 task exareme-worker-hug does not run here (its task container exited)"
    ]
    calls = (tmp_path / "docker.log").read_text().splitlines()
    assert len([c for c in calls if c.startswith("ps -q ")]) == 1  # looked once, did not wait
    assert [c for c in calls if c.startswith("run ")] == []


def test_probe_on_an_encrypted_overlay_names_esp(tmp_path):
    env = fake_env(tmp_path, FAKE_RUN="connect 10.20.30.2:8500 nc: timed out")
    result = run(probe_script(HUG, ENCRYPTED, "consul", 5, leader=LEADER), env)
    assert "ESP, IP protocol 50, or UDP 4789 (VXLAN inside ESP)" in result.stderr


def test_probe_of_a_node_out_of_the_swarm_or_of_the_leader(tmp_path):
    env = fake_env(tmp_path, FAKE_STATE="inactive")
    result = run(probe_script(HUG, PLAIN, "consul", 5, leader=LEADER), env)
    assert result.stdout == "hug 192.0.2.11 state inactive\n" and result.returncode == 20
    assert "control, TCP 2377" in result.stderr
    assert "run " not in (tmp_path / "docker.log").read_text()  # no container at all
    env = fake_env(tmp_path, FAKE_RUN="resolve exareme-keystore")
    result = run(probe_script(LEADER, PLAIN, "consul", 5, leader=LEADER), env)
    assert "does not answer on the leader itself" in result.stderr


def test_probe_is_skipped_while_the_leaders_host_is_down(tmp_path):
    env = fake_env(tmp_path, FAKE_LEADER_DOWN="124", FAKE_RUN="resolve exareme-keystore")
    result = run(probe_script(HUG, PLAIN, "consul", 5, leader=LEADER), env)
    assert result.returncode == 0
    assert result.stdout == (
        "hug 192.0.2.11 skipped the leader 127.0.0.1 does not answer on TCP 2377\n"
    )
    assert "probe skipped" in result.stderr
    assert "run " not in (tmp_path / "docker.log").read_text()


# --- probe_verdict.sh, on the leader ------------------------------------------------------------

OK = {"chuv": "chuv 192.0.2.10 ok 10.20.30.2", "hug": "hug 192.0.2.11 ok 10.20.30.2"}
TIMED_OUT = "connect 10.20.30.2:8500 nc: timed out"


def verdict(tmp_path, results: dict[str, str], peers: list[str], network=PLAIN, samples=2):
    env = fake_env(tmp_path, FAKE_PEERS="\n".join(peers))
    script = verdict_script(LEADER, network, list(results.values()), samples)
    result = run(script, env)
    verdicts = parse_verdict(result.stdout)
    assert list(verdicts) == list(results)
    return result.returncode, {n: (v.status, v.message) for n, v in verdicts.items()}


def test_verdict_all_ok(tmp_path):
    code, verdicts = verdict(tmp_path, OK, ["192.0.2.10 192.0.2.11"])
    assert code == 0
    assert verdicts["hug"] == ("ok", "reaches exareme-keystore:8500 over mip-federation")


@pytest.mark.parametrize(
    ("hug", "peers", "network", "cause"),
    [
        # Gossip works (hug is among the leader's peers) but nothing crosses: VXLAN.
        (TIMED_OUT, ["192.0.2.10 192.0.2.11"] * 2, PLAIN, "VXLAN, UDP 4789 (gossip works)"),
        # The same on an encrypted overlay: VXLAN travels inside ESP.
        (TIMED_OUT, ["192.0.2.10 192.0.2.11"] * 2, ENCRYPTED, "ESP, IP protocol 50, or UDP 4789"),
        # The leader's gossip lost hug, even in one sample only (it flaps): 7946.
        (TIMED_OUT, ["192.0.2.10 192.0.2.11", "192.0.2.10"], PLAIN, "gossip, TCP+UDP 7946"),
        (TIMED_OUT, ["192.0.2.10", "192.0.2.10"], ENCRYPTED, "gossip, TCP+UDP 7946"),
        # Never learnt the keystore's address: gossip.
        ("resolve exareme-keystore", ["192.0.2.10"], PLAIN, "not resolved: gossip, TCP+UDP 7946"),
        ("state inactive", ["192.0.2.10"], PLAIN, "control, TCP 2377"),
        (
            "task exareme-worker-hug does not run here (its task container exited)",
            ["192.0.2.10 192.0.2.11"],
            PLAIN,
            "not probed: exareme-worker-hug does not run here (its task container exited): the "
            "probe runs inside the node's own Exareme task (mip-federation is not attachable)",
        ),
        (
            "connect 10.20.30.2:8500 nc: can't connect to remote host: Connection refused",
            ["192.0.2.10 192.0.2.11"] * 2,
            PLAIN,
            "the overlay works, the service does not listen",
        ),
    ],
)
def test_verdict_names_the_likely_port(tmp_path, hug, peers, network, cause):
    results = {"chuv": OK["chuv"], "hug": f"hug 192.0.2.11 {hug}"}
    code, verdicts = verdict(tmp_path, results, peers, network)
    assert code == 1
    assert verdicts["chuv"][0] == "ok"
    status, message = verdicts["hug"]
    assert status == "fail" and cause in message, message


def test_a_leader_that_does_not_answer_itself_makes_the_others_unknown(tmp_path):
    results = {"chuv": "chuv 192.0.2.10 resolve exareme-keystore", "hug": OK["hug"]}
    results["hug"] = f"hug 192.0.2.11 {TIMED_OUT}"
    code, verdicts = verdict(tmp_path, results, ["192.0.2.10 192.0.2.11"] * 2)
    assert code == 1
    assert verdicts["chuv"][0] == "fail" and "on the leader itself" in verdicts["chuv"][1]
    assert verdicts["hug"][0] == "unknown"


def test_parse_verdict_ignores_other_lines():
    parsed = parse_verdict("chuv ok reaches it\nnoise\nhug fail gossip, TCP+UDP 7946\n")
    assert {n: v.status for n, v in parsed.items()} == {"chuv": "ok", "hug": "fail"}
    assert parsed["hug"].message == "gossip, TCP+UDP 7946"


# --- the probes in the program's graph ---------------------------------------------------------


def test_each_probe_waits_for_its_node_the_network_the_keystore_and_its_own_task(run, config):
    # Only its own task's service: depending on every service made N probes depend on N
    # services, a quadratic evaluation at scale.
    ev = run(config)
    for node, task in [("hug", "exareme-worker-hug"), ("chuv", "exareme-master")]:
        named = {d.rsplit("::", 1)[1] for d in ev.named(f"probe-{node}").dependencies}
        assert {f"node-{node}", "overlay-network", "exareme-keystore", task} <= named
        other_services = {d for d in named if d.startswith("exareme-")} - {"exareme-keystore", task}
        assert other_services == set(), named
