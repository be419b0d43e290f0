"""The portal whose start failed heals on the next `up` once the cause is gone."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import sh, wait_for
from tests.lab.exareme_check import PORTAL_PORT, portal_answer, reports_all

pytestmark = pytest.mark.lab

NAMES = ["chuv", "hug"]
BLOCKER = "/run/portal-port-blocker.pid"


def test_a_portal_whose_port_was_taken_starts_on_the_next_up(federation):
    lab = federation.lab
    config = federation.config(NAMES)
    # Something else holds the portal's port on the leader: the container is created, and its
    # start fails (docker-proxy cannot bind).
    lab.run(
        1,
        f"setsid python3 -c 'import socket,time; s=socket.socket(); "
        f"s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
        f's.bind(("0.0.0.0", {PORTAL_PORT})); s.listen(); time.sleep(3600)\' '
        f">/dev/null 2>&1 & echo $! > {BLOCKER}",
    )
    try:
        failed = federation.deploy(config)
        errors = dict(failed.errors)
        assert set(errors) == {"portal-backend"}, failed.errors
        assert "address already in use" in errors["portal-backend"], errors
    finally:
        lab.run(1, f"kill $(cat {BLOCKER}) && rm {BLOCKER}")

    healed = federation.deploy(config)
    assert healed.ok, healed.errors
    assert sh(lab, 1, "docker inspect -f '{{.State.Running}}' mip-federation-portal") == "true"
    wait_for(
        lambda: reports_all(portal_answer(lab, 1), NAMES),
        timeout=90,
        what="the portal answering with every worker",
    )
