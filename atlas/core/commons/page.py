"""The Wikimedia Commons description page of a render, written from its catalogue record alone.

The page comes from Jinja2 templates (`templates/commons/`, one per section); a file of the same
name in the atlas home's `templates/commons/` folder overrides the shipped one. Templates use
`<< >>` and `<% %>` as delimiters, because `{{ }}` is wikitext's own syntax. Every value is escaped
as plain wikitext unless a filter (`nowiki`, ...) made it markup, so no prompt or title can break
the page.
"""

import re
import traceback
from datetime import datetime
from pathlib import Path

import jinja2
from markupsafe import Markup
from sqlmodel import Session, col, select

from atlas.core.catalogue import licence_ref
from atlas.core.catalogue.tables import Licence, Render
from atlas.core.commons import procedure, wikitext
from atlas.core.errors import BadInput
from atlas.core.record.build import build
from atlas.core.resources import data_dir

DEFAULT_CATEGORY = "AI-generated images"
PAGE = "page.wikitext.j2"
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")
_TEMPLATE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._+-]*$")
_FILE_FORBIDDEN = re.compile(r"[#<>\[\]|{}/:\n\r]")
_CATEGORY_FORBIDDEN = re.compile(r"[#<>\[\]|{}\x00-\x1f\x7f]")


def _words(items, last=" and ") -> Markup:
    """Escaped items joined as prose: "a, b and c"."""
    items = [wikitext.finalize(i) for i in items]
    if len(items) <= 1:
        return Markup("".join(items))
    return Markup(", ".join(items[:-1]) + last + items[-1])


def _filename(name: str) -> Markup:
    """A file name made by atlas.core.commons.filenames: checked again, then used as a link target."""
    if not name or _FILE_FORBIDDEN.search(name):
        raise BadInput(f"{name!r} is not a valid Commons file name")
    return Markup(name)


def _template_name(name: str) -> Markup:
    if not _TEMPLATE_NAME.match(name or ""):
        raise BadInput(f"{name!r} is not a valid Commons licence template name")
    return Markup(name)


def category_name(name: str) -> str:
    """A category as given by a user ("Category:X" or "X"), without characters links refuse."""
    name = re.sub(r"^\s*category\s*:", "", str(name), flags=re.I)
    name = _CATEGORY_FORBIDDEN.sub(" ", name)
    return re.sub(r"[\s_]+", " ", name).strip()


def check_categories(categories) -> None:
    """Refuse a category that is empty once cleaned (it would be silently dropped from the page)."""
    for name in categories or []:
        if not category_name(name):
            raise BadInput(f"--category {name!r}: not a category name (empty once markup is removed)")


def _category(name: str) -> Markup:
    # Left unescaped so the link target stays a real title; category_name() removed all markup.
    return Markup(category_name(name).replace("&", "&amp;").replace("~~~", "~~&#126;"))


def _url(value: str) -> Markup:
    """A URL usable inside `[url label]`: spaces and wikitext characters percent-encoded."""
    table = {" ": "%20", "[": "%5B", "]": "%5D", "|": "%7C", "{": "%7B", "}": "%7D", "<": "%3C",
             ">": "%3E", '"': "%22", "'": "%27", "\n": "", "\r": ""}
    return Markup("".join(table.get(ch, ch) for ch in str(value)))


def environment(user_templates: Path | None = None) -> jinja2.Environment:
    """Templates from the user's folder first, then the shipped ones."""
    folders = []
    if user_templates is not None and (Path(user_templates) / "commons").is_dir():
        folders.append(str(Path(user_templates) / "commons"))
    folders.append(str(data_dir("templates") / "commons"))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders), undefined=jinja2.StrictUndefined,
        variable_start_string="<<", variable_end_string=">>", block_start_string="<%",
        block_end_string="%>", comment_start_string="<#", comment_end_string="#>",
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, extensions=["jinja2.ext.do"],
        # Autoescape on, with `finalize` returning markup: every value is escaped exactly once, as
        # wikitext (never as HTML), and macro output is not escaped a second time.
        autoescape=True, finalize=lambda value: Markup(wikitext.finalize(value)))
    env.filters.update(nowiki=wikitext.nowiki, text=wikitext.text, words=_words, filename=_filename,
                       template_name=_template_name, category=_category, url=_url)
    return env


def _date(created: str | None) -> str:
    if not created:
        return ""
    return datetime.fromisoformat(created.replace("Z", "+00:00")).strftime("%Y-%m-%d")


