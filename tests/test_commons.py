"""The Commons description page: golden procedure for the reference workflow, structure, hostile text."""

import html
import os
from pathlib import Path

import mwparserfromhell
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atlas.core.catalogue.tables import Render
from atlas.core.commons import page as commons
from atlas.core.commons import wikitext
from atlas.core.errors import BadInput
from atlas.core.record.build import build
from atlas.core.record.write import RenderInfo
from tests.support.reference_lineage import PROMPT, build_reference
from tests.support.wikitext import check_structure, nowiki_texts, templates_named

GOLDEN = Path(__file__).parent / "golden" / "reference_procedure.wikitext"
CONFIG = {"author": {"name": "Example", "commons_user": "Example"}}
HOSTILE = ["a | b", "}}", "{{", "[[", "]]", "a = b", "<nowiki>", "</nowiki>", "x\ny\n== H ==\n* list",
           "مدينة المستقبل \u202eabc", "{{PD-algorithm}}", "[[Category:Spam]]", "__NOTOC__", "~~~~",
           "<!-- c", "'''bold''", "&amp; &lt;", "|other versions=x", "-----"]


def page_of(catalogue, render_id, config=CONFIG, **kwargs) -> str:
    with catalogue.session() as session:
        return commons.page(session, session.get(Render, render_id), config, **kwargs)


def section(text: str, title: str) -> str:
    sections = mwparserfromhell.parse(text).get_sections(levels=[2], matches=lambda t: t.strip() == title)
    assert len(sections) == 1, f"expected one section {title!r}"
    return str(sections[0])


def test_reference_procedure_matches_golden(reference):
    catalogue, renders = reference
    text = page_of(catalogue, renders[-1].id)
    procedure = section(text, "Procedure/Methodology")
    if os.environ.get("ATLAS_UPDATE_GOLDEN"):
        GOLDEN.write_text(procedure, encoding="utf-8")
    assert procedure == GOLDEN.read_text(encoding="utf-8")
    # The facts the reference page states, checked one by one (so a regenerated golden cannot hide them).
    facts = ["A single 768x512 image was generated with txt2img", "Steps: 50", "Sampler: Euler a", "CFG scale: 7",
             "Negative prompt: none", "fourteen successive passes", '"Outpainting mk2"', "128 pixels",
             "left, right, top and bottom", "reached 2048x1024", "100 sampling steps", "denoising strength of 0.8",
             "mask blur of 8", "fall-off exponent of 1.8", "colour variation of 0.03",
             "two passes", '"SD upscale"', '"SwinIR_4x"', "tile overlap of 128 then 256",
             "denoising strength of 0.1", "150 sampling steps", "final 8192x4096 image",
             "NVIDIA GeForce RTX 3090", "atlas 0.1.0", "diffusers 0.42.0", "model hash fe4efff1e1"]
    for fact in facts:
        assert fact in procedure, fact
    assert procedure.index("fourteen") < procedure.index("two passes")
    assert nowiki_texts(mwparserfromhell.parse(procedure)) == [PROMPT]


def test_reference_page_structure_and_model_licence(reference):
    catalogue, renders = reference
    text = page_of(catalogue, renders[-1].id, categories=["Futuristic cities", "Category:Cityscapes"])
    code = check_structure(text)
    info = templates_named(code, "Information")[0]
    assert str(info.get("author").value).strip() == "stable-diffusion-v1-4; prompted by [[User:Example|Example]]"
    assert templates_named(info.get("description").value, "en")
    prompt = templates_named(info.get("other fields 1").value, "Prompt")
    assert nowiki_texts(prompt[0]) == [PROMPT]
    licence = section(text, "Model licence")
    assert "CreativeML Open RAIL-M" in licence
    assert "https://huggingface.co/spaces/CompVis/stable-diffusion-license" in licence
    assert "claims no rights in the output" in licence
    assert "Attachment A bind everyone who uses the model" in licence
    assert "Apache License 2.0" in licence  # the upscaler's licence too
    categories = [str(link.title) for link in code.filter_wikilinks() if str(link.title).startswith("Category:")]
    assert categories == ["Category:AI-generated images", "Category:Futuristic cities", "Category:Cityscapes"]
    assert "Addendum" not in text


