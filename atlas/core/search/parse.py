"""The search language: a query string in, query objects out (no database access here).

    fox "red sky" steps:20..30 cfg:>=7 -sampler:euler* size:768x* OR tag:best sort:-seed

Terms separated by spaces are ANDed; `OR` between terms makes alternatives (AND binds tighter).
`field:value` compares one field; a bare word is full-text over prompt and negative prompt.
A leading `-` negates a term. Double quotes group a value and make it literal (no wildcards,
ranges or comparisons). `sort:field` / `sort:-field` orders the results (default: newest first).
The fields, their value types and aliases are those of `fields.REGISTRY`. A flag field is
written alone, unquoted (`hidden`, `-hidden`); quoted (`"hidden"`) it is a word to search for.
Hidden renders are left out of a query that does not name `hidden` (`Query.shows_hidden`).
"""

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from atlas.core.errors import BadInput
from atlas.core.limits import MAX_QUERY_TERMS
from atlas.core.search import fields
from atlas.core.search.fields import DATE, FLAG, INT, SIZE, TEXT
from atlas.core.settings import MAX_INT

MAX_SEED_SEARCH = 2**64 - 1  # the largest seed any tool writes (unsigned 64-bit)

COMPARISONS = (">=", "<=", ">", "<")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class QuerySyntaxError(BadInput):
    """A query that cannot be read: names the offending token and its (1-based) column."""

    def __init__(self, message: str, token: str, column: int):
        super().__init__(f"query error at column {column} ({token!r}): {message}")
        self.token, self.column, self.reason = token, column, message


# ---- query objects ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Match:
    """`field` equals `value` (text: case-insensitive; `glob` when the value holds `*` wildcards)."""

    field: str
    value: str | int | float
    glob: bool = False


@dataclass(frozen=True)
class Range:
    """low <= field < high (`high_open`) or <= high; either end may be None (open)."""

    field: str
    low: int | float | datetime | None = None
    high: int | float | datetime | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True


@dataclass(frozen=True)
class Size:
    """Output size; None for a `*` side."""

    width: int | None
    height: int | None


@dataclass(frozen=True)
class FullText:
    """Words (or a quoted phrase) in the prompt or negative prompt; `prefix` for a trailing `*`."""

    text: str
    prefix: bool = False


@dataclass(frozen=True)
class Flag:
    """A yes/no field is set (`hidden`)."""

    field: str


@dataclass(frozen=True)
class Not:
    query: object


@dataclass(frozen=True)
class And:
    queries: tuple


@dataclass(frozen=True)
class Or:
    queries: tuple


@dataclass(frozen=True)
class Sort:
    field: str
    descending: bool


NEWEST_FIRST = (Sort("created", True),)


@dataclass(frozen=True)
class Query:
    where: object  # And/Or/... or None for "everything"
    sort: tuple[Sort, ...] = NEWEST_FIRST
    # Whether the query names `hidden` anywhere; when it does not, hidden renders are left out, as
    # image browsers leave out what a person hid (digiKam's rejected, Lightroom's "hide rejected").
    shows_hidden: bool = False


# ---- tokenizer -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Token:
    text: str  # as typed (quotes included), for messages
    column: int  # 1-based
    key: str | None  # the part before an unquoted ':', if any
    value: str  # the value, quotes removed
    quoted: bool  # whether any part of the value was quoted
    negated: bool


def tokenize(text: str) -> list[Token]:
    tokens, i, n = [], 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        negated = text[i] == "-" and i + 1 < n and not text[i + 1].isspace()
        if negated:
            i += 1
        key, parts, quoted = None, [], False
        while i < n and not text[i].isspace():
            ch = text[i]
            if ch == '"':
                end = text.find('"', i + 1)
                if end < 0:
                    raise QuerySyntaxError("unterminated quote", text[i:], i + 1)
                parts.append(text[i + 1:end])
                quoted = True
                i = end + 1
            elif ch == ":" and key is None and not quoted and parts:
                key, parts = "".join(parts), []
                i += 1
            else:
                parts.append(ch)
                i += 1
        raw = text[start:i]
        if negated and not parts and key is None and not quoted:
            raise QuerySyntaxError("nothing to negate", raw, start + 1)
        tokens.append(Token(raw, start + 1, key, "".join(parts), quoted, negated))
    return tokens


# ---- values ----------------------------------------------------------------------------------

