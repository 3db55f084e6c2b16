"""A PNG export streams the render's file: the image is copied across, never held in memory."""

import hashlib
import tracemalloc

from atlas.core.commons.export import export
from atlas.core.files import png
from atlas.core.files.encode import encode_export
from atlas.core.record.build import build, get_render
from tests.support.pngs import idat_file_bytes, stored_png
from tests.support.reference_lineage import build_reference


def exported_with_peak(catalogue, render_id, folder) -> tuple[dict, int]:
    tracemalloc.start()
    try:
        rows = export(catalogue, [render_id], folder)
        return rows[0], tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_png_export_rewrites_a_big_file_without_loading_it(catalogue, tmp_path):
    renders = build_reference(catalogue)
    render_id = renders[-1].id
    with catalogue.session() as session:
        render = get_render(session, render_id)
        record = build(session, render)
    source = catalogue.store.path_of(render.store_path)
    # As an imported file would be: big, incompressible, without atlas's metadata.
    stored_png(source, 2048, 2048)  # 12 MiB of image data
    row, peak = exported_with_peak(catalogue, render_id, tmp_path / "out")
    assert peak < 4 << 20 < source.stat().st_size // 3, f"peak {peak} bytes: the export held the image"
    out = tmp_path / "out" / row["path"]
    assert out.read_bytes() == encode_export(source.read_bytes(), record, "png")  # what the in-memory path made
    assert row["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert idat_file_bytes(out) == idat_file_bytes(source)


def test_png_export_of_a_current_file_is_that_file(catalogue, tmp_path):
    renders = build_reference(catalogue)
    with catalogue.session() as session:
        render = get_render(session, renders[0].id)
    row, _ = exported_with_peak(catalogue, render.id, tmp_path / "out")
    source = catalogue.store.path_of(render.store_path).read_bytes()
    assert (tmp_path / "out" / row["path"]).read_bytes() == source
    assert png.texts(png.read_chunks(source))["parameters"]
