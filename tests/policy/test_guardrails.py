"""The policy pack against resources recorded from the real program: each policy passes the
stacks as they are and blocks the change it exists for."""

from __future__ import annotations

import ast
import copy
import json
from typing import Any

import pytest
import yaml
from pulumi_policy import EnforcementLevel
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policy.guardrails import rules
from policy.guardrails.policies import (
    ENCRYPTED_OVERLAY,
    HOST_KEY_CHECKING,
    NO_SECRETS_IN_COMMANDS,
    ODD_MANAGERS,
    PINNED_IMAGES,
    POLICIES,
    plain,
)
from tests.policy.analyzer import violations
from tests.program import (
    MANAGER_TOKEN,
    ROOT,
    STACK_FILES,
    TEST_PRIVATE_KEY,
    WORKER_TOKEN,
    Evaluation,
    Recorded,
    evaluate_stack,
    load_stack_file,
)

POLICY_DIR = ROOT / "policy"


@pytest.fixture(scope="module")
def prod() -> Evaluation:
    config, secrets = load_stack_file(ROOT / "Pulumi.prod.yaml")
    return evaluate_stack(config, secrets, stack="prod")


def prod_with(stack: str = "prod", **changes: Any) -> Evaluation:
    config, secrets = load_stack_file(ROOT / "Pulumi.prod.yaml")
    for key, value in changes.items():
        config[key] = {**config.get(key, {}), **value}
    return evaluate_stack(config, secrets, stack=stack)


def edited(resource: Recorded, **inputs: Any) -> Recorded:
    return Recorded(resource.typ, resource.name, {**copy.deepcopy(resource.inputs), **inputs}, None)


# --- the pack ---------------------------------------------------------------------------------


def test_the_pack_has_the_five_blocking_policies():
    assert sorted(p.name for p in POLICIES) == [
        "encrypted-overlay-network",
        "no-secrets-in-commands",
        "odd-manager-count",
        "pinned-images",
        "ssh-host-key-checking",
    ]
    assert all(p.enforcement_level == EnforcementLevel.MANDATORY for p in POLICIES)


