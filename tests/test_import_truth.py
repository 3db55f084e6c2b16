"""An import never gives a file values it does not carry: the same folder gives the same records every
time, in one process or many; files without generation metadata are said to be so."""

import io
import shutil

import piexif
import piexif.helper
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin
from sqlmodel import select

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.tables import Pass, Render
from atlas.core.files.inspect import inspect_file
from atlas.core.importers.batch import import_paths
from atlas.core.importers.extract import extract
from atlas.core.importers.tools import interpret
from tests.support import FIXTURES
from tests.support.import_files import BUILDERS, digest_tree

RUNS = 20  # imports of the mixed folder, half with the process pool, half with one worker


def infotext(i: int, prompt: str) -> str:
    return (f"{prompt}\nNegative prompt: blur {i}\nSteps: {10 + i}, Sampler: {['Euler a', 'DPM++ 2M'][i % 2]}, "
            f"CFG scale: 7, Seed: {1000 + i}, Size: 512x512")


def usercomment_exif(text: str) -> bytes:
    return piexif.dump({"Exif": {piexif.ExifIFD.UserComment: piexif.helper.UserComment.dump(text, "unicode")}})


def gen_of_bytes(name: str, data: bytes):
    found = interpret(extract(data, name))
    assert found is not None
    return found


def mixed_folder(root) -> dict[str, str | None]:
    """A few dozen files; name -> the prompt written into it (None: no generation metadata).

    Sorted by name, files with metadata alternate with files without, so a reader that kept one
    file's values for the next would show it.
    """
    root.mkdir()
    written: dict[str, str | None] = {}
    comfy = Image.open(FIXTURES / "parsers/ComfyUI/img2img_cropped.png").text
    for i in range(6):
        colour = (i * 40, 255 - i * 40, 90)
        name = f"a{i:02}_a1111.png"
        info = PngImagePlugin.PngInfo()
        written[name] = f"桜の猫 {i}" if i % 2 else f"a lighthouse {i}"
        info.add_text("parameters", infotext(i, written[name]))
        Image.new("RGB", (16, 16), colour).save(root / name, pnginfo=info)
        name = f"b{i:02}_none.png"
        Image.new("RGBA" if i % 2 else "RGB", (16, 16), colour).save(root / name)
        written[name] = None
        name = f"c{i:02}_exif.jpg"
        written[name] = f"a ship {i}"
        Image.new("RGB", (16, 16), colour).save(root / name, exif=usercomment_exif(infotext(i, written[name])))
        name = f"c{i:02}_none.jpg"
        Image.new("RGB", (16, 16), colour).save(root / name)
        written[name] = None
        name = f"d{i:02}_exif.webp" if i < 3 else f"d{i:02}_none.webp"
        if i < 3:
            written[name] = f"a teapot {i}"
            Image.new("RGB", (16, 16), colour).save(root / name, exif=usercomment_exif(infotext(i, written[name])))
        else:
            Image.new("RGB", (16, 16), colour).save(root / name)
            written[name] = None
        if i < 4:
            name = f"e{i:02}_comfy.png"
            info = PngImagePlugin.PngInfo()
            info.add_text("prompt", comfy["prompt"].replace("280823642470253", f"9{i}0823642470253"))
            info.add_text("workflow", comfy["workflow"])
            Image.new("RGB", (16, 16), colour).save(root / name, pnginfo=info)
            written[name] = "photograph of victorian woman with wings"
    for i, tool in enumerate(sorted(BUILDERS)):  # one file of every other reader
        build = BUILDERS[tool]
        name, data = build(5000 + i)
        prompt = gen_of_bytes(name, data).prompt
        name = f"f{i:02}_{name}"
        (root / name).write_bytes(data)
        written[name] = prompt
        phone = usercomment_exif("Shot on a phone")
        Image.new("RGB", (16, 16), (20 * i, 0, 90)).save(root / f"f{i:02}_none.jpg", exif=phone)
        written[f"f{i:02}_none.jpg"] = None  # a UserComment that is no generation text
    shutil.copytree(FIXTURES, root / "fixtures")
    (root / "fixtures" / "LICENSE.txt").unlink()
    return written


def records(catalogue) -> dict[str, tuple]:
    with catalogue.session() as session:
        rows = session.exec(select(Render, Pass).where(Pass.render_id == Render.id)).all()
        return {render.sha256: (render.tool, step.prompt, step.negative_prompt, step.seed, step.sampler, step.steps)
                for render, step in rows}


