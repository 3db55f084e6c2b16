"""Structured data on Commons: the statements' JSON against Wikibase's statement shape, and values
derived by hand (time strings, the Wikidata items of licences and copyright statuses)."""

import json
from datetime import UTC, datetime, timedelta, timezone

import jsonschema
import pytest

from atlas.core.commons import sdc
from atlas.core.commons.export import export
from atlas.core.errors import BadInput
from tests.support import REPO

SCHEMA = json.loads((REPO / "tests" / "schemas" / "wikibase-mediainfo-edit.schema.json").read_text(encoding="utf-8"))

# Wikidata items, looked up by their labels on wikidata.org (not taken from atlas):
CC0 = "Q6938433"  # Creative Commons CC0 License
CC_BY_4 = "Q20007257"  # Creative Commons Attribution 4.0 International
CC_BY_SA_4 = "Q18199165"  # Creative Commons Attribution-ShareAlike 4.0 International
COPYRIGHTED = "Q50423863"  # copyrighted
PUBLIC_DOMAIN = "Q19652"  # public domain
DEDICATED_TO_PD = "Q88088423"  # copyrighted, dedicated to the public domain by copyright holder
OWN_WORK = "Q66458942"  # original creation by uploader
GREGORIAN = "http://www.wikidata.org/entity/Q1985727"  # proleptic Gregorian calendar


def record(licence=None, author="Ann Example", title="Lighthouse", created="2024-02-29T23:30:00.000Z",
           description=None):
    return {"render": {"id": 1, "title": title, "description": description, "author": author, "created": created,
                       "licence": {"id": licence} if licence else None},
            "lineage": [{"prompt": "a lighthouse", "model": {"name": "stable-diffusion-v1-4"}},
                        {"prompt": "a lighthouse", "model": {"name": "RealESRGAN_x4plus"}}]}


def check_shape(data: dict) -> None:
    jsonschema.validate(data, SCHEMA, format_checker=jsonschema.FormatChecker())
    for statement in data["claims"]:
        qualifiers = statement.get("qualifiers", {})
        assert statement.get("qualifiers-order", []) == list(qualifiers)
        for prop, snaks in qualifiers.items():
            assert all(snak["property"] == prop for snak in snaks)


def claims(data: dict, prop: str) -> list[dict]:
    return [c for c in data["claims"] if c["mainsnak"]["property"] == prop]


def item(statement: dict) -> str:
    return statement["mainsnak"]["datavalue"]["value"]["id"]


def qualifier_strings(statement: dict, prop: str) -> list[str]:
    return [snak["datavalue"]["value"] for snak in statement.get("qualifiers", {}).get(prop, [])]


CONFIGS = [{}, {"author": {"name": "Ann Example", "commons_user": "Ann Example"}},
           {"defaults": {"licence": "cc0-1.0"}}]


@pytest.mark.parametrize("licence", [None, "CC0-1.0", "CC-BY-4.0", "CC-BY-SA-4.0"])
@pytest.mark.parametrize("config", CONFIGS)
def test_every_combination_has_wikibase_statement_shape(licence, config):
    data = sdc.structured_data(record(licence), config, {"de": "Ein Leuchtturm"}, depicts=["Q39715", "q39715"])
    check_shape(data)
    assert [c["mainsnak"]["property"] for c in data["claims"]][:3] == ["P170", "P571", "P7482"]
    assert item(claims(data, "P7482")[0]) == OWN_WORK
    assert [item(c) for c in claims(data, "P180")] == ["Q39715"]  # a lighthouse, stated once


def test_the_schema_refuses_what_wikibase_would():
    good = sdc.structured_data(record("CC0-1.0"), {})
    for broken in ({"snaktype": "value", "property": "P170"},  # a value snak without its value
                   {"snaktype": "somevalue", "property": "P170", "datavalue": {"type": "string", "value": "x"}},
                   {"snaktype": "value", "property": "170", "datavalue": {"type": "string", "value": "x"}}):
        bad = json.loads(json.dumps(good))
        bad["claims"][0]["mainsnak"] = broken
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, SCHEMA)
    bad = json.loads(json.dumps(good))
    bad["claims"][1]["mainsnak"]["datavalue"]["value"]["time"] = "2024-02-29"  # no sign, no time
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


@pytest.mark.parametrize(("licence", "status", "licence_item"), [
    ("CC0-1.0", DEDICATED_TO_PD, CC0), ("CC-BY-4.0", COPYRIGHTED, CC_BY_4),
    ("CC-BY-SA-4.0", COPYRIGHTED, CC_BY_SA_4), (None, PUBLIC_DOMAIN, None)])
def test_copyright_status_and_licence_follow_the_output_licence(licence, status, licence_item):
    data = sdc.structured_data(record(licence), {})
    assert [item(c) for c in claims(data, "P6216")] == [status]
    assert [item(c) for c in claims(data, "P275")] == ([licence_item] if licence_item else [])


