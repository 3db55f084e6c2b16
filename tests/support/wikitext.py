"""Reading a Commons description page as a parse tree (mwparserfromhell), for the page and export tests."""

import html

import mwparserfromhell


def templates_named(code, name: str) -> list:
    return [t for t in code.filter_templates(recursive=True) if t.name.strip().lower() == name.lower()]


def check_structure(text: str, licence_template: str = "cc-by-sa-4.0") -> mwparserfromhell.wikicode.Wikicode:
    """The page's required structure (README, "Export to Wikimedia Commons"), asserted on the parse tree."""
    code = mwparserfromhell.parse(text)
    info = templates_named(code, "Information")
    assert len(info) == 1
    for field in ("description", "date", "source", "author"):
        assert info[0].has(field) and info[0].get(field).value.strip(), field
    assert templates_named(info[0].get("source").value, "own")
    headings = {h.title.strip(): h.level for h in code.filter_headings()}
    assert headings.get("{{int:filedesc}}") == 2
    assert headings.get("{{int:license-header}}") == 2
    assert headings.get("Procedure/Methodology") == 2
    assert headings.get("Model licence") == 2
    assert len(templates_named(code, "PD-algorithm")) == 1
    selfs = templates_named(code, "self")
    assert [str(t.get(1).value).strip() for t in selfs] == [licence_template]
    categories = [str(link.title) for link in code.filter_wikilinks() if str(link.title).startswith("Category:")]
    assert "Category:AI-generated images" in categories
    return code


def nowiki_texts(code) -> list[str]:
    code = mwparserfromhell.parse(str(code))
    return [html.unescape(str(tag.contents)) for tag in code.filter_tags(recursive=True) if tag.tag == "nowiki"]
