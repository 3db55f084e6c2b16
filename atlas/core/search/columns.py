"""The SQLAlchemy column each search field compares and sorts by (the fields are `fields.REGISTRY`).

The search statement joins the render to the pass that produced it (`Producer`) and that pass's
model (`ProducerModel`); `sql` outer-joins both (a render may have neither).
"""

from typing import Any

from sqlalchemy import SQLColumnExpression, func
from sqlalchemy.orm import aliased
from sqlmodel import col

from atlas.core.catalogue.tables import Model, Pass, Render

Producer = Pass
ProducerModel = aliased(Model, name="producer_model")

# Field name -> the column a condition compares; fields missing here have a matcher (`sql.MATCHERS`).
COLUMNS: dict[str, SQLColumnExpression[Any]] = {
    "id": col(Render.id), "prompt": col(Producer.prompt), "negative": col(Producer.negative_prompt),
    "seed": col(Producer.seed), "rng": col(Producer.settings)["rng"].as_string(), "steps": col(Producer.steps),
    "sampler": col(Producer.sampler), "cfg": col(Producer.cfg), "width": col(Render.width),
    "height": col(Render.height), "model": col(ProducerModel.name), "licence": col(Render.licence_id),
    "model-licence": col(ProducerModel.licence_id), "denoise": col(Producer.denoise),
    "created": col(Render.created), "author": col(Render.author), "run": col(Producer.run_id),
    "tool": col(Render.tool), "rating": col(Render.rating), "hidden": col(Render.hidden),
}
# Field name -> its sort expression, where that is not its column.
# A model sorts by the name shown: an imported render has no Model row, its file's name is in its settings.
ORDERS: dict[str, SQLColumnExpression[Any]] = {
    "size": col(Render.width) * col(Render.height),
    "model": func.coalesce(ProducerModel.name, col(Producer.settings)["model"].as_string()),
}
