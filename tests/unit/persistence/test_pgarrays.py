from __future__ import annotations

from spreadwire.persistence.pgarrays import bytea_array, int_array, text_array


def test_pgarrays_int_array_is_a_brace_list() -> None:
    assert int_array([1, -2, 2**62]) == "{1,-2,4611686018427387904}"
    assert int_array([]) == "{}"


def test_pgarrays_text_array_quotes_every_element_and_escapes_quotes_and_backslashes() -> None:
    assert text_array(["a", 'b"c', "d\\e", "", "NULL"]) == '{"a","b\\"c","d\\\\e","","NULL"}'


def test_pgarrays_bytea_array_is_hex_with_an_escaped_backslash() -> None:
    assert bytea_array([b"\x00\xff", b""]) == '{"\\\\x00ff","\\\\x"}'
