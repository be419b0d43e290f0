"""The lab resolver's answers, as bytes (no lab needed); test_lab.py asks it from a container."""

import struct

import pytest

from tests.lab.resolver import NOTIMP, NXDOMAIN, answer, query


def header(message: bytes) -> tuple[int, ...]:
    return struct.unpack("!HHHHHH", message[:12])


def test_a_query_gets_nxdomain_with_its_id_and_question():
    asked = query("exareme-keystore", ident=0x1234)
    reply = answer(asked)
    assert reply is not None
    ident, flags, questions, answers, authorities, additionals = header(reply)
    assert ident == 0x1234
    assert flags & 0x8000  # a response
    assert flags & 0x0100  # recursion desired, echoed
    assert flags & 0x0080  # recursion available
    assert flags & 0x000F == NXDOMAIN
    assert (questions, answers, authorities, additionals) == (1, 0, 0, 0)
    assert reply[12:] == asked[12:]  # the question, as asked


def test_another_opcode_is_not_implemented():
    status_request = bytearray(query("mip"))
    status_request[2] |= 2 << 3  # opcode 2 (STATUS)
    reply = answer(bytes(status_request))
    assert reply is not None
    assert header(reply)[1] & 0x000F == NOTIMP
    assert header(reply)[1] & 0x7800 == 2 << 11


@pytest.mark.parametrize(
    "message",
    [
        b"",
        b"\x00" * 11,  # shorter than a header
        answer(query("mip")),  # a response is not answered
        query("mip")[:-3],  # the question is cut short
        query("mip")[:12] + b"\xc0\x0c" + b"\x00\x01\x00\x01",  # a pointer as the name
    ],
)
def test_what_is_not_a_query_gets_no_answer(message):
    assert answer(message) is None