def test_pack_files_serve_the_policies_with_pinned_sdks():
    project = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == "venv"
    main = ast.parse((POLICY_DIR / "__main__.py").read_text())
    imports = {
        (n.module, a.name) for n in ast.walk(main) if isinstance(n, ast.ImportFrom) for a in n.names
    }
    assert ("guardrails.policies", "POLICIES") in imports
    calls = [
        n
        for n in ast.walk(main)
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "PolicyPack"
    ]
    assert len(calls) == 1 and {k.arg for k in calls[0].keywords} >= {"name", "policies"}
    pins = {
        line.split("==")[0].lower().replace("-", "_"): line.strip()
        for requirements in ("requirements.txt", "requirements-dev.txt")
        for line in (ROOT / requirements).read_text().splitlines()
        if "==" in line
    }
    for line in (POLICY_DIR / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            package = line.split("==")[0].lower().replace("-", "_")
            assert pins[package] == line.strip(), f"{line}: not the version the project pins"


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_the_stacks_as_they_are_pass_every_policy(path):
    config, secrets = load_stack_file(path)
    stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    evaluation = evaluate_stack(config, secrets, stack=stack)
    for policy in POLICIES:
        assert violations(policy, evaluation, stack) == [], policy.name


# --- encrypted overlay network ----------------------------------------------------------------


def test_unencrypted_overlay_is_blocked_in_prod_only():
    unencrypted = prod_with("prod", network={"encrypted": False})
    [problem] = violations(ENCRYPTED_OVERLAY, unencrypted, "prod")
    assert problem.startswith("overlay-network: overlay network 'mip-federation' is not encrypted")
    dev = prod_with("dev", network={"encrypted": False})
    assert violations(ENCRYPTED_OVERLAY, dev, "dev") == []
    assert violations(ENCRYPTED_OVERLAY, dev, "prod-eu") != [], "prod-* stacks are prod"


def test_prod_stacks_can_be_named_in_the_policy_config():
    dev = prod_with("dev", network={"encrypted": False})
    assert violations(ENCRYPTED_OVERLAY, dev, "production") == []
    assert violations(ENCRYPTED_OVERLAY, dev, "production", {"prodStacks": ["production"]}) != []


def test_only_overlay_networks_need_encryption(prod):
    network = prod.named("overlay-network")
    bridge = edited(network, driver="bridge", options={})
    assert violations(ENCRYPTED_OVERLAY, [bridge], "prod") == []
    unknown = edited(network, options=UNKNOWN_STRING_VALUE)
    assert violations(ENCRYPTED_OVERLAY, [unknown], "prod") == [], "unknown in preview: skipped"


# --- pinned images ----------------------------------------------------------------------------


def test_latest_and_untagged_images_are_blocked_in_every_stack():
    # The program itself only warns outside prod; the policy blocks everywhere.
    floating = prod_with(
        "dev", exareme={"image": "hbpmip/exareme:latest"}, portal={"image": "hbpmip/portal-backend"}
    )
    problems = violations(PINNED_IMAGES, floating, "dev")
    assert sorted(p.split(":", 1)[0] for p in problems) == [
        "exareme-master",
        "exareme-worker-brescia",
        "exareme-worker-hug",
        "exareme-worker-lille",
        "portal-backend",
    ]
    assert "image 'hbpmip/portal-backend' is untagged or :latest" in " ".join(problems)


@pytest.mark.parametrize(
    ("image", "floating"),
    [
        ("hbpmip/exareme:v5", False),
        ("hbpmip/exareme", True),
        ("hbpmip/exareme:latest", True),
        ("registry.example.org:5000/hbpmip/exareme", True),
        ("registry.example.org:5000/hbpmip/exareme:v5", False),
        ("hbpmip/exareme:latest@sha256:" + "a" * 64, False),
        ("hbpmip/exareme@sha256:" + "a" * 64, False),
        ("sha256:" + "b" * 64, False),
    ],
)
def test_image_references(image, floating):
    assert rules.is_floating(image) is floating


def test_pinned_by_digest_passes(prod):
    digest = "hbpmip/portal-backend@sha256:" + "c" * 64
    portal = edited(prod.named("portal-backend"), image=digest)
    assert violations(PINNED_IMAGES, [portal], "prod") == []


DIGEST = "@sha256:" + "0123456789abcdef" * 4


def reimaged(service: Recorded, image: str) -> Recorded:
    """The recorded service with another image (its task spec is a secret: edit the JSON)."""
    old = json.dumps(service.plain["taskSpec"]["containerSpec"]["image"])
    inputs = json.loads(json.dumps(service.inputs).replace(old, json.dumps(image)))
    return Recorded(service.typ, service.name, inputs, service.provider)


def services(evaluation: Evaluation) -> list[Recorded]:
    return [r for r in evaluation.resources if r.typ == rules.SERVICE]


def test_the_prod_stack_pins_every_service_image_by_digest(prod):
    images = [s.plain["taskSpec"]["containerSpec"]["image"] for s in services(prod)]
    assert len(images) == 5 and all(rules.has_digest(image) for image in images)


def test_prod_service_images_without_a_digest_are_blocked(prod):
    # Docker pins the digest it resolves when it creates a service, the provider reads it back,
    # and the next `pulumi up` would update the service to the plain tag and restart its tasks.
    tagged = [reimaged(s, "hbpmip/exareme:v5") for s in services(prod)]
    problems = violations(PINNED_IMAGES, tagged, "prod")
    assert sorted(p.split(":", 1)[0] for p in problems) == sorted(s.name for s in tagged)
    assert all("'hbpmip/exareme:v5' has no digest; prod requires" in p for p in problems)
    assert "docker buildx imagetools inspect" in problems[0]
    assert violations(PINNED_IMAGES, tagged, "prod-eu") != [], "prod-* stacks are prod"
    assert violations(PINNED_IMAGES, tagged, "production", {"prodStacks": ["production"]}) != []
    assert violations(PINNED_IMAGES, tagged, "dev") == [], "a version tag is enough elsewhere"


def test_a_floating_prod_service_image_gets_one_problem_the_digest(prod):
    [problem] = violations(
        PINNED_IMAGES, [reimaged(prod.named("exareme-master"), "x:latest")], "prod"
    )
    assert "has no digest" in problem and "untagged or :latest" not in problem
    latest = reimaged(prod.named("exareme-master"), "hbpmip/exareme:latest" + DIGEST)
    assert violations(PINNED_IMAGES, [latest], "prod") == [], "the digest pins it"


def test_the_portal_container_needs_no_digest(prod):
    # Only services are rewritten by Docker; a container keeps the reference it was given.
    portal = edited(prod.named("portal-backend"), image="hbpmip/portal-backend:2.5.4")
    assert violations(PINNED_IMAGES, [portal], "prod") == []


def test_an_unknown_image_in_preview_is_skipped(prod):
    master = prod.named("exareme-master")
    unknown = reimaged(master, UNKNOWN_STRING_VALUE)
    assert violations(PINNED_IMAGES, [unknown], "prod") == []


@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        ("hbpmip/exareme:v5" + DIGEST, True),
        ("hbpmip/exareme" + DIGEST, True),
        ("registry.example.org:5000/hbpmip/exareme:v5" + DIGEST, True),
        ("hbpmip/exareme:v5", False),
        ("hbpmip/exareme:v5" + DIGEST[:-1], False),  # 63 hex digits
        ("hbpmip/exareme:v5" + DIGEST.upper().replace("SHA256", "sha256"), False),
        ("hbpmip/exareme:v5@sha256:", False),
        ("hbpmip/exareme:v5@sha512:" + "a" * 128, False),
        ("sha256:" + "b" * 64, False),  # an image id: no repository to pull on other nodes
        (DIGEST, False),
    ],
)
def test_digest_references(image, pinned):
    assert rules.has_digest(image) is pinned


