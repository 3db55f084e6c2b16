"""Drive the CLI in-process with random arguments and random files (run as a child: see tests/test_cli_fuzz.py).

    python -m tests.support.cli_fuzz SEED CASES WORKDIR

Each case is `atlas COMMAND [SUB] ARGS...` built from the command's own options (read from click),
values drawn from a pool of awkward ones (huge, negative, NaN, control characters, empty) and paths
to files made here: random bytes, truncated and odd PNG/JPEG/WebP files, folders, a FIFO. Prints one
JSON line: the number of cases, and each failure (a traceback, an exit code outside 0/1/2, a case
slower than CASE_SECONDS) with its arguments, so a failure can be replayed by hand.

The commands that run the engine (generate, demo, run, img2img, outpaint, upscale) and the TUI are
left out: a valid random setting would start a real generation. Their settings are refused before
torch loads, which tests/test_hostile_options.py checks case by case.
"""

import contextlib
import importlib
import io
import json
import os
import random
import sys
import time
import traceback
import zlib
from pathlib import Path

import click

ENGINE_COMMANDS = {"generate", "demo", "run", "img2img", "outpaint", "upscale", "tui"}
CASE_SECONDS = 20.0
AWKWARD = ["", " ", "0", "1", "2", "-1", "3.5", "nan", "inf", "-inf", "1e309", "99999999999999999999",
           "-99999999999999999999", "0x10", "abc", "\x1b[2J", "a\x00b", "\u202e", "🦊", "%s%n", "a/../b",
           "{title!r}", "{", "OR", "-", "--", "(", "seed:1", "cfg:inf", "steps:1..0", 'prompt:"', "tag:*",
           "sort:-seed", "+x", "-x", "de=Hallo", "=", "768x512", "0x0", "png", "jpg", "webp", "CON"]


def make_files(root: Path, rng: random.Random) -> list[str]:
    """Awkward inputs in `root`; returns their paths (plus some that do not exist)."""
    from tests.support.pngs import small_png, text_png

    root.mkdir(parents=True, exist_ok=True)
    made: dict[str, bytes] = {
        "empty.png": b"",
        "random.bin": rng.randbytes(4096),
        "sig-only.png": b"\x89PNG\r\n\x1a\n",
        "good.png": small_png(8, 8),
        "params.png": text_png(),
        "truncated.png": text_png()[:-20],
        "flipped.png": bytes(b ^ (0xFF if i == 40 else 0) for i, b in enumerate(text_png())),
        "fake.jpg": b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00" + rng.randbytes(64),
        "fake.webp": b"RIFF\x20\x00\x00\x00WEBPVP8X" + rng.randbytes(24),
        "bomb.png": _ztxt_png(small_png(8, 8)),
        "recipe.yaml": b"txt2img: {prompt: x}\n",
        "notes.txt": b"plain text \x1b[31m\n",
    }
    paths = []
    for name, data in made.items():
        (root / name).write_bytes(data)
        paths.append(str(root / name))
    (root / "folder").mkdir(exist_ok=True)
    (root / "folder" / "inner.png").write_bytes(text_png())
    fifo = root / "fifo.png"
    if not fifo.exists():
        os.mkfifo(fifo)
    return [*paths, str(root / "folder"), str(fifo), str(root / "missing.png"), "/dev/zero", "/proc/self/mem"]


def _ztxt_png(base: bytes) -> bytes:
    from atlas.core.files import png

    body = zlib.compress(b"a" * (4 << 20), 9)
    return png.with_text(base, [png.Chunk(b"zTXt", f"z{i}".encode() + b"\0\0" + body) for i in range(8)])


def commands() -> dict[str, click.Command]:
    from atlas.cli.main import COMMANDS

    found = {}
    for name, target in COMMANDS.items():
        if name in ENGINE_COMMANDS:
            continue
        module, _, attr = target.partition(":")
        found[name] = getattr(importlib.import_module(module), attr)
    return found


def value(rng: random.Random, files: list[str], out: Path, option: str | None = None) -> str:
    roll = rng.random()
    if option == "--to" and roll < 0.5:
        # Exports land apart from the inputs: importing exports back would grow the catalogue each round.
        return str(out / rng.choice(["x", "", "a/b", "c/.."]))
    if roll < 0.4:
        return rng.choice(files)
    if roll < 0.55:
        # No "/": a random path could name a real folder, and `import -r /` would walk the whole disk.
        return "".join(rng.choice("ab1 :*-\"'()\x07\x1b\n\\.") for _ in range(rng.randint(0, 12)))
    return rng.choice(AWKWARD)


def case(rng: random.Random, table: dict[str, click.Command], files: list[str], out: Path) -> list[str]:
    name = rng.choice(sorted(table))
    command, argv = table[name], [name]
    if isinstance(command, click.Group):
        sub = rng.choice([*sorted(command.commands), "nope"])
        argv.append(sub)
        command = command.commands.get(sub, command)
    options = [p for p in command.params if isinstance(p, click.Option)]
    for _ in range(rng.randint(0, 4)):
        if options and rng.random() < 0.6:
            option = rng.choice(options)
            flag = rng.choice(option.opts)
            argv.append(flag)
            if not option.is_flag:
                argv.append(value(rng, files, out, flag))
        else:
            argv.append(value(rng, files, out))
    if rng.random() < 0.05:
        argv.append("--help")
    return argv


def run_case(argv: list[str]) -> tuple[int | None, str]:
    from atlas.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except BaseException:  # anything escaping main is a failure of atlas, whatever it is
        return None, traceback.format_exc()
    return code, err.getvalue()


def fuzz(seed: int, count: int, workdir: Path) -> dict:
    rng = random.Random(seed)
    os.environ["ATLAS_HOME"] = str(workdir / "home")
    os.environ.pop("ATLAS_DATABASE_URL", None)
    files = make_files(workdir / "files", rng)
    out = workdir / "out"
    table = commands()
    failures = []
    slowest = 0.0
    for _ in range(count):
        argv = case(rng, table, files, out)
        start = time.monotonic()
        code, err = run_case(argv)
        took = time.monotonic() - start
        slowest = max(slowest, took)
        if code not in (0, 1, 2) or "Traceback" in err or took > CASE_SECONDS:
            failures.append({"argv": argv, "code": code, "seconds": round(took, 2), "stderr": err[-1500:]})
    return {"cases": count, "failures": failures, "slowest_s": round(slowest, 2)}


if __name__ == "__main__":
    seed, count, workdir = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    print(json.dumps(fuzz(seed, count, workdir), ensure_ascii=True))
