"""The portal container under mocks."""

from __future__ import annotations


def test_portal_runs_on_the_leader_engine_and_points_at_exareme(run, config):
    config["portal"] = {"env": {"PORTAL_LOG_LEVEL": "info"}, "port": 18080}
    ev = run(config)
    portal = ev.named("portal-backend")
    assert portal.typ == "docker:index/container:Container"
    assert "portal-docker" in (portal.provider or "")
    provider = ev.named("portal-docker").plain
    assert provider["host"] == "ssh://mipadmin@192.0.2.10:22", "the leader's engine"
    plain = portal.plain
    assert plain["image"] == "hbpmip/portal-backend:2.5.4"
    assert "EXAREME_URL=http://192.0.2.10:9090/mining/query" in plain["envs"]
    assert "PORTAL_LOG_LEVEL=info" in plain["envs"]
    assert plain["ports"] == [{"internal": 8080, "external": 18080}]
    assert any(d.endswith("::exareme-master") for d in portal.dependencies)
    assert ev.outputs["portalUrl"] == "http://192.0.2.10:18080/"


def test_portal_can_be_disabled(run, config):
    config["portal"] = {"enabled": False}
    ev = run(config)
    assert not ev.of_type("docker:index/container:Container")
    assert ev.outputs["portalUrl"] is None


def test_exareme_url_brackets_ipv6(run, config):
    config["nodes"][0]["host"] = "2001:db8::10"
    ev = run(config)
    assert ev.outputs["exaremeUrl"] == "http://[2001:db8::10]:9090/mining/query"