def test_the_same_folder_gives_the_same_records_every_time(tmp_path):
    root = tmp_path / "mixed"
    written = mixed_folder(root)
    before = digest_tree(root)
    first = None
    for run in range(RUNS):
        catalogue = Catalogue.open(tmp_path / f"home{run}")
        try:
            report = import_paths(catalogue, [root], recursive=True, workers=2 if run % 2 else 1)
            found = records(catalogue)
            by_path = {i["path"]: i["id"] for i in report.imported + report.no_metadata}
            with catalogue.session() as session:
                sha_of = {path: session.get(Render, rid).sha256 for path, rid in by_path.items()}
        finally:
            catalogue.close()
        if first is None:
            first = found
            for name, prompt in written.items():
                record = found[sha_of[str(root / name)]]
                if prompt is None:  # a file without metadata has no values, and is reported so
                    assert record[1:] == ("", "", None, None, None), (name, record)
                    assert str(root / name) in {i["path"] for i in report.no_metadata}
                else:
                    assert record[1].startswith(prompt), (name, record)
            nothing = sum(p is None for p in written.values())
            assert len(report.no_metadata) == nothing + 2 and len(report.unreadable) == 1  # + the empty fixtures
        assert found == first, f"run {run} differs"
    assert digest_tree(root) == before  # sources never modified


def random_image(data: st.DataObject):
    fmt = data.draw(st.sampled_from(["PNG", "JPEG", "WEBP"]))
    mode = data.draw(st.sampled_from(["RGB", "L"] if fmt == "JPEG" else ["RGB", "RGBA", "L", "P", "LA"]
                                     if fmt == "PNG" else ["RGB", "RGBA"]))
    width, height = data.draw(st.integers(1, 24)), data.draw(st.integers(1, 24))
    bands = len(Image.new(mode, (1, 1)).getbands())
    pixels = data.draw(st.binary(min_size=width * height * bands, max_size=width * height * bands))
    image = Image.frombytes(mode, (width, height), pixels)
    extra = data.draw(st.text(max_size=40))  # metadata that is not generation metadata
    out = io.BytesIO()
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt(data.draw(st.sampled_from(["Title", "Author", "Software", "Description"])), extra)
        image.save(out, fmt, pnginfo=info)
    elif fmt == "JPEG":
        exif = piexif.dump({"0th": {piexif.ImageIFD.Make: extra.encode()}})
        image.save(out, fmt, exif=exif, comment=extra.encode())
    else:
        image.save(out, fmt, xmp=f"<x:xmpmeta>{extra}</x:xmpmeta>".encode(), lossless=True)
    return fmt.lower(), out.getvalue()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_foreign_files_import_as_no_generation_metadata(catalogue, tmp_path, data):
    fmt, content = random_image(data)
    path = tmp_path / f"random.{fmt}"
    path.write_bytes(content)
    report = import_paths(catalogue, [path], workers=1)
    assert report.imported == [] and report.unreadable == []
    rid = (report.no_metadata or report.skipped)[0]["id"]  # skipped: the same bytes came up before
    with catalogue.session() as session:
        step = session.exec(select(Pass).where(Pass.render_id == rid)).one()
        render = session.get(Render, rid)
    assert (render.tool, step.prompt, step.negative_prompt, step.seed, step.sampler, step.steps) == (
        "unknown", "", "", None, None, None)
    assert path.read_bytes() == content


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # Pillow's, on writing the broken block
def test_unreadable_metadata_is_a_reason_on_a_catalogued_file(catalogue, tmp_path):
    path = tmp_path / "bad-exif.jpg"
    Image.new("RGB", (8, 8)).save(path, exif=b"Exif\0\0II*\0\x08\0\0\0\xff\xff")  # 65535 entries claimed
    report = import_paths(catalogue, [path], workers=1)
    assert report.imported == [] and report.unreadable == []
    assert "EXIF IFD0 claims 65535 entries" in report.no_metadata[0]["reason"]
    with catalogue.session() as session:
        step = session.exec(select(Pass)).one()
    assert "65535 entries" in step.settings["metadata_problem"] and step.prompt == ""


def test_inspect_reads_little_endian_unicode_user_comment(tmp_path):
    """EXIF with a little-endian ("II") TIFF header and a UTF-16LE UNICODE UserComment."""
    from test_extract import tiff

    exif = tiff(b"II", exif_ifd=[(0x9286, 7, b"UNICODE\0" + "桜 and a ship".encode("utf-16-le"))])
    path = tmp_path / "le.jpg"
    Image.new("RGB", (8, 8)).save(path, exif=b"Exif\0\0" + exif)
    data = path.read_bytes()
    assert data[data.index(b"Exif\0\0") + 6:][:2] == b"II"
    assert inspect_file(path)["exif_user_comment"] == "桜 and a ship"
    big = tmp_path / "be.jpg"
    Image.new("RGB", (8, 8)).save(big, exif=usercomment_exif("a ship"))  # piexif: "MM", big-endian
    assert inspect_file(big)["exif_user_comment"] == "a ship"
