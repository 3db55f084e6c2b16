"""Limits on untrusted input (files, recipes, options), each a named constant its refusal names.

Generation limits (sizes, steps, CFG) live in `atlas.core.settings`; these bound what reading a
file or document may cost, so that a small hostile input cannot take unbounded memory or time.
"""

import json
import re

from atlas.core.errors import BadInput

MAX_RECIPE_BYTES = 1 << 20  # a recipe is a page of YAML; 1 MiB leaves room for long prompts
MAX_YAML_NODES = 100_000  # values in a recipe once its YAML aliases are expanded (an alias bomb has billions)
MAX_JSON_DEPTH = 64  # nesting of provenance records and recipes; real ones stay under 10
MAX_LIST_LIMIT = 1_000_000  # `--limit` of search and list
MAX_SHOWN_TEXT = 16 << 20  # decoded text chunks `inspect` shows for one file (as much as one chunk may hold)
MAX_QUERY_TERMS = 200  # terms of one search query (SQLite nests one condition per term; ~1000 overflow it)

_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


def json_depth(text: str) -> int:
    """How deep `text`'s arrays and objects nest, counted without parsing (so without recursion)."""
    depth = deepest = 0
    for char in _NOT_BRACKETS.sub("", _STRINGS.sub("", text)):
        depth += 1 if char in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def check_json_depth(text: str, what: str) -> None:
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise BadInput(f"{what}: JSON nested {depth} deep, more than MAX_JSON_DEPTH ({MAX_JSON_DEPTH})")


def loads_json(text: str | bytes, what: str):
    """json.loads, refusing documents nested deeper than MAX_JSON_DEPTH (json.loads would recurse)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    check_json_depth(text, what)
    return json.loads(text)
