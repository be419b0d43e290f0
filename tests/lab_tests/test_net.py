"""The lab's iptables rules as text (tests/e2e/test_jump_host.py applies them on the lab)."""

from tests.lab import net


def test_ssh_only_from_accepts_the_source_first_then_resets_every_other_ssh_dial():
    accept, reject = net.ssh_only_from("10.231.0.14")
    assert accept == [
        *("INPUT", "-p", "tcp", "--dport", "22"),
        *("-s", "10.231.0.14", "-j", "ACCEPT"),
    ]
    assert reject == [
        *("INPUT", "-p", "tcp", "--dport", "22"),
        *("-j", "REJECT", "--reject-with", "tcp-reset"),
    ]


def test_ssh_only_from_touches_no_port_but_ssh():
    for rule in net.ssh_only_from("10.231.0.14"):
        ports = [rule[i + 1] for i, word in enumerate(rule) if word in ("--dport", "--dports")]
        assert ports == ["22"]
        assert rule[rule.index("-p") + 1] == "tcp"