def test_config_categories_addendum_languages_and_other_versions(reference):
    catalogue, renders = reference
    config = {**CONFIG, "commons": {"categories": ["AI-generated cityscapes", "AI-generated images"],
                                    "training_data_addendum": True,
                                    "training_data": {"stable-diffusion-v1-4": "Trained on LAION-5B subsets."}}}
    text = page_of(catalogue, renders[-1].id, config, descriptions={"de": "Eine Stadt", "fr": "Une ville"},
                   other_versions=["Futuristic city (1).png"])
    code = check_structure(text)
    info = templates_named(code, "Information")[0]
    languages = info.get("description").value.filter_templates(recursive=False)
    assert [t.name.strip() for t in languages] == ["en", "de", "fr"]
    assert [str(link.title) for link in info.get("other versions").value.filter_wikilinks()] == [
        ":File:Futuristic city (1).png"]
    assert "Trained on LAION-5B subsets." in section(text, "Addendum on training data")
    categories = [str(link.title) for link in code.filter_wikilinks() if str(link.title).startswith("Category:")]
    assert categories == ["Category:AI-generated images", "Category:AI-generated cityscapes"]
    with pytest.raises(BadInput, match="language code"):
        page_of(catalogue, renders[-1].id, descriptions={"en|x": "y"})


def test_no_output_licence_falls_back_to_config_default(catalogue):
    renders = build_reference(catalogue, RenderInfo(title="t"))
    text = page_of(catalogue, renders[0].id, {"defaults": {"licence": "CC0-1.0"}})
    check_structure(text, "cc-zero")
    bare = mwparserfromhell.parse(page_of(catalogue, renders[0].id, {}))
    assert templates_named(bare, "self") == [] and len(templates_named(bare, "PD-algorithm")) == 1


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_prompt_and_title_never_break_the_page(catalogue, hostile):
    prompt = f"city {hostile} end"
    renders = build_reference(catalogue, RenderInfo(title=f"t {hostile}", description=None, author=f"A {hostile}",
                                                    licence_id="CC-BY-4.0"), prompt=prompt)
    text = page_of(catalogue, renders[-1].id, {"commons": {"categories": [f"C {hostile}"]}})
    code = check_structure(text, "cc-by-4.0")
    info = templates_named(code, "Information")[0]
    english = templates_named(info.get("description").value, "en")[0]
    assert html.unescape(str(english.get("1").value)) == f"t {hostile}"
    assert nowiki_texts(code) and set(nowiki_texts(code)) == {prompt}
    assert html.unescape(str(info.get("author").value)).strip().endswith(f"prompted by A {hostile}")
    assert len(code.filter_headings()) == 4  # no heading smuggled in by the text


TOKENS = list("ab =|{}[]<>/'&;#*:-~\n_\x00\t") + ["<nowiki>", "</nowiki>", "{{", "}}", "[[", "]]", "\u202e", "ש",
                                               "&lt;", "<!--", "-->", "''"]


# The fixture is built once for the whole test; hypothesis only varies the text.
@settings(max_examples=int(os.environ.get("ATLAS_HYPOTHESIS_EXAMPLES", 60)), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=st.lists(st.sampled_from(TOKENS), max_size=20).map("".join),
       prompt=st.text(min_size=1, max_size=60) | st.lists(st.sampled_from(TOKENS), min_size=1).map("".join))
def test_any_text_round_trips(reference, title, prompt):
    catalogue, renders = reference
    with catalogue.session() as session:
        render = session.get(Render, renders[-1].id)
        record = build(session, render)
        record["render"]["title"] = title or None
        record["render"]["description"] = None
        record["lineage"][0]["prompt"] = prompt
        text = commons.page(session, render, CONFIG, record=record)
    code = check_structure(text)
    english = templates_named(templates_named(code, "Information")[0].get("description").value, "en")[0]
    stored = lambda s: wikitext.CONTROL.sub(wikitext.REPLACEMENT, s)  # noqa: E731 (as MediaWiki would keep it)
    if title:
        assert html.unescape(str(english.get("1").value)) == stored(title)
    assert nowiki_texts(code)[0] == stored(prompt)