def test_the_configured_default_licence_applies_when_the_render_has_none():
    data = sdc.structured_data(record(None), {"defaults": {"licence": "cc-by-sa-4.0"}})
    assert [item(c) for c in claims(data, "P275")] == [CC_BY_SA_4]


def test_a_licence_without_a_mapping_states_no_licence():
    data = sdc.structured_data(record("LicenseRef-mine"), {})
    assert claims(data, "P6216") == [] and claims(data, "P275") == []


def test_inception_is_the_utc_day_in_wikibase_time():
    data = sdc.structured_data(record(created="2024-02-29T23:30:00.000Z"), {})
    (inception,) = claims(data, "P571")
    assert inception["mainsnak"]["datavalue"] == {"type": "time", "value": {
        "time": "+2024-02-29T00:00:00Z", "timezone": 0, "before": 0, "after": 0, "precision": 11,
        "calendarmodel": GREGORIAN}}
    # 01:30 on 1 March in UTC+2 is still 29 February in UTC.
    moment = datetime(2024, 3, 1, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    assert sdc.time_value(moment)["value"]["time"] == "+2024-02-29T00:00:00Z"
    assert sdc.time_value(datetime(987, 6, 5, tzinfo=UTC))["value"]["time"] == "+0987-06-05T00:00:00Z"


def test_creator_is_the_commons_user_when_configured():
    config = {"author": {"name": "Ann Example", "commons_user": "Ann Example"}}
    (creator,) = claims(sdc.structured_data(record(), config), "P170")
    assert creator["mainsnak"] == {"snaktype": "somevalue", "property": "P170"}
    assert qualifier_strings(creator, "P4174") == ["Ann Example"]
    assert qualifier_strings(creator, "P2699") == ["https://commons.wikimedia.org/wiki/User:Ann_Example"]
    assert qualifier_strings(creator, "P2093") == ["Ann Example"]


def test_creator_is_unknown_with_the_models_without_a_user():
    (creator,) = claims(sdc.structured_data(record(author=None), {}), "P170")
    assert creator["mainsnak"] == {"snaktype": "somevalue", "property": "P170"}
    assert qualifier_strings(creator, "P2093") == ["stable-diffusion-v1-4", "RealESRGAN_x4plus"]
    assert "P4174" not in creator["qualifiers"]


def test_someone_elses_render_is_not_linked_to_the_configured_user():
    config = {"author": {"name": "Ann Example", "commons_user": "Ann Example"}}
    (creator,) = claims(sdc.structured_data(record(author="Bob Other"), config), "P170")
    assert "P4174" not in creator["qualifiers"]
    assert qualifier_strings(creator, "P2093") == ["stable-diffusion-v1-4", "RealESRGAN_x4plus", "Bob Other"]


def test_captions_per_language_plain_and_short():
    data = sdc.structured_data(record(description="A  lighthouse\nat dusk " + "x" * 400), {},
                               {"de": "Ein Leuchtturm", "fr": "Un phare"})
    assert set(data["labels"]) == {"en", "de", "fr"}
    assert data["labels"]["de"] == {"language": "de", "value": "Ein Leuchtturm"}
    english = data["labels"]["en"]["value"]
    assert english.startswith("A lighthouse at dusk xxx") and len(english) == 250 and english.endswith("…")


def test_depicts_must_be_item_ids():
    with pytest.raises(BadInput, match="not a Wikidata item id"):
        sdc.structured_data(record(), {}, depicts=["lighthouse"])


def test_every_exported_batch_row_carries_its_structured_data(reference, tmp_path):
    catalogue, renders = reference
    export(catalogue, [renders[0].id, renders[-1].id], tmp_path, descriptions={"de": "Eine Stadt"})
    rows = [json.loads(line) for line in (tmp_path / "batch.jsonl").read_text(encoding="utf-8").splitlines()]
    for row in rows:
        provenance = json.loads((tmp_path / row["provenance"]).read_text(encoding="utf-8"))
        check_shape(row["sdc"])
        assert row["sdc"]["labels"]["de"]["value"] == "Eine Stadt"
        assert row["sdc"]["labels"]["en"]["value"] == provenance["render"]["title"]
        (inception,) = claims(row["sdc"], "P571")
        day = provenance["render"]["created"][:10]
        assert inception["mainsnak"]["datavalue"]["value"]["time"] == f"+{day}T00:00:00Z"


def test_upload_script_adds_depicts_in_the_same_shape_once():
    import importlib.util

    spec = importlib.util.spec_from_file_location("atlas_upload_script", REPO / "templates" / "export" / "upload.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    row = {"sdc": sdc.structured_data(record("CC0-1.0"), {}, depicts=["Q39715"])}
    data = script.structured_data(row, ["Q39715", "Q1", "Q1"])
    check_shape(data)
    assert [item(c) for c in claims(data, "P180")] == ["Q39715", "Q1"]
    assert claims(row["sdc"], "P180") == claims(data, "P180")[:1]  # the batch row itself is left as it was
    assert script.structured_data({}, []) is None
