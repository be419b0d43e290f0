"""The federation each tool is expected to leave (bench/spec.py, bench/endstate.py expected)."""

from __future__ import annotations

from bench import endstate
from bench.spec import MASTER, Federation, Node
from federation.exareme import START_COMMAND


def _federation(workers: int) -> Federation:
    nodes = [Node("hub", "10.0.0.1", "h1", "manager")]
    nodes += [
        Node(f"hosp{i}", f"10.0.0.{i + 1}", f"h{i + 1}", "worker") for i in range(1, workers + 1)
    ]
    return Federation(tuple(nodes))


def _env(federation: Federation, name: str) -> dict[str, str]:
    return next(s.env for s in federation.services if s.name == name)


def test_the_2018_tools_put_the_password_in_the_env_on_an_attachable_network() -> None:
    first = _federation(2)
    wanted = endstate.expected(first)
    assert wanted["network"]["attachable"] is True
    assert _env(first, "exareme-worker-hosp1")["RAWPASSWORD"] == "ldsm-pw-hosp1"
    assert wanted["services"][MASTER]["command"] == []
    assert _env(_federation(3), MASTER)["EXA_WORKERS_WAIT"] == "3"


def test_the_program_keeps_passwords_in_secrets_and_the_bootstrap_count_after_an_add() -> None:
    first = _federation(2)
    deployed = first.as_the_program_deploys(first)
    wanted = endstate.expected(deployed)
    assert wanted["network"]["attachable"] is False
    for service in deployed.services[1:]:
        assert "RAWPASSWORD" not in service.env, service.name
        assert wanted["services"][service.name]["command"] == START_COMMAND
    added = _federation(3).as_the_program_deploys(first)
    assert _env(added, MASTER)["EXA_WORKERS_WAIT"] == "2"
    assert "exareme-worker-hosp3" in endstate.expected(added)["services"]
    assert added.upgraded().trust_boundary