def test_user_template_overrides_one_section(reference, home):
    catalogue, renders = reference
    folder = home.templates / "commons"
    folder.mkdir(parents=True)
    (folder / "categories.wikitext.j2").write_text(
        "<% for c in categories %>[[Category:<< c|category >>|sortkey]]\n<% endfor %>", encoding="utf-8")
    text = page_of(catalogue, renders[-1].id, user_templates=home.templates)
    assert "[[Category:AI-generated images|sortkey]]" in text
    assert "== Procedure/Methodology ==" in text  # the other sections still come from the shipped templates
    (folder / "procedure.wikitext.j2").write_text("<< no_such_value >>", encoding="utf-8")
    with pytest.raises(BadInput, match="procedure.wikitext.j2"):
        page_of(catalogue, renders[-1].id, user_templates=home.templates)


def test_show_wikitext_cli(reference, cli):
    _catalogue, renders = reference
    r = cli("show", renders[-1].id, "--wikitext")
    assert r.code == 0, r.err
    check_structure(r.out)
    assert "fourteen successive passes" in r.out
    r = cli("show", renders[-1].id, "--wikitext", "--json")
    assert r.code == 0 and r.json()["wikitext"].startswith("=={{int:filedesc}}==")
    assert cli("show", 9999, "--wikitext").code == 2


def test_page_of_a_real_demo_render(demo_catalogue, cli):
    from atlas.engine.generate import Txt2ImgRequest, generate

    render = generate(demo_catalogue, Txt2ImgRequest("a | lighthouse }}", steps=2, width=64, height=64, seed=5),
                      RenderInfo(title="Lighthouse", licence_id="CC0-1.0"))
    r = cli("show", render.id, "--wikitext")
    assert r.code == 0, r.err
    code = check_structure(r.out, "cc-zero")
    assert nowiki_texts(code) == ["a | lighthouse }}"] * 2
    assert "atlas's built-in demo model, random weights" in r.out
    assert "A single 64x64 image was generated with txt2img" in r.out
    assert "a single the" not in r.out and (" on the CPU (" in r.out or " on a single " in r.out)


def test_unusual_lineages_read_well_and_escape_once(catalogue):
    """img2img, a plain upscale without sampling, settings with markup characters, an imported start."""
    from atlas.core.catalogue.tables import Pass
    from tests.support.reference_lineage import record_pass, register_models

    sd, swinir = register_models(catalogue)
    info = RenderInfo(title="odd", licence_id="CC0-1.0")
    first = record_pass(catalogue, Pass(kind="import", prompt="found {{x}}", settings={"tool": "ComfyUI"}), 64, 64,
                        info, None)
    with catalogue.session() as session:
        session.get(Render, first.id).tool = "ComfyUI"
        session.commit()
    second = record_pass(catalogue, Pass(kind="img2img", input_render_id=first.id, prompt="found {{x}}",
                                         sampler="A=B|C", steps=20, cfg=5.5, denoise=0.5, seed=9, model_id=sd,
                                         settings={"weird": "x]]|{{y"}), 64, 64, info, 11)
    third = record_pass(catalogue, Pass(kind="upscale", input_render_id=second.id, upscaler_id=swinir,
                                        settings={"script": "plain", "scale": 4}), 256, 256, info, None)
    text = page_of(catalogue, third.id, {})
    check_structure(text, "cc-zero")
    procedure = section(text, "Procedure/Methodology")
    assert "The first image was made with ComfyUI and imported into atlas" in procedure
    assert "one pass of img2img took the image from 64x64 to 64x64." in procedure
    assert "It used a setting of 20 sampling steps (11 actually run) with A&#61;B&#124;C, denoising strength of 0.5, " \
           "CFG scale of 5.5, weird x&#93;&#93;&#124;&#123;&#123;y, seed 9." in procedure
    assert 'one pass of the "plain" script using "SwinIR_4x" was run within img2img, from 64x64 to 256x256.' \
        in procedure.replace("One pass", "one pass")
    assert "It used a setting of a scale factor of 4." in procedure
    assert "&amp;#" not in text  # nothing escaped twice
    assert "final 256x256 image" in procedure


def test_a_render_without_lineage_still_gets_a_valid_page(catalogue):
    with catalogue.session() as session:
        render = Render(sha256="0" * 64, format="png", width=5, height=5, size_bytes=1)
        session.add(render)
        session.commit()
        text = commons.page(session, render, {"defaults": {"licence": "CC0-1.0"}})
    check_structure(text, "cc-zero")
    assert "holds no record of how this image was made" in section(text, "Procedure/Methodology")
    assert "No model is recorded" in section(text, "Model licence")
