"""Commons file names: valid titles, at most 240 bytes, unique in a batch, never leaving DIR."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atlas.core.commons import filenames
from atlas.core.errors import BadInput

FORBIDDEN = set("#<>[]|{}/:\\")


def name_for(title, template=None, ext="png", **fields):
    return filenames.build({"title": title, "id": 7, **fields}, template, ext)


def assert_valid(name: str, ext: str = "png") -> None:
    assert not FORBIDDEN & set(name), name
    assert len(name.encode("utf-8")) <= filenames.MAX_BYTES
    assert name.endswith("." + ext) and len(name) > len(ext) + 1
    assert not name.startswith(".") and "\n" not in name
    folder = Path("/export/dir")
    assert (folder / name).resolve().parent == folder


@pytest.mark.parametrize("title", ["../../etc/passwd", "a/b:c#d", "..", ".", "", "   ", "/", "C:\\x", "a\x00b",
                                   "[[File:x]]", "{{x}}", "a|b", "~~~~", "%2F..%2F", "&lt;", "\u202eevil.exe"])
def test_hostile_titles_give_safe_names(title):
    name = name_for(title)
    assert_valid(name)
    assert name.endswith("(7).png")


def test_examples_from_the_issue():
    assert name_for("../../etc/passwd") == "Etc passwd (7).png"
    assert name_for("a/b:c#d") == "A b c d (7).png"


@given(st.text(max_size=400))
def test_any_title_gives_a_valid_name(title):
    assert_valid(name_for(title))
    assert_valid(name_for(title, ext="webp"), "webp")


def test_long_names_are_cut_on_a_character_boundary_and_stay_unique():
    title = "城" * 200  # 3 bytes each
    batch = filenames.Batch()
    names = [batch.unique(name_for(title, "{title}")) for _ in range(12)]
    for name in names:
        assert_valid(name)
    assert len({n.casefold() for n in names}) == 12
    assert names[1].endswith(" (2).png") and names[11].endswith(" (12).png")


def test_uniqueness_ignores_case():
    batch = filenames.Batch()
    assert batch.unique("City.png") == "City.png"
    assert batch.unique("city.png") == "city (2).png"
    assert batch.unique("CITY.png") == "CITY (3).png"


@pytest.mark.parametrize("template", ["{nope}", "{title!r}", "{title:>300}", "{", "}", "{0}", "{}",
                                      "{title.__class__}", "{title[0]}"])
def test_bad_templates_are_refused(template):
    with pytest.raises(BadInput, match="name template"):
        name_for("x", template)


def test_template_fields_and_extensions():
    assert name_for("City", "{title} {width}x{height} seed {seed}", "jpg", width=8, height=4, seed=3) == \
        "City 8x4 seed 3.jpg"
    assert filenames.extension("JPEG") == "jpg"
    with pytest.raises(BadInput, match="format"):
        filenames.extension("gif")


@pytest.mark.parametrize("template", ["../{title}", "/etc/{title}", "{title}/..", "..\\\\{title}", "{title}:{id}#x"])
def test_templates_with_separators_still_give_safe_names(template):
    name = name_for("City", template)
    assert_valid(name)
    assert "City" in name


@pytest.mark.parametrize("title, expected", [
    ("CON", "CON (image).png"), ("nul", "Nul (image).png"), ("LPT9", "LPT9 (image).png"),
    ("com1.tar", "Com1.tar (image).png"), ("CONSOLE", "CONSOLE.png"), ("aux pipe", "Aux pipe.png"),
])
def test_windows_reserved_names_are_never_produced(title, expected):
    assert filenames.build({"title": title}, "{title}", "png") == expected


def test_conversions_and_formats_are_named_as_such():
    with pytest.raises(BadInput, match=r"\{title!r\} has a conversion or format; placeholders are plain"):
        filenames.check_template("{title!r}")
    with pytest.raises(BadInput, match=r"\{seed:08d\} has a conversion"):
        filenames.check_template("{seed:08d}")


def test_export_to_an_empty_folder_name_is_refused(cli):
    result = cli("export", "1", "--to", "")
    assert result.code == 2 and "--to needs a folder" in result.err
