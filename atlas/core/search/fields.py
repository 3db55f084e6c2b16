"""The search fields, one record each: the parser, the SQL, sorting and every help text derive from here.

A new field is one `SearchField` below. A text field compares its `column` unless `sql.MATCHERS`
gives it a condition of its own; the help texts (`atlas search --help`, the TUI's help screen)
list the records, and tests/test_search_fields.py checks that the README's list agrees.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import SQLColumnExpression, func
from sqlalchemy.orm import aliased
from sqlmodel import col

from atlas.core.catalogue.tables import Model, Pass, Render

# The producing pass of a render, and its model: `sql` outer-joins both (a render may have neither).
Producer = Pass
ProducerModel = aliased(Model, name="producer_model")

# Value types: how the parser reads a value and which comparisons it allows.
INT, FLOAT, TEXT, DATE, SIZE = "int", "float", "text", "date", "size"
NUMBERS = (INT, FLOAT)


@dataclass(frozen=True)
class SearchField:
    name: str
    type: str
    help: str  # one line, shown by `atlas search --help` and the TUI's help screen
    column: SQLColumnExpression[Any] | None = None  # what a condition compares; None: `sql` builds it itself
    aliases: tuple[str, ...] = ()
    sortable: bool = False
    order: SQLColumnExpression[Any] | None = None  # the sort expression when it is not `column`
    substring: bool = False  # a text value matches anywhere in the column, not the whole of it
    few_values: bool = False  # few distinct values: see `sql.FEW_VALUES`

    @property
    def compared(self) -> SQLColumnExpression[Any]:
        """The column a condition on this field compares (the fields of `sql.MATCHERS` may have none)."""
        if self.column is None:
            raise KeyError(f"search field {self.name!r} has no column to compare")
        return self.column

    @property
    def sort_key(self) -> SQLColumnExpression[Any]:
        """The expression `sort:NAME` and the TUI's column sort order by."""
        key = self.column if self.order is None else self.order
        if not self.sortable or key is None:
            raise KeyError(f"search field {self.name!r} is not sortable")
        return key


REGISTRY = (
    SearchField("id", INT, "the render's number", col(Render.id), sortable=True),
    SearchField("prompt", TEXT, "text in the prompt (bare words search both prompts)", col(Producer.prompt),
                sortable=True, substring=True),
    SearchField("negative", TEXT, "text in the negative prompt", col(Producer.negative_prompt), aliases=("neg",),
                substring=True),
    SearchField("seed", INT, "the seed", col(Producer.seed), sortable=True),
    SearchField("rng", TEXT, "RNG source of the noise: CPU, GPU or NV (as recorded)",
                col(Producer.settings)["rng"].as_string()),
    SearchField("steps", INT, "sampling steps", col(Producer.steps), sortable=True, few_values=True),
    SearchField("sampler", TEXT, 'sampler name, e.g. "Euler a" (any tool\'s spelling: euler_ancestral)',
                col(Producer.sampler), sortable=True),
    SearchField("schedule", TEXT, "schedule type, e.g. Karras (any tool's spelling)"),
    SearchField("cfg", FLOAT, "guidance scale", col(Producer.cfg), aliases=("scale",), sortable=True,
                few_values=True),
    SearchField("width", INT, "width in pixels", col(Render.width), sortable=True, few_values=True),
    SearchField("height", INT, "height in pixels", col(Render.height), sortable=True, few_values=True),
    SearchField("size", SIZE, "WIDTHxHEIGHT: 768x512, 768x* (sorts by area)", sortable=True,
                order=col(Render.width) * col(Render.height)),
    # Sorted by the name shown: an imported render has no Model row, its file's model name is in its settings.
    SearchField("model", TEXT, "model name (an imported render's too)", col(ProducerModel.name), sortable=True,
                order=func.coalesce(ProducerModel.name, col(Producer.settings)["model"].as_string())),
    SearchField("model-hash", TEXT, "model sha256 or its A1111 short hash (a prefix)", aliases=("hash",)),
    SearchField("licence", TEXT, "licence id of the render, e.g. CC0-1.0", col(Render.licence_id),
                aliases=("license",), sortable=True),
    SearchField("model-licence", TEXT, "licence id of the model", col(ProducerModel.licence_id),
                aliases=("model-license",)),
    SearchField("denoise", FLOAT, "denoising strength", col(Producer.denoise), sortable=True, few_values=True),
    SearchField("kind", TEXT, "a pass kind anywhere in the lineage: outpaint, upscale..."),
    SearchField("created", DATE, "2026, 2026-11, 2026-11-24, today, yesterday, ranges", col(Render.created),
                aliases=("date",), sortable=True),
    SearchField("author", TEXT, "the author", col(Render.author), sortable=True),
    SearchField("tag", TEXT, "a tag"),
    SearchField("run", INT, "the run (batch) that made it", col(Producer.run_id)),
    SearchField("tool", TEXT, "what made it: atlas, or the importer's source", col(Render.tool), sortable=True),
)

FIELDS = {f.name: f for f in REGISTRY}
ALIASES = {alias: f.name for f in REGISTRY for alias in f.aliases}
SORTABLE = tuple(f.name for f in REGISTRY if f.sortable)


def lookup(name: str) -> SearchField | None:
    """The field called `name` or one of its aliases (any case), or None."""
    name = name.lower()
    return FIELDS.get(ALIASES.get(name, name))
