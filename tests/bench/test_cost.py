"""CPU bookkeeping of the bench (bench/cost.py, bench/targets.py) and Ansible's task times."""

from __future__ import annotations

import os

from bench import cost, targets
from bench.runner import Sample
from bench.tools.ansible import task_seconds


def test_stat_ticks_reads_utime_stime_and_the_waited_for_children() -> None:
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    # utime stime cutime cstime ...; the command holds spaces and a parenthesis
    line = "42 (a) b (c) S 1 42 42 0 -1 4194560 10 0 0 0 7 3 20 5 20 0 1 0 100 0 0"
    assert cost.stat_ticks(line) == 7 + 3 + 20 + 5


def test_this_process_tree_has_used_some_cpu() -> None:
    sum(i * i for i in range(200_000))
    assert cost.tree_seconds(os.getpid()) > 0


def test_delta_counts_hosts_seen_in_both_samples() -> None:
    assert cost.delta({"h1": 1.0, "h2": 5.0}, {"h1": 3.5, "h2": 5.0, "h3": 9.0}) == 2.5


def test_cpu_per_hospital_per_action() -> None:
    sample = Sample("program", 3, 1, 0.0)
    sample.cpu = {
        "deploy": {"operator": 4.0, "hosts": 6.0, "hosts_until_working": 8.0},
        "rerun": {"operator": 1.0, "hosts": 1.0, "hosts_until_working": 3.0},
        "add": {"operator": 1.0, "hosts": 2.0, "hosts_until_working": 2.5},
    }
    assert targets.cpu_per_hospital(sample, "deploy") == 3.0  # (4 + 8) / 4 hospitals
    assert targets.cpu_per_hospital(sample, "rerun") == 0.5  # (1 + 1) / 4
    assert targets.cpu_per_hospital(sample, "add") == 3.5  # one added hospital
    assert targets.cpu_per_hospital(sample, "remove") is None


def test_ansible_task_times_from_profile_tasks() -> None:
    log = (
        "PLAY RECAP ****\nhub : ok=3 changed=2\n\n"
        "Thursday 01 January 2026  10:00:00 +0000 (0:00:01.5)       0:00:09.1 ******\n"
        "===============================================================================\n"
        "Workers join : Join the swarm ------------------------------------------ 2.31s\n"
        "Initialise the swarm ------------------------------------------------- 1.02s\n"
    )
    assert task_seconds(log) == {"Join the swarm": 2.31, "Initialise the swarm": 1.02}
