"""Integer options past what the catalogue can count are usage errors (exit 2), not OverflowError."""

import pytest


@pytest.mark.parametrize("args", [("search", "--limit", "99999999999999999999"),
                                  ("list", "--limit", "99999999999999999999"),
                                  ("search", "--offset", "99999999999999999999")])
def test_huge_integer_option_is_exit_2(cli, args):
    result = cli(*args)
    assert result.code == 2, result.err
    assert "is not in the range" in result.err