# --- only pulumi-policy's public API ------------------------------------------------------------


def test_the_pack_uses_only_pulumi_policys_public_api():
    import pulumi_policy

    for path in sorted(POLICY_DIR.rglob("*.py")):
        if "venv" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pulumi_policy"):
                assert node.module == "pulumi_policy", f"{path.name}: imports {node.module}"
                for alias in node.names:
                    assert alias.name in pulumi_policy.__all__, f"{path.name}: {alias.name}"
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
                assert not [n for n in names if n.startswith("pulumi_policy.")], path.name
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "pulumi_policy"
            ):
                assert node.attr in pulumi_policy.__all__, f"{path.name}: {node.attr}"


def test_unknown_values_become_the_rules_sentinel_and_other_errors_propagate():
    from pulumi_policy.proxy import unknown_checking_proxy  # the engine's wrapper, test side only

    props = unknown_checking_proxy(
        {"a": {"b": [1, UNKNOWN_STRING_VALUE], "c": UNKNOWN_STRING_VALUE}, "d": "x"}
    )
    assert plain(props) == {"a": {"b": [1, rules.UNKNOWN], "c": rules.UNKNOWN}, "d": "x"}

    class Broken(dict):
        def __getitem__(self, key):
            raise KeyError(key)

    with pytest.raises(KeyError):
        plain(Broken(a=1))


# --- an odd number of managers ----------------------------------------------------------------


def promoted(resources: list[Recorded], alias: str) -> list[Recorded]:
    """The resources with node `alias` made a manager where its role shows (a program bug)."""
    changed = []
    for r in resources:
        text = json.dumps(r.inputs)
        if r.name in (f"node-{alias}", f"exareme-worker-{alias}"):
            text = text.replace("ROLE=worker", "ROLE=manager").replace(
                "node.role == worker", "node.role == manager"
            )
        changed.append(Recorded(r.typ, r.name, json.loads(text), r.provider))
    return changed


def test_even_manager_count_is_blocked(prod):
    assert violations(ODD_MANAGERS, prod, "prod") == []
    [problem] = violations(ODD_MANAGERS, promoted(prod.resources, "hug"), "prod")
    assert problem.startswith("2 swarm managers (chuv, hug)")


def test_three_managers_pass_and_four_are_blocked(run, config):
    config["nodes"][1]["role"] = config["nodes"][2]["role"] = "manager"
    three = run(config, stack="dev")
    assert rules.node_roles([(r.typ, r.plain) for r in three.resources]) == {
        "chuv": "manager",
        "hug": "manager",
        "brescia": "manager",
        "lille": "worker",
    }
    assert violations(ODD_MANAGERS, three, "dev") == []
    assert violations(ODD_MANAGERS, promoted(three.resources, "lille"), "dev") != []


def test_managers_are_counted_from_placements_while_node_ids_are_unknown(prod):
    preview = [
        edited(r, create=UNKNOWN_STRING_VALUE, delete=UNKNOWN_STRING_VALUE)
        if r.name.startswith("node-")
        else r
        for r in promoted(prod.resources, "hug")
    ]
    assert violations(ODD_MANAGERS, preview, "prod") != []


# --- host-key checking ------------------------------------------------------------------------


def test_commands_without_a_pinned_host_key_are_blocked_in_prod(run, config):
    unpinned = run(config, stack="prod")  # the fixture's nodes have no hostKey
    problems = violations(HOST_KEY_CHECKING, unpinned, "prod")
    assert sorted(p.split(":", 1)[0] for p in problems) == sorted(c.name for c in unpinned.commands)
    assert "connection to 198.51.100.21 has no hostKey" in " ".join(problems)
    assert violations(HOST_KEY_CHECKING, unpinned, "dev") == []


