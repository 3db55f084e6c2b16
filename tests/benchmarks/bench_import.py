"""Benchmark: `atlas import` of many small mixed files against `exiftool -j -r` reading them, in one run.

    python tests/benchmarks/bench_import.py [--files 20000] [--workers N] [--mode copy|link]

The files are a third each: A1111 PNGs (`parameters`), ComfyUI PNGs (API graph in `prompt`, UI
graph in `workflow`) and JPEGs with A1111 text in EXIF UserComment (UTF-16, as A1111 writes it).
Both sides read the same files: exiftool extracts every tag as JSON (its usual "dump the
metadata" use), atlas reads, hashes, parses and catalogues them (copying them into the store
with --mode copy). Prints files per second for each and the ratio (target: >= 1,500 files/s and
ahead of exiftool), then checks every file came in with its tool and seed.
"""

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PIL import Image, PngImagePlugin

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.tables import Pass, Render
from atlas.core.importers.batch import import_paths
from tests.support.import_files import base_graph, user_comment_exif

SAMPLERS = ("Euler a", "Euler", "DPM++ 2M Karras", "DDIM", "UniPC")
KINDS = ("a1111", "comfyui", "jpeg")  # file i is KINDS[i % 3]
TOOLS = {"a1111": "AUTOMATIC1111", "comfyui": "ComfyUI", "jpeg": "AUTOMATIC1111"}


def a1111_text(rng: random.Random, i: int, seed: int) -> str:
    return (f"a {rng.choice(('red', 'blue', 'misty'))} fox number {i}, highly detailed\n"
            f"Negative prompt: blurry, lowres\nSteps: {rng.randint(10, 60)}, Sampler: {rng.choice(SAMPLERS)}, "
            f"CFG scale: {rng.randint(2, 14) / 2}, Seed: {seed}, Size: 512x512, "
            f"Model hash: fe4efff1e1, Model: sd-v1-4, Version: v1.10.1")


def file_seed(i: int) -> int:
    """File i's seed: 15 digits for ComfyUI's (as its random seeds are), 32-bit for A1111's."""
    return 10**14 + i if KINDS[i % 3] == "comfyui" else 1_000_000 + i


def make_files(root: Path, count: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    base = Image.effect_noise((32, 32), 40).convert("RGB")
    workflow = '{"nodes": [], "links": [], "version": 0.4}'
    for i in range(count):
        img = base.copy()
        img.putpixel((i % 32, (i // 32) % 32), (i % 256, (i >> 8) % 256, (i >> 16) % 256))  # unique bytes
        sub = root / f"{i // 1000:03}"
        sub.mkdir(exist_ok=True)
        kind = KINDS[i % 3]
        if kind == "jpeg":
            img.save(sub / f"{i:06}.jpg", exif=user_comment_exif(a1111_text(rng, i, file_seed(i))), quality=90)
            continue
        info = PngImagePlugin.PngInfo()
        if kind == "a1111":
            info.add_text("parameters", a1111_text(rng, i, file_seed(i)))
        else:
            graph = base_graph(seed=file_seed(i))
            graph["6"]["inputs"]["text"] = f"a fox number {i}"
            info.add_text("prompt", json.dumps(graph))
            info.add_text("workflow", workflow)
        img.save(sub / f"{i:06}.png", pnginfo=info, compress_level=1)


def cpu_seconds() -> float:
    """User + system CPU time of this process and its reaped children (exiftool, the import's workers):
    on a loaded machine wall time measures the other load too; CPU time is the work itself."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def check(home: Path, count: int) -> None:
    """Every file imported with its own tool and seed (the file number is in its name)."""
    from sqlmodel import select

    catalogue = Catalogue.open(home)
    with catalogue.session() as session:
        rows = session.exec(select(Render.source_path, Render.tool, Pass.seed)
                            .join(Pass, Pass.render_id == Render.id)).all()
    catalogue.close()
    assert len(rows) == count, len(rows)
    for path, tool, seed in rows:
        i = int(Path(path).stem)
        assert (tool, seed) == (TOOLS[KINDS[i % 3]], file_seed(i)), (path, tool, seed)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--mode", choices=("copy", "link"), default="copy")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="atlas-bench-import-"))
    try:
        src = work / "renders"
        t0 = time.perf_counter()
        make_files(src, args.files)
        print(f"made {args.files:,} files (A1111 PNG, ComfyUI PNG, JPEG EXIF) in {time.perf_counter() - t0:.0f} s",
              flush=True)

        exiftool = shutil.which("exiftool")
        t_exif = None
        if exiftool:
            t0, c0 = time.perf_counter(), cpu_seconds()
            out = subprocess.run([exiftool, "-j", "-r", "-q", str(src)], capture_output=True, check=False)
            t_exif, c_exif = time.perf_counter() - t0, cpu_seconds() - c0
            assert out.stdout.count(b'"SourceFile"') == args.files, "exiftool did not read every file"
            print(f"exiftool -j -r: {t_exif:.1f} s, {args.files / t_exif:,.0f} files/s; "
                  f"{c_exif:.1f} CPU s, {args.files / c_exif:,.0f} files per CPU s", flush=True)

        catalogue = Catalogue.open(work / "home")
        t0, c0 = time.perf_counter(), cpu_seconds()
        report = import_paths(catalogue, [src], recursive=True, mode=args.mode, workers=args.workers)
        t_atlas, c_atlas = time.perf_counter() - t0, cpu_seconds() - c0
        catalogue.close()
        assert len(report.imported) == args.files, report.to_dict()["counts"]
        print(f"atlas import ({args.mode}, {args.workers or os.cpu_count()} workers): {t_atlas:.1f} s, "
              f"{args.files / t_atlas:,.0f} files/s (target >= 1,500); {c_atlas:.1f} CPU s, "
              f"{args.files / c_atlas:,.0f} files per CPU s")
        if t_exif:
            print(f"ratio atlas/exiftool: files per second {t_exif / t_atlas:.2f}, "
                  f"files per CPU second {c_exif / c_atlas:.2f} (target > 1)")
        check(work / "home", args.files)
        print("checked: every file imported with its own tool and seed")

        catalogue = Catalogue.open(work / "home")
        t0 = time.perf_counter()
        again = import_paths(catalogue, [src], recursive=True, mode=args.mode, workers=args.workers)
        t_again = time.perf_counter() - t0
        catalogue.close()
        print(f"re-import of the unchanged tree: {t_again:.1f} s, {args.files / t_again:,.0f} files/s "
              f"({len(again.skipped):,} skipped)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
