"""The projection's arithmetic on small hand-made graphs (bench/projection.py)."""

from __future__ import annotations

import pytest

from bench import projection
from bench.projection import Node, Step, Wan

# a(1) -> b(2) -> d(1); a -> c(3) -> d: the floor is a, c, d = 5 s
DIAMOND = [
    Step("a", 1.0),
    Step("b", 2.0, ("a",)),
    Step("c", 3.0, ("a",)),
    Step("d", 1.0, ("b", "c")),
]


def test_critical_path_is_the_longest_chain() -> None:
    length, path = projection.critical_path(DIAMOND)
    assert length == 5.0
    assert path == ["a", "c", "d"]


def test_makespan_unlimited_equals_the_critical_path() -> None:
    assert projection.makespan(DIAMOND) == 5.0
    assert projection.makespan(DIAMOND, 2) == 5.0


def test_makespan_one_at_a_time_is_the_sum() -> None:
    assert projection.makespan(DIAMOND, 1) == 7.0


def test_makespan_slots_go_to_the_first_ready_step_in_order() -> None:
    # With 2 slots, x and y run first; z (ready at 0, listed third) waits for x's slot.
    steps = [Step("x", 1.0), Step("y", 4.0), Step("z", 2.0), Step("w", 1.0, ("z",))]
    assert projection.makespan(steps, 2) == 4.0  # z 1-3, w 3-4, y 0-4
    assert projection.makespan(steps, 1) == 8.0
    # Seven equal independent steps on five slots: two batches.
    batch = [Step(f"s{i}", 1.5) for i in range(7)]
    assert projection.makespan(batch, 5) == 3.0


def test_a_cycle_or_an_unknown_step_is_an_error() -> None:
    with pytest.raises(ValueError, match="cycle"):
        projection.critical_path([Step("p", 1.0, ("q",)), Step("q", 1.0, ("p",))])
    with pytest.raises(ValueError, match="cycle"):
        projection.makespan([Step("p", 1.0, ("q",)), Step("q", 1.0, ("p",))], 4)
    with pytest.raises(ValueError, match="unknown"):
        projection.makespan([Step("p", 1.0, ("nowhere",))], 4)


def test_kind_replaces_a_hospital_alias_only_as_a_whole_word() -> None:
    aliases = ["hosp1", "hosp10"]
    assert projection.kind("join-hosp10", aliases) == "join-*"
    assert projection.kind("exareme-worker-hosp1", aliases) == "exareme-worker-*"
    assert projection.kind("probe-hub", aliases) == "probe-hub"


def test_program_steps_add_the_wan_and_one_tunnel_per_provider() -> None:
    wan = Wan(rtt=0.1, ssh_session=8, docker_call=1, swarm_join=4)
    graph = [
        Node("leader-docker", "pulumi:providers:docker", ()),
        Node("swarm-init", projection.COMMAND, ()),
        Node("join-hosp7", projection.COMMAND, ("swarm-init",)),
        Node("overlay-network", "docker:index/network:Network", ("leader-docker", "swarm-init")),
        Node("exareme-worker-hosp7", "docker:index/service:Service", ("leader-docker",)),
    ]
    measured = {"swarm-init": 1.0, "join-hosp1": 0.5, "join-hosp2": 0.7, "overlay-network": 0.2}
    steps, missing = projection.program_steps(graph, measured, ["hosp1", "hosp2"], wan, ["hosp7"])
    seconds = {s.name: round(s.duration, 6) for s in steps}
    assert seconds == {
        "leader-docker": 0.0,
        "swarm-init": 1.8,  # 1.0 + 8 RTT
        "join-hosp7": 1.8,  # median 0.6 + (8 + 4) RTT
        "overlay-network": 1.2,  # 0.2 + 2 calls + the provider's ssh tunnel
        "exareme-worker-hosp7": 0.3,  # not measured: 0 + 3 calls
    }
    assert missing == ["exareme-worker-*"]


def test_manual_and_ansible_grow_with_the_hospitals() -> None:
    wan = Wan(rtt=0.0)
    steps = {"init": 1.0, "join-hosp1": 2.0, "label-hub": 0.5, "label-hosp1": 0.5}
    steps |= {"network": 1.0, "service-exareme-keystore": 1.0, "service-exareme-master": 1.0}
    steps |= {"service-exareme-worker-hosp1": 1.0}
    # 1 + 2 N + 0.5 (N + 1) + 3 + N = 15 at N = 3 workers, plus 0.5 s fixed
    assert projection.manual_seconds(steps, ["hosp1"], 3, 0.5, wan) == pytest.approx(15.5)
    tasks = {
        "Initialise the swarm": 1.0,
        "Join the swarm": 2.0,
        "Label every node with its name": 2.0,
    }
    tasks |= {
        "Overlay network": 1.0,
        "Keystore": 1.0,
        "Master": 1.0,
        "One worker per hospital": 3.0,
    }
    # measured at 3 workers, forks 5 (one batch); at 11 workers, forks 5: 3 batches of joins,
    # labels 0.5 s per node x 12, workers 1 s per hospital x 11
    got = projection.ansible_seconds(tasks, 3, 5, 11, 5, 0.0, wan)
    assert got == pytest.approx(1 + 3 * 2 + 12 * 0.5 + 3 + 11 * 1)