def ssh_opts(*opts: str) -> str:
    return json.dumps(["-o", "BatchMode=yes", *opts])


@pytest.mark.parametrize(
    "opts",
    [
        ssh_opts("-o", "StrictHostKeyChecking=no"),
        ssh_opts("-oStrictHostKeyChecking=off"),
        ssh_opts("-o", "StrictHostKeyChecking no"),
        ssh_opts("-o", "StrictHostKeyChecking=accept-new", "-o", "UserKnownHostsFile=/dev/null"),
        ssh_opts("-o", "StrictHostKeyChecking=no", "-o", "StrictHostKeyChecking=yes"),
    ],
    ids=["no", "off", "space", "accept-new-empty-known-hosts", "first-value-wins"],
)
def test_docker_provider_options_that_disable_host_key_checking_are_blocked(prod, opts):
    provider = edited(prod.named("leader-docker"), sshOpts=opts)
    assert len(violations(HOST_KEY_CHECKING, [provider], "prod")) == 1
    assert violations(HOST_KEY_CHECKING, [provider], "dev") == []


@pytest.mark.parametrize(
    "opts",
    [
        ssh_opts(),  # the operator's known_hosts, checked
        ssh_opts("-o", "StrictHostKeyChecking=accept-new"),
        ssh_opts("-o", "StrictHostKeyChecking=yes", "-o", "StrictHostKeyChecking=no"),
    ],
    ids=["defaults", "accept-new-known-hosts", "first-value-wins"],
)
def test_docker_provider_options_that_check_host_keys_pass(prod, opts):
    provider = edited(prod.named("leader-docker"), sshOpts=opts)
    assert violations(HOST_KEY_CHECKING, [provider], "prod") == []


# --- secrets in command text ------------------------------------------------------------------


def test_recorded_commands_hold_no_secret(run, config):
    config["nodes"][1]["role"] = config["nodes"][2]["role"] = "manager"
    assert violations(NO_SECRETS_IN_COMMANDS, run(config), "test") == []


def test_a_join_token_on_the_command_line_is_blocked(prod):
    join = prod.named("join-hug")
    token = json.loads(join.plain["stdin"])["JoinToken"]
    leaky = edited(join, create=f"docker swarm join --token {token} 192.0.2.10:2377\n")
    [problem] = violations(NO_SECRETS_IN_COMMANDS, [leaky], "dev")
    assert problem == (
        "join-hug: create holds a swarm join token (line 1) and a password or token given as an "
        "option (line 1): command text is stored in plain text and quoted in errors; pass "
        "secrets on stdin"
    )
    assert token not in problem


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (TEST_PRIVATE_KEY, "a private key"),
        (f"echo {MANAGER_TOKEN} | docker swarm join", "a swarm join token"),
        ("RAWPASSWORD=ldsm-password-of-hug\n", "a password or token assigned literally"),
        ("curl -H 'x' --token=abcd1234 http://x\n", "a password or token given as an option"),
        ("docker login -u mip -p hunter22 registry\n", "a docker login password"),
        ("export AWS_KEY=AKIAABCDEFGHIJKLMNOP\n", "an AWS access key"),
    ],
)
def test_secret_looking_values_are_found_without_being_quoted(prod, text, kind):
    leaky = edited(prod.named("node-hug"), delete=text)
    problems = violations(NO_SECRETS_IN_COMMANDS, [leaky], "prod")
    [problem] = problems
    assert problem.startswith("node-hug: delete holds ") and kind in problem
    for secret in ("hunter22", "abcd1234", "ldsm-password-of-hug", WORKER_TOKEN, "fake-test-key"):
        assert secret not in problem


@pytest.mark.parametrize(
    "text",
    [
        'PASSWORD="$1"\n',
        "TOKEN=$(cat /run/secrets/token)\n",
        "docker login -u mip --password-stdin registry < /dev/stdin\n",
        "docker swarm join-token -q worker\n",
        "mkdir -p /srv/data\n",
    ],
)
def test_references_to_secrets_are_not_secrets(prod, text):
    command = edited(prod.named("node-hug"), create=text)
    assert violations(NO_SECRETS_IN_COMMANDS, [command], "prod") == []


def test_unknown_command_text_in_preview_is_skipped(prod):
    command = edited(prod.named("node-hug"), create=UNKNOWN_STRING_VALUE)
    assert violations(NO_SECRETS_IN_COMMANDS, [command], "prod") == []
