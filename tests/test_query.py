"""The query language, string in and query objects out (no database), in the style of beets' tests."""

from datetime import UTC, datetime

import pytest

from atlas.core.errors import BadInput
from atlas.core.search.parse import (
    And,
    FullText,
    Match,
    Not,
    Or,
    Query,
    QuerySyntaxError,
    Range,
    Size,
    Sort,
    parse,
    tokenize,
)

UTC = UTC
NEWEST = (Sort("created", True),)


def where(text):
    return parse(text).where


@pytest.mark.parametrize("text, expected", [
    ("seed:42", Match("seed", 42)),
    ("steps:20", Match("steps", 20)),
    ("cfg:7", Match("cfg", 7.0)),
    ("cfg:7.5", Match("cfg", 7.5)),
    ("denoise:0.1", Match("denoise", 0.1)),
    ("width:768", Match("width", 768)),
    ("height:512", Match("height", 512)),
    ("run:3", Match("run", 3)),
    ("sampler:euler", Match("sampler", "euler")),
    ('sampler:"Euler a"', Match("sampler", "Euler a")),
    ("sampler:dpm*", Match("sampler", "dpm*", glob=True)),
    ('sampler:"dpm*"', Match("sampler", "dpm*", glob=False)),  # quoted: literal star
    ("model:sd-v1-4", Match("model", "sd-v1-4")),
    ("model-hash:fe4efff1e1", Match("model-hash", "fe4efff1e1")),
    ("hash:fe4efff1e1", Match("model-hash", "fe4efff1e1")),
    ("licence:CC0-1.0", Match("licence", "CC0-1.0")),
    ("license:CC0-1.0", Match("licence", "CC0-1.0")),
    ("model-licence:creativeml-openrail-m", Match("model-licence", "creativeml-openrail-m")),
    ("kind:upscale", Match("kind", "upscale")),
    ("author:alice", Match("author", "alice")),
    ("tag:best", Match("tag", "best")),
    ("tool:ComfyUI", Match("tool", "ComfyUI")),
    ("prompt:fox", Match("prompt", "fox")),
    ("negative:blurry", Match("negative", "blurry")),
    ("SEED:42", Match("seed", 42)),  # field names are case-insensitive
    ("prompt:a:b", Match("prompt", "a:b")),  # only the first colon splits
])
def test_field_terms(text, expected):
    assert where(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("steps:20..30", Range("steps", 20, 30)),
    ("steps:20..", Range("steps", 20, None)),
    ("steps:..30", Range("steps", None, 30)),
    ("cfg:6.5..7.5", Range("cfg", 6.5, 7.5)),
    ("cfg:>=7", Range("cfg", 7.0, None)),
    ("cfg:>7", Range("cfg", 7.0, None, low_inclusive=False)),
    ("steps:<=30", Range("steps", None, 30)),
    ("steps:<30", Range("steps", None, 30, high_inclusive=False)),
    ("seed:-5..5", Range("seed", -5, 5)),
])
def test_ranges_and_comparisons(text, expected):
    assert where(text) == expected


def test_size_with_and_without_wildcards():
    assert where("size:768x512") == Size(768, 512)
    assert where("size:768x*") == Size(768, None)
    assert where("size:*x512") == Size(None, 512)


def test_created_days_months_years_and_ranges():
    day = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731
    assert where("created:2026-11-24") == Range("created", day(2026, 11, 24), day(2026, 11, 25), True, False)
    assert where("created:2026-11") == Range("created", day(2026, 11, 1), day(2026, 12, 1), True, False)
    assert where("created:2026-12") == Range("created", day(2026, 12, 1), day(2027, 1, 1), True, False)
    assert where("created:2026") == Range("created", day(2026, 1, 1), day(2027, 1, 1), True, False)
    # A range includes its last day (month, year) whole.
    assert where("created:2025-01..2025-03") == Range("created", day(2025, 1, 1), day(2025, 4, 1), True, False)
    assert where("created:2025..") == Range("created", day(2025, 1, 1), None, True, False)
    assert where("created:>=2025-06-01") == Range("created", day(2025, 6, 1), None)
    assert where("created:>2025-06-01") == Range("created", day(2025, 6, 2), None)
    assert where("created:<2025-06-01") == Range("created", None, day(2025, 6, 1), True, False)
    assert where("date:2026") == where("created:2026")


def test_bare_words_are_full_text():
    assert where("fox") == FullText("fox")
    assert where('"red fox"') == FullText("red fox")
    assert where("fox*") == FullText("fox", prefix=True)
    assert where("fox city") == And((FullText("fox"), FullText("city")))


def test_negation():
    assert where("-sampler:euler") == Not(Match("sampler", "euler"))
    assert where("-fox") == Not(FullText("fox"))
    assert where("-steps:20..30") == Not(Range("steps", 20, 30))