def _number(kind, text: str, tok: Token):
    try:
        value = kind(text)
    except ValueError:
        raise QuerySyntaxError(f"{tok.key} needs {'a whole number' if kind is int else 'a number'}, "
                               f"got {text!r}", tok.text, tok.column) from None
    if kind is float and not math.isfinite(value):  # NaN compares with nothing; no setting is infinite
        raise QuerySyntaxError(f"{tok.key} needs a number, got {text!r}", tok.text, tok.column)
    # The database stores signed 64-bit integers; a seed may be unsigned 64-bit (ComfyUI's, Fooocus'):
    # one beyond the signed range is kept as text, which `sql` matches too.
    limit = MAX_SEED_SEARCH if kind is int and (tok.key or "").lower() == "seed" else MAX_INT
    if kind is int and abs(value) > limit:
        raise QuerySyntaxError(f"{tok.key} is out of range (at most {limit}), got {text!r}", tok.text, tok.column)
    return value


def _date_interval(text: str, tok: Token) -> tuple[datetime, datetime]:
    """[start, end) of a day `2026-11-24`, a month `2026-11` or a year `2026` (UTC)."""
    try:
        if re.fullmatch(r"\d{4}", text):
            start = datetime(int(text), 1, 1)
            end = datetime(int(text) + 1, 1, 1)
        elif re.fullmatch(r"\d{4}-\d{1,2}", text):
            y, m = map(int, text.split("-"))
            start = datetime(y, m, 1)
            end = datetime(y + (m == 12), m % 12 + 1, 1)
        elif re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
            start = datetime.combine(date.fromisoformat("-".join(p.zfill(2) for p in text.split("-"))),
                                     datetime.min.time())
            end = start + timedelta(days=1)
        elif text in ("today", "yesterday"):
            start = datetime.combine(datetime.now(UTC).date(), datetime.min.time())  # UTC days
            if text == "yesterday":
                start -= timedelta(days=1)
            end = start + timedelta(days=1)
        else:
            start = datetime.fromisoformat(text)
            start = start.astimezone(UTC) if start.tzinfo else start
            end = start + timedelta(seconds=1)
    except ValueError:
        raise QuerySyntaxError(f"created needs a date like 2026-11-24, 2026-11 or 2026, got {text!r}",
                               tok.text, tok.column) from None
    utc = UTC
    return (start if start.tzinfo else start.replace(tzinfo=utc)), (end if end.tzinfo else end.replace(tzinfo=utc))


def _parse_size(value: str, tok: Token) -> Size:
    m = re.fullmatch(r"(\d+|\*)[xX×](\d+|\*)", value)
    if not m:
        raise QuerySyntaxError(f"size needs WIDTHxHEIGHT such as 768x512 or 768x*, got {value!r}",
                               tok.text, tok.column)
    w, h = (None if part == "*" else int(part) for part in m.groups())
    return Size(w, h)


def _field_query(name: str, tok: Token):
    value, kind = tok.value, fields.FIELDS[name].type
    if value == "" and not tok.quoted:
        raise QuerySyntaxError(f"{name} needs a value", tok.text, tok.column)
    if kind == SIZE:
        return _parse_size(value, tok)
    if kind == TEXT:
        glob = "*" in value and not tok.quoted
        return Match(name, value, glob)
    if tok.quoted:  # a quoted number is still a number, just never a range
        return _point(name, value, tok)
    for op in COMPARISONS:
        if value.startswith(op):
            bound = value[len(op):]
            if not bound:
                raise QuerySyntaxError(f"{op} needs a value after it", tok.text, tok.column)
            return _comparison(name, op, bound, tok)
    if ".." in value:
        low, _, high = value.partition("..")
        if ".." in high or (not low and not high):
            raise QuerySyntaxError("a range is LOW..HIGH (either end may be left out)", tok.text, tok.column)
        return _range(name, low or None, high or None, tok)
    return _point(name, value, tok)


def _convert(name: str, text: str, tok: Token):
    return _number(int if fields.FIELDS[name].type == INT else float, text, tok)


def _point(name: str, value: str, tok: Token):
    if fields.FIELDS[name].type == DATE:
        start, end = _date_interval(value, tok)
        return Range(name, start, end, True, False)
    return Match(name, _convert(name, value, tok))


def _comparison(name: str, op: str, bound: str, tok: Token) -> Range:
    if fields.FIELDS[name].type == DATE:
        start, end = _date_interval(bound, tok)
        return {">=": Range(name, start, None), ">": Range(name, end, None),
                "<": Range(name, None, start, True, False), "<=": Range(name, None, end, True, False)}[op]
    v = _convert(name, bound, tok)
    return {">=": Range(name, v, None), ">": Range(name, v, None, low_inclusive=False),
            "<=": Range(name, None, v), "<": Range(name, None, v, high_inclusive=False)}[op]


