"""PNG chunk rewriting: pixels never touched, big files streamed, bad input refused cleanly."""

import struct
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from atlas.core.errors import BadInput
from atlas.core.files import png
from tests.support import FIXTURES
from tests.support.pngs import (
    chunk,
    chunk_at,
    flip,
    idat_bytes,
    idat_file_bytes,
    set_length,
    small_png,
    stored_png,
    text_png,
    with_bomb,
    zero_rows_png,
)

ENTRIES = [png.text_chunk("parameters", "a cat\nSteps: 2, Seed: 1, CFG scale: 7"),
           png.text_chunk("title", "猫 🐱"), png.itxt_chunk("XML:com.adobe.xmp", "<x:xmpmeta/>")]


def test_with_text_adds_and_replaces_without_touching_pixels():
    original = small_png()
    once = png.with_text(original, ENTRIES)
    twice = png.with_text(once, [png.text_chunk("parameters", "a dog\nSteps: 3, Seed: 2, CFG scale: 5")])
    assert idat_bytes(twice) == idat_bytes(original)
    found = png.texts(png.read_chunks(twice))
    assert found["parameters"].startswith("a dog") and found["title"] == "猫 🐱"
    assert [c.keyword for c in png.read_chunks(twice)].count(b"parameters") == 1
    image = Image.open(__import__("io").BytesIO(twice))
    assert image.text["title"] == "猫 🐱"
    assert image.convert("RGB").getpixel((3, 3)) == (200, 40, 10)


def test_text_chunk_is_text_when_latin1_else_itxt():
    assert png.text_chunk("k", "café").type == b"tEXt"
    assert png.text_chunk("k", "猫").type == b"iTXt"
    compressed = png.text_chunk("k", "x" * 5000, compress=True)
    assert compressed.type == b"iTXt" and len(compressed.data) < 200
    assert png.decode_text(compressed) == ("k", "x" * 5000)


def rewrite_peak(src, dst) -> int:
    """Peak Python memory, in bytes, of rewriting `src` into `dst` with the test's text entries."""
    tracemalloc.start()
    try:
        png.rewrite_file(src, dst, ENTRIES)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_rewrites_an_8192x4096_png_streaming_without_decoding(tmp_path):
    src = zero_rows_png(tmp_path / "big.png", 8192, 4096)
    before = src.read_bytes()
    dst = tmp_path / "out.png"
    peak = rewrite_peak(src, dst)
    decoded_size = 8192 * 4096 * 3
    assert peak < 4 << 20, f"peak {peak} bytes: the rewrite held more than a few blocks"
    assert peak < decoded_size // 20
    assert src.read_bytes() == before  # the source is never written to
    assert idat_file_bytes(dst) == idat_file_bytes(src)
    types = [c.type for c in png.read_file_chunks(dst)]
    assert types[:4] == [b"IHDR", b"tEXt", b"iTXt", b"iTXt"] and types[-1] == b"IEND"
    with Image.open(dst) as image:  # Pillow reads the header and text without decoding either
        assert image.size == (8192, 4096)
        assert image.text["parameters"].startswith("a cat")


def test_rewrite_streams_image_data_bigger_than_its_buffers(tmp_path):
    src = stored_png(tmp_path / "noise.png", 1024, 1024)  # about 3 MiB of incompressible IDAT
    dst = tmp_path / "out.png"
    peak = rewrite_peak(src, dst)
    assert peak < src.stat().st_size // 2
    assert idat_file_bytes(dst) == idat_file_bytes(src)
    with Image.open(src) as a, Image.open(dst) as b:
        assert a.tobytes() == b.tobytes()


def test_rewrite_replaces_existing_keywords_and_keeps_other_chunks(tmp_path):
    src = tmp_path / "src.png"
    src.write_bytes(png.with_text(small_png(), [png.text_chunk("parameters", "old"),
                                                 png.text_chunk("Software", "other tool")]))
    dst = tmp_path / "dst.png"
    png.rewrite_file(src, dst, ENTRIES[:1])
    found = png.texts(png.read_file_chunks(dst))
    assert found["parameters"].startswith("a cat") and found["Software"] == "other tool"
    with pytest.raises(BadInput, match="onto itself"):
        png.rewrite_file(src, src, ENTRIES)


