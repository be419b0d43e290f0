"""How the doctor logs in: through the SSH agent unless a key file is given."""

from __future__ import annotations

from typing import Any

import paramiko
import pytest

from federation.config import NodeSettings, SshSettings
from federation.doctor.ssh import Access, Connection


@pytest.fixture
def connect_kwargs(monkeypatch) -> dict[str, Any]:
    """What the doctor hands paramiko's SSHClient.connect (nothing is dialled)."""
    seen: dict[str, Any] = {}

    def connect(self, hostname: str, **kwargs: Any) -> None:
        seen.update(kwargs, hostname=hostname)

    monkeypatch.setattr(paramiko.SSHClient, "connect", connect)
    return seen


NODE = NodeSettings.model_validate(
    {
        "name": "chuv",
        "host": "10.40.0.10",
        "role": "manager",
        "hostKey": "ssh-ed25519 "
        + "AAAAC3NzaC1lZDI1NTE5AAAAIIaDrR4cx4ULDw7x3pzPZtQlsbTQbRngPFi+GtSps6td",
    }
)


def test_without_a_key_file_the_doctor_logs_in_through_the_agent_only(connect_kwargs):
    # paramiko's SSHClient.connect (_auth) asks the agent at SSH_AUTH_SOCK when allow_agent is
    # true; look_for_keys false keeps it from trying ~/.ssh keys the stack does not name.
    Connection(NODE, Access(SshSettings(user="mipadmin"), key_file=None)).open()
    assert connect_kwargs["hostname"] == "10.40.0.10"
    assert connect_kwargs["username"] == "mipadmin"
    assert connect_kwargs["key_filename"] is None
    assert connect_kwargs["allow_agent"] is True
    assert connect_kwargs["look_for_keys"] is False


def test_a_key_file_is_offered_with_the_agent(connect_kwargs, tmp_path):
    key = str(tmp_path / "mip_fed")
    Connection(NODE, Access(SshSettings(user="mipadmin"), key_file=key)).open()
    assert connect_kwargs["key_filename"] == key
    assert connect_kwargs["allow_agent"] is True