def _range(name: str, low: str | None, high: str | None, tok: Token) -> Range:
    if fields.FIELDS[name].type == DATE:
        lo = _date_interval(low, tok)[0] if low else None
        hi = _date_interval(high, tok)[1] if high else None  # a range includes its last day whole
        return Range(name, lo, hi, True, False)
    lo = _convert(name, low, tok) if low else None
    hi = _convert(name, high, tok) if high else None
    if lo is not None and hi is not None and lo > hi:
        raise QuerySyntaxError(f"range {low}..{high} is empty (low above high)", tok.text, tok.column)
    return Range(name, lo, hi)


# ---- parser ----------------------------------------------------------------------------------

def _flag(tok: Token) -> str | None:
    """The flag field `tok` names, written alone and unquoted; None for any other token."""
    if tok.key is None and not tok.quoted:
        found = fields.lookup(tok.value)
        if found is not None and found.type == FLAG:
            return found.name
    return None


def _term(tok: Token):
    flag = _flag(tok)
    if flag is not None:
        query: object = Flag(flag)
    elif tok.key is None:
        if not tok.value.strip():
            raise QuerySyntaxError("empty quoted text", tok.text, tok.column)
        value = tok.value
        prefix = not tok.quoted and value.endswith("*")
        words = value.rstrip("*") if prefix else value
        if not tok.quoted and "*" in words:
            raise QuerySyntaxError("a bare word takes `*` only at its end (prefix search)", tok.text, tok.column)
        if not words.strip():
            raise QuerySyntaxError("a prefix search needs some letters before `*`", tok.text, tok.column)
        if not re.search(r"\w", words):  # full text indexes words: `(` alone would quietly match nothing
            raise QuerySyntaxError("no letters or digits to search for (full text matches words)",
                                   tok.text, tok.column)
        query = FullText(words, prefix)
    else:
        found = fields.lookup(tok.key)
        if found is None:
            raise QuerySyntaxError(f"unknown field {tok.key!r}; fields: {', '.join(sorted(fields.FIELDS))}",
                                   tok.text, tok.column)
        if found.type == FLAG:
            raise QuerySyntaxError(f"{found.name} takes no value: write `{found.name}` or `-{found.name}`",
                                   tok.text, tok.column)
        query = _field_query(found.name, tok)
    return Not(query) if tok.negated else query


def _sort(tok: Token) -> Sort:
    if tok.negated:
        raise QuerySyntaxError("write sort:-field to sort descending", tok.text, tok.column)
    value = tok.value.lower()
    descending = value.startswith("-")
    name = value.lstrip("-+")
    found = fields.lookup(name)
    if found is None or not found.sortable:
        name = found.name if found else name
        raise QuerySyntaxError(f"cannot sort by {name!r}; sortable: {', '.join(sorted(fields.SORTABLE))}",
                               tok.text, tok.column)
    return Sort(found.name, descending)


def _collapse(kind, items: list):
    return items[0] if len(items) == 1 else kind(tuple(items))


def parse(text: str) -> Query:
    """The Query for `text`; raises QuerySyntaxError naming the token and column at fault."""
    if len(text) > 10_000:
        raise QuerySyntaxError("query longer than 10,000 characters", text[:20] + "...", 1)
    bad = _CONTROL.search(text)
    if bad:  # NUL and friends: PostgreSQL refuses them in text, and no prompt holds them
        raise QuerySyntaxError(f"control character {bad.group()!r} in the query", bad.group(), bad.start() + 1)
    alternatives: list[object] = []
    current: list[object] = []
    sorts: list[Sort] = []
    last_or: Token | None = None
    shows_hidden = False
    tokens = tokenize(text)
    if len(tokens) > MAX_QUERY_TERMS:  # each term is a nested SQL condition; SQLite caps the depth
        extra = tokens[MAX_QUERY_TERMS]
        raise QuerySyntaxError(f"{len(tokens)} terms, more than MAX_QUERY_TERMS ({MAX_QUERY_TERMS})",
                               extra.text, extra.column)
    for tok in tokens:
        if tok.text == "OR" and not tok.quoted:
            if not current:
                raise QuerySyntaxError("OR needs a term on each side", tok.text, tok.column)
            alternatives.append(_collapse(And, current))
            current, last_or = [], tok
        elif tok.key is not None and tok.key.lower() == "sort":
            sorts.append(_sort(tok))
        else:
            shows_hidden = shows_hidden or _flag(tok) == "hidden"
            current.append(_term(tok))
    if last_or is not None and not current:
        raise QuerySyntaxError("OR needs a term on each side", last_or.text, last_or.column)
    if current:
        alternatives.append(_collapse(And, current))
    where = _collapse(Or, alternatives) if alternatives else None
    return Query(where, tuple(sorts) if sorts else NEWEST_FIRST, shows_hidden)
