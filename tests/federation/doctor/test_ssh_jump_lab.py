"""The doctor through a jump host, against two real OpenSSH servers on loopback: it logs in to
the jump host with its pinned key, opens a direct-tcpip channel to the node and logs in to the
node over it (paramiko's `sock`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from federation.config import NodeSettings, SshSettings
from federation.doctor.ssh import Access, SshError, connect
from tests.engine_tests.conftest import _lab_available
from tests.engine_tests.labkit import Sshd, run_sshd

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[Sshd, Sshd]]:
    """The node's sshd and the jump host's; the node's client key may log in to both."""
    reason = _lab_available()
    if reason:
        pytest.skip(reason)
    with run_sshd() as node, run_sshd() as bastion:
        client_pub = (node.root / "client_ed25519.pub").read_text(encoding="utf-8")
        with open(bastion.root / "authorized_keys", "a", encoding="utf-8") as keys:
            keys.write(client_pub)
        yield node, bastion


def access(node: Sshd, bastion: Sshd, jump_key: str | None = None) -> tuple[NodeSettings, Access]:
    settings = NodeSettings.model_validate(
        {
            "name": "hug",
            "host": node.host,
            "role": "worker",
            "hostKey": node.host_key,
            "proxy": {
                "host": bastion.host,
                "port": bastion.port,
                "user": "root",
                "hostKey": jump_key or bastion.host_key,
            },
        }
    )
    ssh = SshSettings(user="root", port=node.port)
    return settings, Access(ssh, key_file=str(node.client_key_file), timeout=5)


def test_the_doctor_reaches_a_node_through_its_jump_host(servers):
    node, bastion = servers
    settings, how = access(node, bastion)
    with connect(settings, how) as connection:
        result = connection.run("echo reached", what="echo")
    assert (result.code, result.stdout) == (0, "reached\n")


def test_a_wrong_jump_host_key_is_refused_before_the_node_is_dialled(servers):
    node, bastion = servers
    settings, how = access(node, bastion, jump_key=bastion.other_host_key)
    with pytest.raises(SshError) as info, connect(settings, how):
        pass
    assert info.value.refused
    assert f"via jump host 127.0.0.1:{bastion.port}" in str(info.value)
    assert "host key mismatch" in str(info.value)


def test_a_node_behind_a_jump_host_is_not_dialled_directly(servers):
    # The jump host is a closed port: the node's own sshd is up, and the doctor still fails,
    # naming the jump host.
    node, bastion = servers
    settings, how = access(node, bastion)
    settings = settings.model_copy(
        update={"proxy": settings.proxy.model_copy(update={"port": 1})}  # type: ignore[union-attr]
    )
    with pytest.raises(SshError) as info, connect(settings, how):
        pass
    assert "via jump host 127.0.0.1:1" in str(info.value)
    assert "unreachable over SSH" in str(info.value)
