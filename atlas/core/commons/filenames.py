"""Commons file names for exported renders: valid titles, unique in a batch, safe on disk.

A name is built from a user template (`{title} ({id})` by default), then cleaned: characters
MediaWiki or Commons refuse in file titles (`# < > [ ] | { } / : \\`, controls, bidi overrides)
become spaces or are dropped, runs of whitespace collapse, and leading dots and dashes go, so no
name is hidden or walks out of its folder. Names are cut to 240 bytes of UTF-8 with the extension.
"""

import re
import string
import unicodedata

from atlas.core.errors import BadInput

MAX_BYTES = 240
EXTENSIONS = {"png": "png", "jpg": "jpg", "jpeg": "jpg", "webp": "webp"}
DEFAULT_TEMPLATE = "{title} ({id})"
FIELDS = ("title", "id", "seed", "width", "height", "prompt", "model", "date", "sha")
_FORBIDDEN = re.compile(r"[#<>\[\]|{}/:\\\x00-\x1f\x7f]")
# Percent escapes, `~~~` signatures and HTML entities change meaning inside MediaWiki titles.
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_ENTITY = re.compile(r"&(#?[A-Za-z0-9]+);")
_TILDES = re.compile(r"~{3,}")
_SPACE = re.compile(r"[\s_]+")
# Names Windows reserves whatever the extension (CON.png cannot be created there): the stem gets a mark.
_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])", re.IGNORECASE)


def extension(fmt: str) -> str:
    try:
        return EXTENSIONS[fmt.lower()]
    except (KeyError, AttributeError):
        raise BadInput(f"unknown export format {fmt!r}; use png, jpg or webp") from None


def check_template(template: str) -> str:
    """The name template, refused unless it only uses plain `{field}` placeholders we know."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise BadInput(f"name template {template!r}: {exc}") from None
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in FIELDS:
            raise BadInput(f"name template {template!r}: unknown placeholder {{{field}}}; "
                           f"use {', '.join('{' + f + '}' for f in FIELDS)}")
        if spec or conversion:
            written = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise BadInput(f"name template {template!r}: {written} has a conversion or format; "
                           f"placeholders are plain, e.g. {{{field}}}")
    return template


def clean(name: str) -> str:
    """`name` with every character Commons refuses in a file title removed or replaced."""
    name = unicodedata.normalize("NFC", name)
    # Format characters (bidi overrides, zero-width joiners...) can disguise a name: drop them.
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cf", "Cc", "Cs", "Co", "Cn"))
    name = _FORBIDDEN.sub(" ", name)
    name = _PERCENT.sub(r"% \1", name)
    name = _ENTITY.sub(r"& \1;", name)
    name = _TILDES.sub("~~", name)
    name = _SPACE.sub(" ", name).strip()
    return name.lstrip(".- ").rstrip(". ")


def truncate(stem: str, budget: int) -> str:
    """`stem` cut to at most `budget` bytes of UTF-8, never inside a character."""
    data = stem.encode("utf-8")
    if len(data) <= budget:
        return stem
    return data[:budget].decode("utf-8", errors="ignore").rstrip(". ")


def build(fields: dict, template: str | None, ext: str) -> str:
    """One file name (stem + extension), not yet made unique."""
    template = check_template(template or DEFAULT_TEMPLATE)
    values = {key: "" if fields.get(key) is None else str(fields[key]) for key in FIELDS}
    stem = clean(template.format_map(values))
    stem = truncate(stem, MAX_BYTES - len(ext) - 1)
    if not stem:
        stem = clean(f"AI-generated image ({fields.get('id')})")
    if _RESERVED.fullmatch(stem.split(".")[0].rstrip()):
        stem = f"{stem} (image)"
    # Commons capitalises the first letter of every title; the file on disk says what Commons will.
    return f"{stem[:1].upper()}{stem[1:]}.{ext}"


class Batch:
    """Hands out names unique within one export, compared the way Commons and file systems do."""

    def __init__(self):
        self.taken: set[str] = set()

    @staticmethod
    def key(name: str) -> str:
        # Commons capitalises the first letter; case-insensitive file systems fold the rest.
        return name.casefold()

    def unique(self, name: str) -> str:
        stem, _, ext = name.rpartition(".")
        candidate, n = name, 1
        while self.key(candidate) in self.taken:
            n += 1
            suffix = f" ({n})"
            candidate = f"{truncate(stem, MAX_BYTES - len(ext) - 1 - len(suffix))}{suffix}.{ext}"
        self.taken.add(self.key(candidate))
        return candidate
