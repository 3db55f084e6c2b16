"""Structured data on Commons (SDC) for a render: captions and statements in Wikibase's JSON shape.

What Commons' data-modelling pages ask of an own-work file (Commons:Structured data/Modeling):
captions, creator (P170), inception (P571), source of file (P7482), copyright status (P6216) and
licence (P275); depicts (P180) when the user names what the image shows. The result is what
`wbeditentity` takes as `data` for the file's MediaInfo entity: `{"labels": ..., "claims": [...]}`;
upload.py applies it. Values come from the render's record (the same record the page is written from).
"""

import re
from datetime import UTC, datetime

from atlas.core.commons import page as commons
from atlas.core.errors import BadInput

CAPTION_MAX = 250  # Commons refuses longer captions
GREGORIAN = "http://www.wikidata.org/entity/Q1985727"  # the calendar model of every Wikibase date
DAY = 11  # Wikibase time precision: 9 year, 10 month, 11 day

CREATOR, INCEPTION, SOURCE_OF_FILE, DEPICTS = "P170", "P571", "P7482", "P180"
COPYRIGHT_STATUS, LICENCE = "P6216", "P275"
# Qualifiers of a creator that is not a Wikidata item (how UploadWizard records "own work").
AUTHOR_NAME, WIKIMEDIA_USERNAME, URL = "P2093", "P4174", "P2699"
ORIGINAL_CREATION_BY_UPLOADER = "Q66458942"
COPYRIGHTED, PUBLIC_DOMAIN, DEDICATED_TO_PUBLIC_DOMAIN = "Q50423863", "Q19652", "Q88088423"
# Output licences atlas knows (atlas/data/licences.json ids) -> (copyright status, licence item).
LICENCES = {
    "CC0-1.0": (DEDICATED_TO_PUBLIC_DOMAIN, "Q6938433"),  # Creative Commons CC0 License
    "CC-BY-4.0": (COPYRIGHTED, "Q20007257"),  # Creative Commons Attribution 4.0 International
    "CC-BY-SA-4.0": (COPYRIGHTED, "Q18199165"),  # Creative Commons Attribution-ShareAlike 4.0 International
}
_QID = re.compile(r"^Q[1-9][0-9]*$")


def _item(qid: str) -> dict:
    return {"type": "wikibase-entityid", "value": {"entity-type": "item", "numeric-id": int(qid[1:]), "id": qid}}


def _string(text: str) -> dict:
    return {"type": "string", "value": text}


def _snak(prop: str, datavalue: dict | None) -> dict:
    if datavalue is None:
        return {"snaktype": "somevalue", "property": prop}
    return {"snaktype": "value", "property": prop, "datavalue": datavalue}


def _statement(prop: str, datavalue: dict | None, qualifiers: list[tuple[str, dict]] | None = None) -> dict:
    out: dict = {"mainsnak": _snak(prop, datavalue), "type": "statement", "rank": "normal"}
    if qualifiers:
        grouped: dict[str, list[dict]] = {}
        for qprop, value in qualifiers:
            grouped.setdefault(qprop, []).append(_snak(qprop, value))
        out["qualifiers"] = grouped
        out["qualifiers-order"] = list(grouped)
    return out


def time_value(moment: datetime) -> dict:
    """A day-precision Wikibase time (the UTC day of `moment`): "+YYYY-MM-DDT00:00:00Z"."""
    day = moment.astimezone(UTC) if moment.tzinfo else moment
    return {"type": "time", "value": {"time": f"+{day.year:04d}-{day.month:02d}-{day.day:02d}T00:00:00Z",
                                      "timezone": 0, "before": 0, "after": 0, "precision": DAY,
                                      "calendarmodel": GREGORIAN}}


def captions(record: dict, descriptions: dict | None = None) -> dict:
    """One caption per language: the page's descriptions as plain text, cut to Commons' length."""
    out = {}
    for lang, text in commons._descriptions(record["render"], record["lineage"], descriptions):
        text = " ".join(str(text).split())
        if len(text) > CAPTION_MAX:
            text = text[: CAPTION_MAX - 1].rstrip() + "…"
        out[lang] = {"language": lang, "value": text}
    return out


def _model_names(record: dict) -> list[str]:
    names: list[str] = []
    for step in record["lineage"]:
        name = (step.get("model") or {}).get("name")
        if name and name not in names:
            names.append(name)
    return names


def creator(record: dict, config: dict) -> dict:
    """P170: the configured Commons user when the render is theirs; else an unknown value ("somevalue")
    qualified by the models that made it and the person who prompted, as names."""
    author_cfg = config.get("author") or {}
    person = record["render"].get("author") or author_cfg.get("name")
    user = author_cfg.get("commons_user")
    if user and record["render"].get("author") in (None, author_cfg.get("name")):
        qualifiers = [(AUTHOR_NAME, _string(person or user)), (WIKIMEDIA_USERNAME, _string(user)),
                      (URL, _string(f"https://commons.wikimedia.org/wiki/User:{user.replace(' ', '_')}"))]
        return _statement(CREATOR, None, qualifiers)
    names = [(AUTHOR_NAME, _string(name)) for name in _model_names(record)]
    if person:
        names.append((AUTHOR_NAME, _string(person)))
    return _statement(CREATOR, None, names)


def copyright_statements(licence_id: str | None) -> list[dict]:
    """P6216 (+ P275): under a free licence the output is copyrighted and licensed; with none, it is
    in the public domain (the page's {{PD-algorithm}}). A licence without a known mapping (one a
    user added) states nothing rather than something wrong: the page still carries its template."""
    if not licence_id:
        return [_statement(COPYRIGHT_STATUS, _item(PUBLIC_DOMAIN))]
    known = {key.casefold(): value for key, value in LICENCES.items()}  # users type licence ids loosely
    if licence_id.casefold() not in known:
        return []
    status, licence = known[licence_id.casefold()]
    return [_statement(COPYRIGHT_STATUS, _item(status)), _statement(LICENCE, _item(licence))]


def check_depicts(depicts) -> list[str]:
    qids = [str(q).strip().upper() for q in depicts or ()]
    for qid in qids:
        if not _QID.match(qid):
            raise BadInput(f"depicts {qid!r}: not a Wikidata item id (like Q42)")
    return list(dict.fromkeys(qids))


def structured_data(record: dict, config: dict, descriptions: dict | None = None, depicts=()) -> dict:
    """The MediaInfo data of a render's file: captions (`labels`) and statements (`claims`)."""
    render = record["render"]
    licence = (render.get("licence") or {}).get("id") or (config.get("defaults") or {}).get("licence")
    claims = [creator(record, config)]
    if render.get("created"):
        created = datetime.fromisoformat(render["created"].replace("Z", "+00:00"))
        claims.append(_statement(INCEPTION, time_value(created)))
    claims.append(_statement(SOURCE_OF_FILE, _item(ORIGINAL_CREATION_BY_UPLOADER)))
    claims += copyright_statements(licence)
    claims += [_statement(DEPICTS, _item(qid)) for qid in check_depicts(depicts)]
    return {"labels": captions(record, descriptions), "claims": claims}
