"""The search fields, one record each: the parser, the SQL, sorting and every help text derive from here.

A new field is one `SearchField` below, plus the column it compares in `columns.COLUMNS` (the
SQLAlchemy statement) and `plain.COLUMNS` (the SQLite reader read commands use); a text field
whose condition is more than a comparison gets a matcher in both `sql.MATCHERS` and
`plain.MATCHERS` instead. The help texts (`atlas search --help`, the TUI's help screen) list the
records, and tests/test_search_fields.py checks that the README's list agrees.

This module imports no SQLAlchemy: `atlas search` parses its query before anything heavy loads.
"""

from dataclasses import dataclass
from typing import Any

# Value types: how the parser reads a value and which comparisons it allows. FLAG: a field with no
# value, written alone (`hidden`, `-hidden`).
INT, FLOAT, TEXT, DATE, SIZE, FLAG = "int", "float", "text", "date", "size", "flag"
NUMBERS = (INT, FLOAT)


@dataclass(frozen=True)
class SearchField:
    name: str
    type: str
    help: str  # one line, shown by `atlas search --help` and the TUI's help screen
    aliases: tuple[str, ...] = ()
    sortable: bool = False
    substring: bool = False  # a text value matches anywhere in the column, not the whole of it
    few_values: bool = False  # few distinct values: see `sql.FEW_VALUES`

    @property
    def column(self) -> Any:
        """The SQLAlchemy column a condition compares, or None (`sql` builds the condition itself)."""
        from atlas.core.search.columns import COLUMNS

        return COLUMNS.get(self.name)

    @property
    def compared(self) -> Any:
        """The column a condition on this field compares (the fields of `sql.MATCHERS` may have none)."""
        if self.column is None:
            raise KeyError(f"search field {self.name!r} has no column to compare")
        return self.column

    @property
    def sort_key(self) -> Any:
        """The expression `sort:NAME` and the TUI's column sort order by."""
        from atlas.core.search.columns import ORDERS

        key = ORDERS.get(self.name, self.column)
        if not self.sortable or key is None:
            raise KeyError(f"search field {self.name!r} is not sortable")
        return key


REGISTRY = (
    SearchField("id", INT, "the render's number", sortable=True),
    SearchField("prompt", TEXT, "text in the prompt (bare words search both prompts)", sortable=True, substring=True),
    SearchField("negative", TEXT, "text in the negative prompt", aliases=("neg",), substring=True),
    SearchField("seed", INT, "the seed", sortable=True),
    SearchField("rng", TEXT, "RNG source of the noise: CPU, GPU or NV (as recorded)"),
    SearchField("steps", INT, "sampling steps", sortable=True, few_values=True),
    SearchField("sampler", TEXT, 'sampler name, e.g. "Euler a" (any tool\'s spelling: euler_ancestral)',
                sortable=True),
    SearchField("schedule", TEXT, "schedule type, e.g. Karras (any tool's spelling)"),
    SearchField("cfg", FLOAT, "guidance scale", aliases=("scale",), sortable=True, few_values=True),
    SearchField("width", INT, "width in pixels", sortable=True, few_values=True),
    SearchField("height", INT, "height in pixels", sortable=True, few_values=True),
    SearchField("size", SIZE, "WIDTHxHEIGHT: 768x512, 768x* (sorts by area)", sortable=True),
    SearchField("model", TEXT, "model name (an imported render's too)", sortable=True),
    SearchField("model-hash", TEXT, "model sha256 or its A1111 short hash (a prefix)", aliases=("hash",)),
    SearchField("licence", TEXT, "licence id of the render, e.g. CC0-1.0", aliases=("license",), sortable=True),
    SearchField("model-licence", TEXT, "licence id of the model", aliases=("model-license",)),
    SearchField("denoise", FLOAT, "denoising strength", sortable=True, few_values=True),
    SearchField("kind", TEXT, "a pass kind anywhere in the lineage: outpaint, upscale..."),
    SearchField("created", DATE, "2026, 2026-11, 2026-11-24, today, yesterday, ranges", aliases=("date",),
                sortable=True),
    SearchField("author", TEXT, "the author", sortable=True),
    SearchField("tag", TEXT, "a tag"),
    SearchField("run", INT, "the run (batch) that made it"),
    SearchField("tool", TEXT, "what made it: atlas, or the importer's source", sortable=True),
    SearchField("rating", INT, "stars given, 1 to 5 (rating:>=4); unrated renders have none", aliases=("stars",),
                sortable=True),
    SearchField("hidden", FLAG, "written alone: hidden renders (left out unless the query names `hidden`)"),
)

FIELDS = {f.name: f for f in REGISTRY}
ALIASES = {alias: f.name for f in REGISTRY for alias in f.aliases}
SORTABLE = tuple(f.name for f in REGISTRY if f.sortable)
FLAGS = tuple(f.name for f in REGISTRY if f.type == FLAG)


def lookup(name: str) -> SearchField | None:
    """The field called `name` or one of its aliases (any case), or None."""
    name = name.lower()
    return FIELDS.get(ALIASES.get(name, name))


def __getattr__(name: str) -> Any:
    # The SQLAlchemy aliases of the statement's tables, where callers have always found them.
    if name in ("Producer", "ProducerModel"):
        from atlas.core.search import columns

        return getattr(columns, name)
    raise AttributeError(name)
