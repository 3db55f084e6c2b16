"""atlas export: files with embedded metadata, description pages, provenance, batch and upload script."""

import io
import json
import py_compile
import subprocess
import sys

import mwparserfromhell
import pytest
from PIL import Image

from atlas.core.commons.export import STAGING_PREFIX, export
from atlas.core.errors import AtlasError, BadInput
from atlas.core.files.embed import read_record
from atlas.core.record.write import RenderInfo
from tests.support import REPO
from tests.support.processes import heavy_modules_after
from tests.support.reference_lineage import build_reference
from tests.support.wikitext import check_structure, nowiki_texts, templates_named


def listing(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else None


def test_png_export_writes_every_file_with_its_record(reference, tmp_path):
    catalogue, renders = reference
    ids = [renders[0].id, renders[14].id, renders[-1].id]
    rows = export(catalogue, ids, tmp_path / "out")
    out = tmp_path / "out"
    assert [r["render_id"] for r in rows] == ids
    assert listing(out) == sorted(
        [f"Futuristic city ({i}).{ext}" for i in ids for ext in ("png", "wikitext", "provenance.json")]
        + ["batch.jsonl", "upload.py"])
    batch = [json.loads(line) for line in (out / "batch.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [b["filename"] for b in batch] == [f"Futuristic city ({i}).png" for i in ids]
    for row, line in zip(rows, batch, strict=False):
        assert set(line) >= {"path", "filename", "wikitext", "summary", "provenance"}
        data = (out / line["path"]).read_bytes()
        record = json.loads((out / line["provenance"]).read_text(encoding="utf-8"))
        assert read_record(data) == record  # the file carries exactly the record written beside it
        assert record["render"]["id"] == row["render_id"]
        with Image.open(io.BytesIO(data)) as image:
            assert image.size == (record["render"]["width"], record["render"]["height"])
        code = check_structure((out / line["wikitext"]).read_text(encoding="utf-8"))
        others = templates_named(code, "Information")[0].get("other versions").value
        # The other renders of the same lineage exported in this batch, and only those.
        assert sorted(str(link.title) for link in others.filter_wikilinks()) == sorted(
            f":File:{b['filename']}" for b in batch if b is not line)
    last = (out / batch[-1]["wikitext"]).read_text(encoding="utf-8")
    assert "fourteen successive passes" in last and "final 8192x4096 image" in last
    # Unchanged records: the stored files are exported byte for byte (a signature over them survives).
    assert [r["sha256"] for r in rows] == [renders[0].sha256, renders[14].sha256, renders[-1].sha256]


def test_a_changed_record_is_embedded_anew(reference, tmp_path):
    from atlas.core.catalogue.tables import Render

    catalogue, renders = reference
    with catalogue.session() as session:
        session.get(Render, renders[0].id).title = "Renamed city"
        session.commit()
    rows = export(catalogue, [renders[0].id], tmp_path)
    assert rows[0]["filename"] == "Renamed city (1).png" and rows[0]["sha256"] != renders[0].sha256
    assert read_record((tmp_path / rows[0]["path"]).read_bytes())["render"]["title"] == "Renamed city"


def test_other_lineages_are_not_other_versions(catalogue, tmp_path):
    first = build_reference(catalogue)
    second = build_reference(catalogue, RenderInfo(title="Second city"), prompt="another city", seed=7,
                             models=(1, 2))
    export(catalogue, [first[-1].id, second[-1].id, second[0].id], tmp_path / "out")
    page = (tmp_path / "out" / "Futuristic city (17).wikitext").read_text(encoding="utf-8")
    other = templates_named(mwparserfromhell.parse(page), "Information")[0].get("other versions").value
    assert other.strip() == ""
    page = (tmp_path / "out" / f"Second city ({second[-1].id}).wikitext").read_text(encoding="utf-8")
    assert f"[[:File:Second city ({second[0].id}).png]]" in page


@pytest.mark.parametrize("fmt, pil_format", [("jpg", "JPEG"), ("webp", "WEBP")])
def test_jpg_and_webp_carry_the_record(reference, tmp_path, fmt, pil_format):
    from atlas.core.files.inspect import inspect_file

    catalogue, renders = reference
    rows = export(catalogue, [renders[1].id], tmp_path, fmt)
    path = tmp_path / rows[0]["path"]
    assert path.suffix == f".{fmt}" and rows[0]["filename"].endswith(f".{fmt}")
    with Image.open(path) as image:
        assert image.format == pil_format and image.size == (896, 512)
    facts = inspect_file(path)
    assert facts["problems"] == []
    assert facts["record"] == json.loads((tmp_path / rows[0]["provenance"]).read_text(encoding="utf-8"))
    assert facts["parameters"]["prompt"] == facts["record"]["lineage"][-1]["prompt"]
    assert "Steps: 100" in facts["exif_user_comment"]
    assert facts["c2pa"] is None  # signing is off in this home


def test_signed_home_signs_jpeg_exports(reference, tmp_path):
    from atlas.core.files.inspect import inspect_file
    from atlas.core.trust import keys

    catalogue, renders = reference
    keys.create_identity(catalogue.home.keys)
    rows = export(catalogue, [renders[0].id], tmp_path, "jpg")
    facts = inspect_file(tmp_path / rows[0]["path"], trust_anchor=keys.trust_anchor(catalogue.home))
    assert facts["c2pa"]["validation_state"] == "Trusted", facts["c2pa"]
    assert facts["record"]["render"]["id"] == renders[0].id


def test_hostile_titles_stay_inside_the_folder_and_are_unique(catalogue, tmp_path):
    ids = []
    for title in ("../../etc/passwd", "a/b:c#d", "A/B:C#D", "x" * 400, ".hidden", "[[x]]|{{y}}"):
        ids.append(build_reference(catalogue, RenderInfo(title=title), seed=len(ids), full=False,
                                   models=(1, 2) if ids else None)[0].id)
    rows = export(catalogue, ids, tmp_path / "out", name_template="{title}")
    out = tmp_path / "out"
    names = [r["filename"] for r in rows]
    assert names[:3] == ["Etc passwd.png", "A b c d.png", "A B C D (2).png"]
    assert len({n.casefold() for n in names}) == len(names)
    for name in names:
        assert len(name.encode()) <= 240 and not set(name) & set("#<>[]|{}/:")
    assert listing(tmp_path) == ["home", "out"]  # nothing written beside DIR
    assert all((out / r["path"]).parent == out for r in rows)


def test_bad_input_writes_nothing(reference, tmp_path):
    catalogue, renders = reference
    out = tmp_path / "out"
    with pytest.raises(BadInput, match="no render with id 999"):
        export(catalogue, [renders[0].id, 999], out)
    with pytest.raises(BadInput, match="name template"):
        export(catalogue, [renders[0].id], out, name_template="{nope}")
    with pytest.raises(BadInput, match="format"):
        export(catalogue, [renders[0].id], out, "gif")
    assert not out.exists()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(BadInput, match="not a folder"):
        export(catalogue, [renders[0].id], blocker)
    with pytest.raises(BadInput, match="cannot write there"):
        export(catalogue, [renders[0].id], blocker / "sub")
    assert blocker.read_text() == "x"


def test_failure_mid_export_leaves_the_folder_as_it_was(reference, tmp_path):
    catalogue, renders = reference
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    export(catalogue, [renders[0].id], out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    catalogue.store.path_of(renders[2].store_path).unlink()  # a render whose file went missing
    with pytest.raises(AtlasError, match=f"render {renders[2].id}"):
        export(catalogue, [renders[0].id, renders[1].id, renders[2].id], out, name_template="{id}")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not any(p.name.startswith(STAGING_PREFIX) for p in out.iterdir())


def test_upload_script_compiles_and_reads_the_batch(reference, tmp_path):
    catalogue, renders = reference
    export(catalogue, [renders[0].id, renders[-1].id], tmp_path)
    py_compile.compile(str(tmp_path / "upload.py"), doraise=True)
    done = subprocess.run([sys.executable, str(tmp_path / "upload.py"), "--dry-run"], capture_output=True,
                          text=True, cwd="/")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"would upload Futuristic city ({i}).png as File:Futuristic city ({i}).png "
        f"(AI-generated image with stable-diffusion-v1-4, {w}, "
        f"uploaded from atlas (render {i}) with its full provenance)"
        for i, w in ((renders[0].id, "768x512"), (renders[-1].id, "8192x4096"))]
    source = (tmp_path / "upload.py").read_text()
    assert "FilePage" in source and ".upload(" in source and "text=text" in source


def test_cli_export_by_ids_and_by_query(reference, cli, tmp_path):
    _catalogue, renders = reference
    r = cli("export", renders[0].id, renders[-1].id, "--to", tmp_path / "ids", "--format", "webp",
            "--name", "{title} {width}x{height}", "--category", "Cityscapes", "--description", "de=Eine Stadt",
            "--json")
    assert r.code == 0, r.err
    assert [row["filename"] for row in r.json()] == ["Futuristic city 768x512.webp", "Futuristic city 8192x4096.webp"]
    page = (tmp_path / "ids" / "Futuristic city 768x512.wikitext").read_text(encoding="utf-8")
    assert "[[Category:Cityscapes]]" in page and "{{de|1=Eine Stadt}}" in page
    r = cli("export", "--query", "kind:upscale", "--to", tmp_path / "query", "--json")
    assert r.code == 0, r.err
    assert sorted(row["render_id"] for row in r.json()) == [renders[-2].id, renders[-1].id]
    r = cli("export", renders[0].id, "--to", tmp_path / "plain")
    assert r.code == 0 and "Futuristic city (1).png" in r.out


@pytest.mark.parametrize("args, message", [
    (["999", "--to", "{d}"], "no render with id 999"),
    (["1", "--to", "{d}", "--name", "{bad}"], "name template"),
    (["1", "--query", "cfg:7", "--to", "{d}"], "not both"),
    (["--to", "{d}"], "not both and not neither"),
    (["--query", "seed:424242", "--to", "{d}"], "matches no render"),
    (["--query", "cfg:..(", "--to", "{d}"], ""),
    (["1", "--to", "{d}", "--format", "gif"], "gif"),
    (["1", "--to", "{d}", "--description", "Eine Stadt"], "LANG=TEXT"),
    (["1", "--to", "{d}", "--description", "d e=x"], "language code"),
    (["1", "--to", "{d}", "--category", ""], "--category ''"),
    (["1", "--to", "{d}", "--category", "[[]]"], "not a category name"),
])
def test_cli_bad_input_exits_2_and_writes_nothing(reference, cli, tmp_path, args, message):
    out = tmp_path / "out"
    r = cli("export", *[a.replace("{d}", str(out)) for a in args])
    assert r.code == 2, (r.out, r.err)
    assert message in r.err
    assert not out.exists()


def test_core_export_modules_import_no_heavy_library():
    assert heavy_modules_after("import atlas.core.commons.export, atlas.core.commons.page, atlas.cli.export_cmd") == []


def test_config_drives_author_and_categories(reference, home, tmp_path):
    catalogue, renders = reference
    home.config_path.write_text('[author]\nname = "Example"\ncommons_user = "Example"\n'
                                '[commons]\ncategories = ["Cityscapes"]\ntraining_data_addendum = true\n'
                                '[commons.training_data]\n"stable-diffusion-v1-4" = "LAION-5B"\n', encoding="utf-8")
    export(catalogue, [renders[0].id], tmp_path)
    page = (tmp_path / "Futuristic city (1).wikitext").read_text(encoding="utf-8")
    assert "prompted by [[User:Example|Example]]" in page
    assert "[[Category:Cityscapes]]" in page and "LAION-5B" in page


def test_export_on_postgresql(pg_home, tmp_path):
    from atlas.core.catalogue import Catalogue

    catalogue = Catalogue.open(pg_home)
    try:
        renders = build_reference(catalogue)
        rows = export(catalogue, [renders[0].id, renders[-1].id], tmp_path)
        page = (tmp_path / rows[1]["wikitext"]).read_text(encoding="utf-8")
        check_structure(page)
        assert "fourteen successive passes" in page and "tile overlap of 128 then 256" in page
        assert nowiki_texts(page)
    finally:
        catalogue.close()


@pytest.mark.slow
@pytest.mark.xdist_group("wheel")  # builds in the repository's build/: one worker at a time
def test_installed_wheel_finds_the_commons_templates(tmp_path):
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", tmp_path / "dist", REPO],
                   check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("atlas-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", tmp_path / "site",
                    wheel], check=True, capture_output=True)
    probe = ("from atlas.core.resources import data_dir\nimport atlas.core.commons.page as c\n"
             "env = c.environment(None)\nprint(data_dir('templates'))\n"
             "print(sorted(env.list_templates()))\nprint((data_dir('templates') / 'export' / 'upload.py').is_file())")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=True,
                          env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"})
    folder, names, upload = done.stdout.splitlines()
    assert folder == str(tmp_path / "site" / "atlas" / "templates")
    assert "page.wikitext.j2" in names and "procedure.wikitext.j2" in names and upload == "True"


def test_an_imported_jpeg_exports_to_png_and_webp(catalogue, tmp_path):
    """A render stored as a CMYK JPEG (as an import keeps it) is decoded and encoded with its record."""
    from atlas.core.catalogue.store import sha256_bytes
    from atlas.core.catalogue.tables import Pass, Render
    from atlas.core.files.inspect import inspect_file

    buffer, size = io.BytesIO(), (40, 24)
    Image.new("CMYK", size, (10, 200, 30, 5)).save(buffer, format="JPEG")
    data = buffer.getvalue()
    digest, rel, _ = catalogue.store.put(data, "jpg")
    with catalogue.session() as session:
        render = Render(sha256=digest, format="jpeg", width=size[0], height=size[1], size_bytes=len(data),
                        store_path=rel, tool="AUTOMATIC1111", title="Imported")
        session.add(render)
        session.flush()
        session.add(Pass(kind="import", status="completed", render_id=render.id, prompt="imported prompt",
                         settings={}))
        session.commit()
        render_id = render.id
    source = catalogue.store.path_of(rel).read_bytes()
    for fmt in ("png", "webp"):
        rows = export(catalogue, [render_id], tmp_path / fmt, fmt)
        facts = inspect_file(tmp_path / fmt / rows[0]["path"])
        assert (facts["format"], facts["width"], facts["height"]) == (ENCODERS[fmt], *size)
        assert facts["record"]["render"]["tool"] == "AUTOMATIC1111"
        page = (tmp_path / fmt / rows[0]["wikitext"]).read_text(encoding="utf-8")
        assert "made with AUTOMATIC1111 and imported into atlas" in page
    assert catalogue.store.path_of(rel).read_bytes() == source and sha256_bytes(source) == digest


ENCODERS = {"png": "png", "webp": "webp"}
