"""Escaping for MediaWiki wikitext: user text can never close a template, a link or a tag.

Two forms. `nowiki()` keeps text verbatim (prompts): it goes inside `<nowiki>`, where MediaWiki
still decodes character entities, so `&`, `<` and `>` are written as entities and a `</nowiki>`
inside the prompt cannot end the tag early. `text()` is for plain prose fields (titles,
descriptions, model names): every character that could start markup becomes a numeric entity.
Newlines become `&#10;` in both, so no value can start a heading, a list or a table at a line start.
Other control characters cannot be stored in a wiki page at all: they become U+FFFD, as MediaWiki's
own input normalisation does.
"""

import re

from markupsafe import Markup

# Characters that can open or close markup anywhere in a line (templates, links, tags, params,
# bold/italic quotes, signatures, external links).
_TEXT_ENTITIES = {
    "&": "&amp;", "<": "&lt;", ">": "&gt;",
    "{": "&#123;", "}": "&#125;", "[": "&#91;", "]": "&#93;", "|": "&#124;",
    "=": "&#61;", "~": "&#126;",
    "\n": "&#10;", "\r": "&#13;",
}
# A lone apostrophe is prose; two in a row (or one at an edge, beside template text) is bold/italic.
_TEXT_RE = re.compile("|".join(map(re.escape, _TEXT_ENTITIES)) + r"|__|'(?=')|(?<=')'|^'|'$")
_NOWIKI_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\n": "&#10;", "\r": "&#13;"}
_NOWIKI_RE = re.compile("|".join(map(re.escape, _NOWIKI_ENTITIES)))
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
REPLACEMENT = "\ufffd"
# Line-start markup: a value placed at the start of a line must not become a list, heading, pre...
_LINE_START = {"*": "&#42;", "#": "&#35;", ":": "&#58;", ";": "&#59;", " ": "&#32;", "-": "&#45;"}


def _entity(match: re.Match) -> str:
    found = match.group(0)
    if found == "__":  # __NOTOC__ and other behaviour switches
        return "&#95;_"
    if found == "'":
        return "&#39;"
    return _TEXT_ENTITIES[found]


def text(value) -> Markup:
    """Plain text as wikitext that renders as the same characters and contains no markup."""
    s = CONTROL.sub(REPLACEMENT, "" if value is None else str(value))
    out = _TEXT_RE.sub(_entity, s)
    if out[:1] in _LINE_START:
        out = _LINE_START[out[0]] + out[1:]
    return Markup(out)


def nowiki(value) -> Markup:
    """Text kept verbatim inside `<nowiki>`; empty text gives an empty string."""
    s = CONTROL.sub(REPLACEMENT, "" if value is None else str(value))
    if not s:
        return Markup("")
    return Markup("<nowiki>" + _NOWIKI_RE.sub(lambda m: _NOWIKI_ENTITIES[m.group(0)], s) + "</nowiki>")


def finalize(value):
    """Jinja `finalize`: every `{{ value }}` is escaped as text unless it is already wikitext."""
    if isinstance(value, Markup):
        return str(value)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(text(value))