BAD = {
    "empty file": (lambda d: b"", "empty file"),
    "not an image": (lambda d: b"hello, I am a text file\n" * 10, "not a PNG"),
    "signature only": (lambda d: d[:8], "truncated"),
    "truncated in IDAT": (lambda d: d[:chunk_at(d, b"IDAT") + 20], "past the end"),
    "no IEND": (lambda d: d[:-12], "before the IEND"),
    "bad CRC in IDAT": (lambda d: flip(d, chunk_at(d, b"IDAT") + 10), "bad CRC in chunk IDAT"),
    "bad CRC in text": (lambda d: flip(d, chunk_at(d, b"tEXt") + 12), "bad CRC in chunk tEXt"),
    "chunk length past end": (lambda d: set_length(d, 0x7FFFFF00), "past the end"),
    "chunk length over spec": (lambda d: set_length(d, 0xFFFFFFF0), "more than PNG allows"),
    "zTXt bomb": (lambda d: with_bomb(d, b"zTXt"), "inflates past the limit"),
    "iTXt bomb": (lambda d: with_bomb(d, b"iTXt"), "inflates past the limit"),
    "first chunk not IHDR": (lambda d: d[:8] + d[33:], "not IHDR"),
    "bad chunk type": (lambda d: d[:chunk_at(d, b"IDAT") + 4] + b"ID\0T" + d[chunk_at(d, b"IDAT") + 8:],
                       "four letters"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_refused_clearly_and_left_alone(case, tmp_path):
    make, message = BAD[case]
    data = make(text_png())
    with pytest.raises(BadInput, match=message):
        png.texts(png.read_chunks(data, "x.png"), "x.png")
    src = tmp_path / "bad.png"
    src.write_bytes(data)
    src.chmod(0o444)
    with pytest.raises(BadInput, match=message):
        png.rewrite_file(src, tmp_path / "out.png", ENTRIES)
        png.texts(png.read_file_chunks(tmp_path / "out.png"))  # bombs are found when the text is read
    assert src.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) in (["bad.png"], ["bad.png", "out.png"])
    if (tmp_path / "out.png").exists():  # only a bomb gets that far: its chunks are structurally fine
        assert "bomb" in case


def test_broken_fixture_files_each_give_a_clear_error_or_read_as_what_they_are():
    folder = FIXTURES / "bad_images"
    for name, message in {"empty_file.png": "empty file", "empty_image.jpg": "not a PNG"}.items():
        path = folder / name
        with pytest.raises(BadInput, match=message) as caught:
            png.read_file_chunks(path)
        assert str(path) in str(caught.value)
    # Two are valid 1x1 PNGs that sd-parsers finds no generation data in: one has none, one keeps
    # it in a tEXt chunk after IDAT, where the PNG spec allows it.
    assert "parameters" not in png.texts(png.read_file_chunks(folder / "empty_image.png"))
    late = png.texts(png.read_file_chunks(folder / "text_after_idat.png"))
    assert late["parameters"].startswith("photo of a duck\nNegative prompt: monochrome")


def test_a_png_without_image_data_is_refused():
    data = png.SIGNATURE + png.read_chunks(small_png())[0].encode() + chunk(b"IEND", b"")
    with pytest.raises(BadInput, match="no IDAT"):
        png.read_chunks(data)


def test_missing_file_and_directory_are_bad_input(tmp_path):
    with pytest.raises(BadInput, match="no such file"):
        png.read_file_chunks(tmp_path / "nope.png")
    with pytest.raises(BadInput, match="directory"):
        png.read_file_chunks(tmp_path)


SEED = text_png()


@st.composite
def mutated_png(draw):
    """A valid PNG with text, then cut, flipped, spliced or overwritten at random places."""
    data = bytearray(SEED)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "length"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del data[at:at + draw(st.integers(1, 64))]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "length" and len(data) > at + 4:
            data[at:at + 4] = struct.pack(">I", draw(st.integers(0, 2**32 - 1)))
    return bytes(data)


@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.one_of(mutated_png(), st.binary(max_size=200).map(lambda b: png.SIGNATURE + b)))
def test_fuzz_chunk_reader_only_ever_raises_bad_input(data):
    try:
        chunks = png.read_chunks(data, "fuzz.png")
        png.texts(chunks, "fuzz.png")
    except BadInput as exc:
        assert str(exc).startswith("fuzz.png: ")


@settings(max_examples=2_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=mutated_png())
def test_fuzz_streaming_reader_agrees_with_the_in_memory_one(data, tmp_path_factory):
    path = tmp_path_factory.getbasetemp() / "fuzz-stream.png"
    path.write_bytes(data)
    try:
        expected = [c for c in png.read_chunks(data, "x") if c.type != b"IDAT"]
    except BadInput:
        expected = None
    try:
        streamed = png.read_file_chunks(path, "x")
    except BadInput:
        streamed = None
    assert streamed == expected


def test_many_big_text_chunks_are_refused_not_loaded(tmp_path, monkeypatch):
    monkeypatch.setattr(png, "MAX_LOADED_TOTAL", 1 << 20)  # the same rule, at a size a test can afford
    valid = text_png()
    at = chunk_at(valid, b"IDAT")
    filler = b"".join(chunk(b"tEXt", b"k%d\0" % i + b"x" * (300 << 10)) for i in range(4))
    path = tmp_path / "padded.png"
    path.write_bytes(valid[:at] + filler + valid[at:])
    with pytest.raises(BadInput, match="non-image chunks"):
        png.read_file_chunks(path)