def check_languages(descriptions: dict | None) -> None:
    for lang in descriptions or {}:
        if not _LANGUAGE.match(str(lang)):
            raise BadInput(f"{lang!r} is not a language code (like en, de, pt-br)")


def _descriptions(render: dict, lineage: list[dict], extra: dict | None) -> list[tuple[str, str]]:
    """(language, text) pairs; English from the render's description, else title, else a fallback."""
    english = render.get("description") or render.get("title")
    if not english:
        models = [s["model"]["name"] for s in lineage if s.get("model")]
        english = f"AI-generated image made with {models[0]}" if models else "AI-generated image"
    out = [("en", english)]
    check_languages(extra)
    for lang, text in (extra or {}).items():
        if lang == "en":
            out[0] = ("en", text)
        elif text:
            out.append((lang, text))
    return out


def _output_licence(session: Session, record: dict, config: dict) -> dict | None:
    found = record["render"].get("licence")
    if found is None and (config.get("defaults") or {}).get("licence"):
        from atlas.core.catalogue import licences

        found = licence_ref(licences.get(session, config["defaults"]["licence"]))
    if found and found.get("commons_template") and not _TEMPLATE_NAME.match(found["commons_template"]):
        found = {**found, "commons_template": None}
    return found


def _licence_texts(session: Session, models: list[dict]) -> dict:
    ids = {m["licence"]["id"] for m in models if m.get("licence")}
    if not ids:
        return {}
    rows = session.exec(select(Licence).where(col(Licence.id).in_(ids))).all()
    return {row.id: licence_ref(row, terms=True) for row in rows}


def _categories(config: dict, categories) -> list[str]:
    out: list[str] = []
    for name in [DEFAULT_CATEGORY, *((config.get("commons") or {}).get("categories") or []),
                 *(categories or [])]:
        name = category_name(name)
        if name and name.casefold() not in {c.casefold() for c in out}:
            out.append(name)
    return out


def context(session: Session, render: Render, config: dict, categories=None, *,
            other_versions=(), descriptions: dict | None = None, record: dict | None = None) -> dict:
    """Everything the templates see."""
    record = record or build(session, render)
    lineage = record["lineage"]
    facts = procedure.facts(lineage)
    author_cfg = config.get("author") or {}
    person = record["render"].get("author") or author_cfg.get("name")
    commons_user = author_cfg.get("commons_user")
    if commons_user and record["render"].get("author") not in (None, author_cfg.get("name")):
        commons_user = None  # someone else's render: do not link it to the configured user
    engines = [m["name"] for m in facts["checkpoints"]] or facts["tools"] or ["an AI model"]
    commons_cfg = config.get("commons") or {}
    notes = commons_cfg.get("training_data") or {}
    models = facts["checkpoints"] + facts["upscalers"]
    return {
        "record": record, "render": record["render"], "lineage": lineage, "procedure": facts,
        "descriptions": _descriptions(record["render"], lineage, descriptions),
        "date": _date(record["render"].get("created")),
        "engines": engines, "person": person, "commons_user": commons_user if person else None,
        "output_licence": _output_licence(session, record, config),
        "other_versions": list(other_versions),
        "prompt": lineage[0]["prompt"] if lineage else "",
        "models": models, "licence_texts": _licence_texts(session, models),
        "training_data": bool(commons_cfg.get("training_data_addendum")),
        "training_data_notes": [(m["name"], notes[m["name"]]) for m in facts["checkpoints"] if m["name"] in notes],
        "categories": _categories(config, categories),
    }


def page(session: Session, render: Render, config: dict, categories=None, *, user_templates: Path | None = None,
         other_versions=(), descriptions: dict | None = None, record: dict | None = None,
         env: jinja2.Environment | None = None) -> str:
    """The description page of `render` as wikitext.

    `user_templates` is the atlas home's templates folder (overrides); `other_versions` the Commons
    file names of the other exported renders of its lineage; `descriptions` more languages.
    """
    env = env or environment(user_templates)
    values = context(session, render, config, categories, other_versions=other_versions,
                     descriptions=descriptions, record=record)
    try:
        text = env.get_template(PAGE).render(values)
    except jinja2.TemplateError as exc:
        # Jinja puts template frames into the traceback: the last one names the failing section.
        frames = [f.filename for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")]
        where = getattr(exc, "filename", None) or (frames[-1] if frames else PAGE)
        raise BadInput(f"Commons page template {where}: {exc}") from None
    # Templates leave blank runs where optional parts are off; a page never needs more than one.
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
