"""Benchmark: exporting 1,000 renders to a Commons batch, against copying the same files.

The catalogue holds reference workflows (txt2img + fourteen outpaint + two upscale passes, each
render a real PNG with its record), so most pages tell a 17-pass lineage. Baselines measured in
the same run: copying the 1,000 stored files into a folder (the least any export does), and
building the 1,000 provenance records (the catalogue reads an export cannot avoid).

    python tests/benchmarks/bench_export.py [--renders 1000] [--formats png,jpg]
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=1000)
    parser.add_argument("--formats", default="png,jpg", help="comma-separated: png, jpg, webp")
    args = parser.parse_args()

    from atlas.core.catalogue import Catalogue
    from atlas.core.catalogue.tables import Render
    from atlas.core.commons.export import export
    from atlas.core.record.build import build
    from atlas.core.record.write import RenderInfo
    from tests.support.reference_lineage import build_reference, register_models

    work = Path(tempfile.mkdtemp(prefix="atlas-bench-export-"))
    try:
        catalogue = Catalogue.open(work / "home")
        started = time.perf_counter()
        models, ids = register_models(catalogue), []
        while len(ids) < args.renders:
            full = args.renders - len(ids) >= 17
            renders = build_reference(catalogue, RenderInfo(title=f"City {len(ids)}", licence_id="CC-BY-SA-4.0"),
                                      seed=len(ids), models=models, full=full)
            ids += [r.id for r in renders][: args.renders - len(ids)]
        print(f"built {len(ids)} renders in {time.perf_counter() - started:.1f} s")

        with catalogue.session() as session:
            paths = [catalogue.store.path_of(session.get(Render, i).store_path) for i in ids]
        started = time.perf_counter()
        copy_dir = work / "copy"
        copy_dir.mkdir()
        for n, path in enumerate(paths):
            shutil.copyfile(path, copy_dir / f"{n}.png")
        copy_s = time.perf_counter() - started

        started = time.perf_counter()
        with catalogue.session() as session:
            for i in ids:
                build(session, session.get(Render, i))
        records_s = time.perf_counter() - started

        print(f"baseline copy of the files:    {copy_s:.2f} s")
        print(f"baseline build of the records: {records_s:.2f} s")
        for fmt in args.formats.split(","):
            started = time.perf_counter()
            rows = export(catalogue, ids, work / f"export-{fmt}", fmt)
            export_s = time.perf_counter() - started
            assert len(rows) == len(ids)
            size = sum(p.stat().st_size for p in (work / f"export-{fmt}").iterdir())
            print(f"export of {len(ids)} renders ({fmt}): {export_s:.2f} s ({1000 * export_s / len(ids):.1f} ms per "
                  f"render, {size / 1e6:.1f} MB written); export/copy = {export_s / copy_s:.1f}x, "
                  f"export/records = {export_s / records_s:.2f}x")
        catalogue.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