def test_or_binds_looser_than_and():
    assert where("fox OR cat") == Or((FullText("fox"), FullText("cat")))
    assert where("fox seed:1 OR cat") == Or((And((FullText("fox"), Match("seed", 1))), FullText("cat")))
    assert where('fox "OR" cat') == And((FullText("fox"), FullText("OR"), FullText("cat")))  # quoted: a word
    assert where("fox or cat") == And((FullText("fox"), FullText("or"), FullText("cat")))


def test_sorting():
    assert parse("fox") == Query(FullText("fox"), NEWEST)
    assert parse("").where is None and parse("").sort == NEWEST
    assert parse("sort:seed").sort == (Sort("seed", False),)
    assert parse("sort:-steps sort:seed").sort == (Sort("steps", True), Sort("seed", False))
    assert parse("sort:-seed fox").where == FullText("fox")


def test_the_design_example():
    assert where('sampler:"Euler a" cfg:7 steps:40..60 city') == And((
        Match("sampler", "Euler a"), Match("cfg", 7.0), Range("steps", 40, 60), FullText("city")))


def test_quotes_keep_sql_and_fts_syntax_literal():
    assert where("prompt:\"it's 100%_done\"") == Match("prompt", "it's 100%_done")
    assert where('"a NEAR b" "x AND y"') == And((FullText("a NEAR b"), FullText("x AND y")))
    assert where("x'; DROP TABLE render; --x") == And((FullText("x';"), FullText("DROP"), FullText("TABLE"),
                                                         FullText("render;"), Not(FullText("-x"))))


def test_tokens_know_their_columns():
    toks = tokenize('fox  seed:1 -"a b"')
    assert [(t.column, t.key, t.value, t.negated) for t in toks] == [
        (1, None, "fox", False), (6, "seed", "1", False), (13, None, "a b", True)]


@pytest.mark.parametrize("text, token, column, reason", [
    ("seed:abc", "seed:abc", 1, "whole number"),
    ("fox steps:2.5", "steps:2.5", 5, "whole number"),
    ("cfg:seven", "cfg:seven", 1, "number"),
    ("cfg:nan", "cfg:nan", 1, "number"),
    ("cfg:inf", "cfg:inf", 1, "number"),
    ("cfg:>-inf", "cfg:>-inf", 1, "number"),
    ("colour:red", "colour:red", 1, "unknown field"),
    ('fox "red', '"red', 5, "unterminated quote"),
    ("steps:", "steps:", 1, "needs a value"),
    ("steps:30..20", "steps:30..20", 1, "empty"),
    ("steps:1..2..3", "steps:1..2..3", 1, "range"),
    ("steps:..", "steps:..", 1, "range"),
    ("cfg:>=", "cfg:>=", 1, "needs a value"),
    ("size:768", "size:768", 1, "WIDTHxHEIGHT"),
    ("created:yesteryear", "created:yesteryear", 1, "date"),
    ("created:2026-13", "created:2026-13", 1, "date"),
    ("OR fox", "OR", 1, "OR needs"),
    ("fox OR", "OR", 5, "OR needs"),
    ("fox OR OR cat", "OR", 8, "OR needs"),
    ("sort:colour", "sort:colour", 1, "cannot sort"),
    ("-sort:seed", "-sort:seed", 1, "sort:-field"),
    ("f*x", "f*x", 1, "only at its end"),
    ("*", "*", 1, "letters before"),
    ('""', '""', 1, "empty"),
    # Bare punctuation: full text indexes words, so these would match nothing without a word.
    ("(", "(", 1, "no letters or digits"),
    ("fox )", ")", 5, "no letters or digits"),
    (":", ":", 1, "no letters or digits"),
    ("-", "-", 1, "no letters or digits"),
    ("fox --", "--", 5, "no letters or digits"),
    # One nested SQL condition per term: SQLite's expression depth overflows near 1,000.
    # "w0 " .. "w9 " take 30 columns, "w10 " .. "w99 " 360, "w100 " .. "w199 " 500: w200 is at 891.
    pytest.param(" ".join(f"w{i}" for i in range(995)), "w200", 891, "MAX_QUERY_TERMS", id="too-many-terms"),
    ("fox a\x00b", "\x00", 6, "control character"),  # PostgreSQL cannot even bind it
])
def test_syntax_errors_name_token_and_column(text, token, column, reason):
    with pytest.raises(QuerySyntaxError) as info:
        parse(text)
    err = info.value
    assert (err.token, err.column) == (token, column)
    assert reason in err.reason
    assert f"column {column}" in str(err)
    assert isinstance(err, BadInput) and err.exit_code == 2


def test_overlong_query_is_refused():
    with pytest.raises(QuerySyntaxError, match="10,000"):
        parse("fox " * 3000)
