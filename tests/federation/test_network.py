"""The overlay network and the leader-side docker provider, under mocks."""

from __future__ import annotations

import json
import shlex
import subprocess


def test_network_is_an_encrypted_overlay_no_container_can_attach_to(run, config):
    network = run(config).named("overlay-network").plain
    assert network["name"] == "mip-federation"
    assert network["driver"] == "overlay"
    # Only the federation's services join it (issue 18): `docker run --network` is refused.
    assert network["attachable"] is False
    # Exactly what `docker network inspect` reports back (seen on the lab's dockerd), so the
    # provider's Read finds no difference in this ForceNew field on the next `pulumi up`.
    assert network["options"] == {
        "com.docker.network.driver.overlay.vxlanid_list": "10203000",
        "encrypted": "true",
    }
    assert network["ipamConfigs"] == [
        {"subnet": "10.20.30.0/24", "ipRange": "10.20.30.0/24", "gateway": "10.20.30.254"}
    ]


def test_network_can_be_unencrypted_and_renumbered(run, config):
    config["network"] = {
        "name": "fed-net",
        "subnet": "10.20.40.0/24",
        "gateway": "10.20.40.1",
        "encrypted": False,
        "vxlanId": 4400,
    }
    network = run(config).named("overlay-network").plain
    assert network["options"] == {"com.docker.network.driver.overlay.vxlanid_list": "4400"}
    assert network["name"] == "fed-net"
    assert network["ipamConfigs"][0]["gateway"] == "10.20.40.1"


def test_network_mtu_is_the_driver_option_as_docker_reports_it(run, config):
    config["network"] = {"mtu": 1400}
    network = run(config).named("overlay-network").plain
    assert network["options"] == {
        "com.docker.network.driver.overlay.vxlanid_list": "10203000",
        "encrypted": "true",
        "com.docker.network.driver.mtu": "1400",
    }


def test_network_goes_through_the_leader_provider_after_the_swarm_exists(run, config):
    ev = run(config)
    network = ev.named("overlay-network")
    assert network.provider and "leader-docker" in network.provider
    assert any(d.endswith("::node-chuv") for d in network.dependencies)


def test_provider_reaches_the_leader_over_ssh_with_the_pinned_host_key(run, config, tmp_path):
    key_file = tmp_path / "id_ed25519"
    key_file.write_text("key")
    config["ssh"] = {"user": "mipadmin", "privateKeyFile": str(key_file)}
    config["nodes"][0]["hostKey"] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIaD"
    secrets = {"ldsmPasswords": {n["name"]: "pw" for n in config["nodes"]}}
    provider = run(config, secrets).named("leader-docker").plain
    assert provider["host"] == "ssh://mipadmin@192.0.2.10:22"
    opts = json.loads(provider["sshOpts"])  # provider config arrives JSON-encoded
    assert "StrictHostKeyChecking=no" not in opts
    pairs = dict(zip(opts[::2], opts[1::2], strict=True))
    assert pairs["-i"] == str(key_file)
    text = " ".join(opts)
    assert "StrictHostKeyChecking=yes" in text and "UserKnownHostsFile=/dev/null" in text
    assert "KnownHostsCommand=/bin/echo 192.0.2.10 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIaD" in text


def test_known_hosts_command_prints_a_valid_known_hosts_line(run, config):
    config["ssh"] = {"port": 2222}
    config["nodes"][0]["hostKey"] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIaD"
    opts = json.loads(run(config).named("leader-docker").plain["sshOpts"])
    command = next(o for o in opts if o.startswith("KnownHostsCommand="))
    printed = subprocess.run(
        shlex.split(command.removeprefix("KnownHostsCommand=")),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert printed == "[192.0.2.10]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIaD\n"


def test_without_pinned_key_the_users_known_hosts_apply(run, config):
    opts = json.loads(run(config).named("leader-docker").plain["sshOpts"])
    assert not any("KnownHosts" in o or "StrictHostKeyChecking" in o for o in opts)
    assert "BatchMode=yes" in opts


def test_network_is_deleted_before_its_replacement_is_created(run, config):
    # Fixed name: a replacement created first would collide with the old network's name.
    network = run(config).named("overlay-network")
    assert network.delete_before_replace is True
    assert network.ignore_changes == []
