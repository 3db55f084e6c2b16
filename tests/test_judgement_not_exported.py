"""A curator's rating and hidden flag are catalogue state, not provenance of the image: `atlas show`
prints them beside the record, and no exported file (PNG, JPEG, their provenance sidecars and
upload batch) nor the provenance schema carries them (record/build.py `describe`)."""

import json
from pathlib import Path

import pytest

from atlas.core.actions import detail, exporting, marking
from atlas.core.errors import AtlasError
from atlas.core.files.embed import read_record
from atlas.core.importers.extract import extract
from atlas.core.record.build import validate
from tests.support import tui_catalogue

JUDGEMENT_WORDS = ("rating", "hidden")


def keys_anywhere(value) -> set[str]:
    """Every key of every mapping inside `value` (a parsed JSON document)."""
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in keys_anywhere(item)}
    if isinstance(value, list):
        return {key for item in value for key in keys_anywhere(item)}
    return set()


@pytest.mark.parametrize("fmt", ["png", "jpg"])
def test_an_export_carries_no_rating_nor_hidden_flag(catalogue, tmp_path, fmt):
    ids = tui_catalogue.build(catalogue, frozen=False)
    render_id = ids["singles"][0]
    marking.rate(catalogue, [render_id], 5)
    marking.hide(catalogue, [render_id])
    facts = detail.show(catalogue, render_id)
    assert (facts["rating"], facts["hidden"]) == (5, True)  # the catalogue holds the judgement

    target = tmp_path / "out"
    rows = exporting.export(catalogue, target, [render_id], fmt=fmt)
    assert len(rows) == 1
    image = Path(target, rows[0]["path"])  # (an absolute path stays itself)
    data = image.read_bytes()
    texts = extract(data, str(image))
    assert any("xmp" in key.lower() for key in texts), sorted(texts)  # metadata to look in was written
    for key, text in texts.items():
        lowered = text.lower()
        # XMP's xmp:Rating would be a rating; the atlas record would name its keys
        assert "xmp:rating" not in lowered and '"rating"' not in lowered and '"hidden"' not in lowered, key
    if fmt == "png":
        record = read_record(data, str(image))
        assert record is not None and record["render"]["id"] == render_id
        assert not set(JUDGEMENT_WORDS) & keys_anywhere(record)
    sidecars = [path for path in target.rglob("*.json*") if path.is_file()]
    assert sidecars, sorted(p.name for p in target.rglob("*"))
    for path in sidecars:
        for line in path.read_text(encoding="utf-8").splitlines() if path.suffix == ".jsonl" else [path.read_text()]:
            assert not set(JUDGEMENT_WORDS) & keys_anywhere(json.loads(line)), path


def test_the_provenance_schema_refuses_a_record_that_carries_a_rating(catalogue):
    ids = tui_catalogue.build(catalogue, frozen=False)
    record = detail.show(catalogue, ids["singles"][0])["record"]
    validate(record)
    for word, value in (("rating", 4), ("hidden", True)):
        with pytest.raises(AtlasError):
            validate({**record, "render": {**record["render"], word: value}})


def test_atlas_show_prints_the_judgement(catalogue, cli):
    ids = tui_catalogue.build(catalogue, frozen=False)
    one, two = ids["singles"][:2]
    marking.rate(catalogue, [one], 3)
    marking.hide(catalogue, [one])
    shown = cli("show", one)
    assert shown.code == 0 and "judged   rating ***, hidden" in shown.out, shown.out
    assert "judged" not in cli("show", two).out
    as_json = cli("show", one, "--json").json()
    assert (as_json["rating"], as_json["hidden"]) == (3, True)
