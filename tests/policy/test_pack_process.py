"""The policy pack run as the Pulumi CLI runs it: `python policy/` serving its analyzer (gRPC)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from tests.policy.analyzer import urn
from tests.program import ROOT, evaluate_stack, load_stack_file

POLICY_DIR = ROOT / "policy"


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    pack = subprocess.Popen(
        [sys.executable, "-u", str(POLICY_DIR)],
        cwd=POLICY_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert pack.stdout is not None
        port = pack.stdout.readline().strip()
        assert port.isdigit(), (
            f"the pack did not start: {pack.stderr.read() if pack.stderr else ''}"
        )
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        pack.terminate()
        pack.wait(timeout=10)


def test_the_pack_serves_its_policies(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=10)
    assert info.name == "mip-federation-guardrails"
    assert sorted(p.name for p in info.policies) == [
        "encrypted-overlay-network",
        "no-secrets-in-commands",
        "odd-manager-count",
        "pinned-images",
        "ssh-host-key-checking",
    ]


def analyze(analyzer, stack: str, typ: str, name: str, inputs: dict) -> list:
    request = analyzer_pb2.AnalyzeRequest(
        type=typ,
        properties=json_format.ParseDict(inputs, struct_pb2.Struct()),
        urn=urn(stack, typ, name),
        name=name,
    )
    return list(analyzer.Analyze(request, timeout=10).diagnostics)


def test_the_pack_blocks_an_unencrypted_overlay_network_in_prod(analyzer):
    config, secrets = load_stack_file(ROOT / "Pulumi.prod.yaml")
    config["network"]["encrypted"] = False
    network = evaluate_stack(config, secrets, stack="prod").named("overlay-network")
    [diagnostic] = analyze(analyzer, "prod", network.typ, network.name, network.inputs)
    assert diagnostic.policyName == "encrypted-overlay-network"
    assert diagnostic.enforcementLevel == analyzer_pb2.MANDATORY
    assert "is not encrypted" in diagnostic.message
    assert analyze(analyzer, "dev", network.typ, network.name, network.inputs) == []


def test_the_pack_passes_the_prod_stack(analyzer):
    config, secrets = load_stack_file(ROOT / "Pulumi.prod.yaml")
    for resource in evaluate_stack(config, secrets, stack="prod").resources:
        assert analyze(analyzer, "prod", resource.typ, resource.name, resource.inputs) == [], (
            resource.name
        )


# What the engine sends for a value it cannot know during a preview (an unknown string).
UNKNOWN = rpc.UNKNOWN


def test_the_pack_skips_unknown_values_without_a_preview_warning(analyzer):
    config, secrets = load_stack_file(ROOT / "Pulumi.prod.yaml")
    command = evaluate_stack(config, secrets, stack="prod").named("node-hug")
    inputs = {**command.inputs, "create": UNKNOWN, "delete": UNKNOWN}
    # Not even pulumi-policy's advisory "can't run policy ... during preview": the policies read
    # what is known and skip the rest.
    assert analyze(analyzer, "prod", command.typ, command.name, inputs) == []


def test_the_pack_requires_service_digests_in_prod(analyzer):
    config, secrets = load_stack_file(ROOT / "Pulumi.prod.yaml")
    master = evaluate_stack(config, secrets, stack="prod").named("exareme-master")
    image = json.dumps(master.plain["taskSpec"]["containerSpec"]["image"])
    inputs = json.loads(json.dumps(master.inputs).replace(image, '"hbpmip/exareme:v5"'))
    [diagnostic] = analyze(analyzer, "prod", master.typ, master.name, inputs)
    assert diagnostic.policyName == "pinned-images"
    assert diagnostic.enforcementLevel == analyzer_pb2.MANDATORY
    assert "'hbpmip/exareme:v5' has no digest" in diagnostic.message
    assert analyze(analyzer, "dev", master.typ, master.name, inputs) == []


def test_the_pack_counts_managers_over_the_whole_stack(analyzer):
    config, secrets = load_stack_file(ROOT / "Pulumi.prod.yaml")
    resources = evaluate_stack(config, secrets, stack="prod").resources

    def diagnostics(*, hug_manager: bool, node_commands_unknown: bool) -> list:
        found = []
        for r in resources:
            inputs = r.inputs
            if hug_manager and r.name in ("node-hug", "exareme-worker-hug"):
                text = json.dumps(inputs).replace("ROLE=worker", "ROLE=manager")
                inputs = json.loads(text.replace("node.role == worker", "node.role == manager"))
            if node_commands_unknown and r.name.startswith("node-"):
                inputs = {**inputs, "create": UNKNOWN}
            found.append(
                analyzer_pb2.AnalyzerResource(
                    type=r.typ,
                    properties=json_format.ParseDict(inputs, struct_pb2.Struct()),
                    urn=urn("prod", r.typ, r.name),
                    name=r.name,
                )
            )
        request = analyzer_pb2.AnalyzeStackRequest(resources=found)
        return list(analyzer.AnalyzeStack(request, timeout=10).diagnostics)

    assert diagnostics(hug_manager=False, node_commands_unknown=False) == []
    [even] = diagnostics(hug_manager=True, node_commands_unknown=False)
    assert even.policyName == "odd-manager-count"
    assert "\n2 swarm managers (chuv, hug): an even number" in even.message
    # In a preview the node commands' text is unknown: the placements still show the managers.
    [even] = diagnostics(hug_manager=True, node_commands_unknown=True)
    assert even.policyName == "odd-manager-count"
