"""The stand-ins for Consul, Exareme and the portal on one lab host, on a bridge network in
10.20.0.0/16 (the Exareme image takes its own 10.20. address), without a swarm.

The Exareme behaviour is modelled on the image's start-up script, HBPMedical/Exareme-docker
files/root/exareme/bootstrap.sh at bedfac5abbf0de723b52cabafb15c50118eb3013 (2018-03-30); the
keystore on the part of Consul's KV HTTP API that script uses (GET/PUT/DELETE /v1/kv/KEY, ?keys,
?recurse, ?raw; 404 for a missing key or an empty listing; base64 Value).
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from federation.exareme import START_COMMAND
from tests.lab import Lab
from tests.lab.exareme_check import master_answer, portal_answer, reports_all
from tests.lab.fixture import lab_fixture

pytestmark = pytest.mark.lab
lab = lab_fixture()

HOST = 1
NETWORK = "standins"
SUBNET = "10.20.40.0/24"
LDSM = {
    "MODE": "global",
    "RAWUSERNAME": "ldsm",
    "RAWPASSWORD": "pw-Zq9-standin",
    "RAWHOST": "10.231.0.99",
    "RAWPORT": "31555",
    "RAWDB": "ldsm",
    "RAWENDPOINT": "query",
    "RAWRESULTS": "all",
    "RAWDATAKEY": "output",
    "CONSULURL": "exareme-keystore:8500",
}
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def sh(lab: Lab, command: str) -> str:
    return lab.run(HOST, command).stdout.strip()


def env_options(env: dict[str, str]) -> str:
    return " ".join(f"-e {name}='{value}'" for name, value in env.items())


def start(
    lab: Lab, name: str, image: str, env: dict[str, str], options: str = "", command: str = ""
) -> None:
    sh(
        lab,
        f"docker run -d --name {name} --network {NETWORK} {options} {env_options(env)} "
        f"{lab.image_ref(image)} {command} >/dev/null",
    )


def start_keystore(lab: Lab) -> None:
    start(
        lab,
        "keystore",
        "hashicorp/consul:1.15.4",
        {},
        "--network-alias exareme-keystore -p 8500:8500",
    )


def start_exareme(lab: Lab, node: str, **env: str) -> None:
    start(lab, f"exareme-{node}", "hbpmip/exareme:v5", {**LDSM, "NODE_NAME": node, **env})


@pytest.fixture
def host(lab: Lab) -> Iterator[Lab]:
    lab.reset()
    sh(lab, f"docker network create --subnet {SUBNET} {NETWORK} >/dev/null")
    yield lab
    lab.run(HOST, "docker rm -f $(docker ps -aq) >/dev/null 2>&1; docker network prune -f")


def http(lab: Lab, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    url = f"http://{lab.host(HOST).ip}:8500{path}"
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with OPENER.open(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while (value := predicate()) is None or value is False:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.3)
    return value


def test_keystore_answers_consuls_kv_api(host: Lab) -> None:
    start_keystore(host)
    health = wait_for(
        lambda: http(host, "GET", "/v1/health/state/passing")[1] or None, 10, "the keystore"
    )
    assert [check["Status"] for check in json.loads(health)] == ["passing"]

    assert http(host, "GET", "/v1/kv/available_workers/?keys") == (404, b"")
    assert http(host, "GET", "/v1/kv/master/chuv") == (404, b"")
    assert http(host, "PUT", "/v1/kv/available_workers/10.20.30.5", b"hug") == (200, b"true\n")
    assert http(host, "PUT", "/v1/kv/available_workers/10.20.30.4", b"bern")[0] == 200
    assert http(host, "PUT", "/v1/kv/master/chuv", b"")[0] == 200

    status, body = http(host, "GET", "/v1/kv/available_workers/?keys")
    assert status == 200
    assert json.loads(body) == ["available_workers/10.20.30.4", "available_workers/10.20.30.5"]
    assert http(host, "GET", "/v1/kv/available_workers/10.20.30.5?raw") == (200, b"hug")

    [entry] = json.loads(http(host, "GET", "/v1/kv/available_workers/10.20.30.5")[1])
    assert entry["Key"] == "available_workers/10.20.30.5"
    assert base64.b64decode(entry["Value"]) == b"hug"
    assert (entry["Flags"], entry["LockIndex"]) == (0, 0)
    assert entry["CreateIndex"] == entry["ModifyIndex"]
    [empty] = json.loads(http(host, "GET", "/v1/kv/master/chuv")[1])
    assert empty["Value"] is None

    assert http(host, "PUT", "/v1/kv/available_workers/10.20.30.5", b"hug2")[0] == 200
    [updated] = json.loads(http(host, "GET", "/v1/kv/available_workers/10.20.30.5")[1])
    assert updated["CreateIndex"] == entry["CreateIndex"]
    assert updated["ModifyIndex"] > entry["ModifyIndex"]

    status, body = http(host, "GET", "/v1/kv/available_workers?recurse")
    assert status == 200
    assert [(e["Key"], base64.b64decode(e["Value"])) for e in json.loads(body)] == [
        ("available_workers/10.20.30.4", b"bern"),
        ("available_workers/10.20.30.5", b"hug2"),
    ]

    assert http(host, "DELETE", "/v1/kv/available_workers/10.20.30.4") == (200, b"true\n")
    assert http(host, "GET", "/v1/kv/available_workers/10.20.30.4")[0] == 404
    assert http(host, "DELETE", "/v1/kv/nothing/here") == (200, b"true\n")
    assert http(host, "DELETE", "/v1/kv/available_workers?recurse")[0] == 200
    assert http(host, "GET", "/v1/kv/available_workers/?keys")[0] == 404
    assert json.loads(http(host, "GET", "/v1/kv/?keys")[1]) == ["master/chuv"]
    assert http(host, "POST", "/v1/kv/master/chuv", b"x")[0] == 405


@pytest.mark.parametrize(
    ("missing", "env"),
    [
        ("NODE_NAME", {"NODE_NAME": ""}),
        ("RAWPASSWORD", {"RAWPASSWORD": ""}),
        ("CONSULURL", {"CONSULURL": ""}),
        ("MODE", {"MODE": ""}),
    ],
)
def test_exareme_exits_at_start_naming_a_missing_variable(
    host: Lab, missing: str, env: dict[str, str]
) -> None:
    """As bootstrap.sh: `[ -z ${VAR} ]` then `echo "VAR is unset"; exit` (status 0)."""
    start_exareme(host, "hug", **env)
    sh(host, "docker wait exareme-hug >/dev/null")
    assert sh(host, "docker inspect -f '{{.State.ExitCode}}' exareme-hug") == "0"
    assert host.run(HOST, "docker logs exareme-hug").stdout == f"{missing} is unset\n"


@pytest.mark.parametrize("password", ["pw-from-the-secret", ""])
def test_exareme_started_as_the_program_starts_it_takes_rawpassword_from_the_file(
    host: Lab, password: str
) -> None:
    """federation/exareme.py START_COMMAND as the task's command, the secret as a file at
    /run/secrets/ldsm-password, no RAWPASSWORD in the env: the stand-in starts through its
    bootstrap.sh in /root/exareme like the real image, and exits at start on an empty one."""
    sh(host, f"printf %s '{password}' > /tmp/ldsm-password")
    env = {k: v for k, v in LDSM.items() if k != "RAWPASSWORD"}
    script = START_COMMAND[2].replace("'", "'\\''")
    start(
        host,
        "exareme-hug",
        "hbpmip/exareme:v5",
        {**env, "NODE_NAME": "hug"},
        "-v /tmp/ldsm-password:/run/secrets/ldsm-password:ro --entrypoint /bin/sh",
        command=f"-c '{script}'",
    )
    if password:
        wait_for(
            lambda: (
                "RAWPASSWORD=pw-from-the-secret"
                in sh(host, "docker exec exareme-hug cat /proc/1/environ | tr '\\0' '\\n'")
            ),
            timeout=20,
            what="the stand-in running with the secret's password",
        )
        assert sh(host, "docker exec exareme-hug readlink /proc/1/cwd") == "/root/exareme"
    else:
        sh(host, "docker wait exareme-hug >/dev/null")
        assert host.run(HOST, "docker logs exareme-hug").stdout == "RAWPASSWORD is unset\n"
    sh(host, "rm -f /tmp/ldsm-password")


def keystore_value(lab: Lab, key: str) -> str | None:
    status, body = http(lab, "GET", f"/v1/kv/{key}?raw")
    return body.decode() if status == 200 else None


def keystore_keys(lab: Lab, prefix: str) -> list[str] | None:
    status, body = http(lab, "GET", f"/v1/kv/{prefix}?keys")
    return json.loads(body) if status == 200 else None


def test_master_waits_for_its_workers_then_answers_and_the_portal_passes_it_on(
    host: Lab,
) -> None:
    """bootstrap.sh: workers offer available_workers/ADDRESS = NAME; the master registers
    master/NAME = ADDRESS, polls until EXA_WORKERS_WAIT are listed, makes them
    active_workers/NAME = ADDRESS; then the gateway (port 9090) starts."""
    ip = host.host(HOST).ip
    start_keystore(host)
    start(
        host,
        "exareme-chuv",
        "hbpmip/exareme:v5",
        {**LDSM, "NODE_NAME": "chuv", "MASTER_FLAG": "master", "EXA_WORKERS_WAIT": "2"},
        "-p 9090:9090",
    )
    start(
        host,
        "portal",
        "hbpmip/portal-backend:2.5.4",
        {"EXAREME_URL": f"http://{ip}:9090/mining/query"},
        "-p 8080:8080",
    )
    master = wait_for(lambda: keystore_value(host, "master/chuv"), 15, "master/chuv")
    assert master.startswith("10.20.40.")
    start_exareme(host, "hug")
    hug = wait_for(lambda: keystore_keys(host, "available_workers/"), 15, "hug offered")
    assert hug == [f"available_workers/{sh(host, exareme_address('hug'))}"]

    time.sleep(4.5)  # two of the master's polls: one worker of two is not enough
    assert master_answer(host, HOST) is None
    assert portal_answer(host, HOST) is None

    started = time.monotonic()
    start_exareme(host, "bern")
    answer = wait_for(lambda: master_answer(host, HOST), 15, "the master's answer")
    took = time.monotonic() - started
    addresses = {node: sh(host, exareme_address(node)) for node in ("hug", "bern")}
    assert answer == {
        "master": "chuv",
        "address": master,
        "workers_wait": 2,
        "workers": [
            {"name": "bern", "address": addresses["bern"], "reachable": True},
            {"name": "hug", "address": addresses["hug"], "reachable": True},
        ],
    }
    assert took < 6, f"the master answered {took:.1f}s after the last worker started"
    assert keystore_keys(host, "available_workers/") is None
    assert keystore_value(host, "active_workers/hug") == addresses["hug"]
    assert portal_answer(host, HOST) == answer
    assert reports_all(portal_answer(host, HOST), ["chuv", "hug", "bern"])

    for port in (9090, 8080):
        page = OPENER.open(f"http://{ip}:{port}/env", timeout=5).read().decode()
        assert "NODE_NAME" in page or "EXAREME_URL" in page
        assert LDSM["RAWPASSWORD"] not in page

    # A worker that stops is reported unreachable; a new keystore (empty) is filled again.
    sh(host, "docker stop exareme-bern >/dev/null")
    after_stop = master_answer(host, HOST, timeout=4)
    assert after_stop is not None
    assert {w["name"]: w["reachable"] for w in after_stop["workers"]} == {
        "bern": False,
        "hug": True,
    }
    sh(host, "docker rm -f keystore >/dev/null")
    start_keystore(host)
    wait_for(lambda: keystore_value(host, "active_workers/hug"), 20, "hug registered again")
    assert keystore_value(host, "master/chuv") == master
    answer = master_answer(host, HOST)
    assert answer is not None
    assert reports_all(answer, ["hug"])


def exareme_address(node: str) -> str:
    return (
        f"docker inspect -f '{{{{(index .NetworkSettings.Networks \"{NETWORK}\").IPAddress}}}}' "
        f"exareme-{node}"
    )
