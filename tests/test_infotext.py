"""A1111 infotext: write -> parse is lossless, and parse reads what A1111 and sd-parsers read."""

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from atlas.core.files import infotext, png
from tests.support import FIXTURES

# Pieces that break naive writers: separators, quotes, the negative marker, CJK, emoji, escapes.
TRICKY = [",", ":", ", ", ": ", '"', "'", "\\", "\\n", "Negative prompt:", "Steps: 20, Sampler: Euler, CFG scale: 7",
          "猫の絵", "🐱", "👩‍🎨", "(masterpiece:1.2)", "[a|b]", "{x}", "%", "\t", "\r", "\u3000"]
piece = st.one_of(st.sampled_from(TRICKY), st.text(st.characters(exclude_categories=("Cs",)), max_size=12))


def clean_line(text: str) -> str:
    """A line A1111's format can carry: no blanks at its ends, not starting with the negative marker."""
    line = text.replace("\n", " ").strip()
    return "x " + line if line.startswith(infotext.NEGATIVE) else line


line = st.lists(piece, max_size=6).map("".join).map(clean_line)


def clean_text(lines: list[str]) -> str:
    while lines and not lines[0]:  # the format drops blank lines before the text starts
        lines = lines[1:]
    return "\n".join(lines)


text = st.lists(line, max_size=4).map(clean_text)
key = st.from_regex(r"\w[\w \-/]{0,14}[\w\-/]", fullmatch=True).filter(lambda k: k == k.strip())
value = st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False).map(infotext.format_value),
                  st.lists(piece, max_size=5).map("".join))
params = st.dictionaries(key, value.map(infotext.format_value), min_size=3, max_size=8)


@settings(max_examples=400, deadline=None)
@given(prompt=text, negative=text, parameters=params)
def test_write_then_parse_is_lossless(prompt, negative, parameters):
    written = infotext.write(prompt, negative, parameters)
    got_prompt, got_negative, got_params = infotext.parse(written)
    assert got_prompt == prompt
    assert got_negative == negative
    assert got_params == parameters
    assert list(got_params) == list(parameters)  # key order kept


def test_quoting_follows_a1111():
    written = infotext.write("a, b", "", {"Steps": 20, "Sampler": "Euler a", "CFG scale": 7.0,
                                          "Lora hashes": "x: 1, y: 2", "Note": "two\nlines"})
    assert written.splitlines()[-1] == ('Steps: 20, Sampler: Euler a, CFG scale: 7, Lora hashes: "x: 1, y: 2", '
                                        'Note: "two\\nlines"')
    assert "\n" not in written.split("\n", 1)[1]  # the quoted newline stays on the parameter line


def test_literal_negative_marker_inside_the_prompt_stays_in_the_prompt():
    written = infotext.write("a sign reading Negative prompt: none", "blurry", {"Steps": 2, "Seed": 1, "CFG scale": 7})
    assert infotext.parse(written) == ("a sign reading Negative prompt: none", "blurry",
                                       {"Steps": "2", "Seed": "1", "CFG scale": "7"})


def test_last_line_is_parameters_only_with_three_pairs():
    assert infotext.parse("a cat\nStyle: x, Mood: y") == ("a cat\nStyle: x, Mood: y", "", {})
    assert infotext.parse("a cat\nStyle: x, Mood: y, Light: z") == ("a cat", "", {"Style": "x", "Mood": "y",
                                                                                    "Light": "z"})
    assert infotext.parse("Steps: 2, Seed: 3, CFG scale: 4") == ("", "", {"Steps": "2", "Seed": "3", "CFG scale": "4"})


def test_a1111_layout_details():
    text = "\n\n  line one \n\nline two\nNegative prompt:   bad hands \nugly\nSteps: 15, Size: 512x400, Seed: 1"
    prompt, negative, parameters = infotext.parse(text)
    assert prompt == "line one\n\nline two"
    assert negative == "bad hands\nugly"
    assert infotext.size(parameters["Size"]) == (512, 400)
    assert infotext.size("512 by 400") is None


def test_parses_the_a1111_fixture_like_sd_parsers():
    from sd_parsers import ParserManager

    path = FIXTURES / "parsers" / "AUTOMATIC1111" / "automatic1111_cropped.png"
    raw = png.texts(png.read_chunks(path.read_bytes()))["parameters"]
    prompt, negative, parameters = infotext.parse(raw)
    found = ParserManager().parse(str(path))
    sampler = found.samplers[0]
    assert prompt == sampler.prompts[0].value == "photo of a duck"
    assert negative == sampler.negative_prompts[0].value == "monochrome"
    assert parameters["Sampler"] == sampler.name
    assert parameters["Seed"] == sampler.parameters["seed"]
    assert parameters["Model hash"] == sampler.model.hash
    assert list(parameters)[:3] == ["Steps", "Sampler", "CFG scale"]


def sd_parsers_can_carry(t: str) -> bool:
    """sd-parsers splits on the negative marker anywhere and strips the ends: keep to what it can read."""
    return infotext.NEGATIVE not in t and t == t.strip()


@settings(max_examples=60, deadline=None)
@given(prompt=text.filter(lambda t: t and sd_parsers_can_carry(t)), negative=text.filter(sd_parsers_can_carry))
def test_sd_parsers_reads_what_atlas_writes(prompt, negative):
    from sd_parsers import ParserManager

    parameters = {"Steps": 20, "Sampler": "Euler a", "CFG scale": 7, "Seed": 42, "Size": "64x64",
                  "Model hash": "0123456789", "Model": "atlas-demo"}
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG")
    data = png.with_text(buf.getvalue(), [png.text_chunk("parameters", infotext.write(prompt, negative, parameters))])
    found = ParserManager().parse(Image.open(io.BytesIO(data)))
    sampler = found.samplers[0]
    assert sampler.prompts[0].value == prompt
    assert [p.value for p in sampler.negative_prompts] == ([negative] if negative else [])
    assert sampler.parameters["seed"] == "42" and sampler.model.hash == "0123456789"


@settings(max_examples=10_000, deadline=None)
@given(raw=st.one_of(st.text(), st.lists(piece, max_size=12).map("".join),
                     st.lists(st.sampled_from(["\n", ", ", ": ", '"', "Negative prompt:", "Steps", "\\"]) | piece,
                              max_size=20).map("".join)))
def test_fuzz_parse_never_fails_and_returns_text(raw):
    prompt, negative, parameters = infotext.parse(raw)
    assert isinstance(prompt, str) and isinstance(negative, str)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in parameters.items())
    assert not parameters or raw.strip()  # parameters come only from a non-blank last line
