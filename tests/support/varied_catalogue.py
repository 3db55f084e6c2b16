"""A catalogue with a little of everything the search language looks at, written with sqlite3 in
bulk (fast): atlas and imported renders, earlier import passes (a hires fix), lineages of
img2img/upscale/outpaint, failed passes, tools' own spellings of samplers and schedules in
settings, ratings, hidden renders, tags, linked files, missing values. Deterministic per seed."""

import json
import random
import sqlite3
from datetime import UTC, datetime, timedelta

SAMPLERS = ("Euler", "Euler a", "DPM++ 2M", "DPM++ 2M Karras", "DDIM", "euler_ancestral", "dpmpp_2m", None)
SCHEDULES = ("Karras", "karras", "exponential", "Automatic", None)
WORDS = ("fox", "red", "castle", "night", "misty", "forest", "city", "neon", "über", "100%", "snake_case", "a*b")
TOOLS = ("atlas", "atlas", "ComfyUI", "AUTOMATIC1111", "InvokeAI")
TAGS = ("best", "wip", "print", "Best", "x_y")
TIME = "%Y-%m-%d %H:%M:%S.%f"


def fill(path, count: int = 600, seed: int = 3) -> None:
    """Add `count` renders to the (migrated) SQLite catalogue at `path`."""
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    licences = [row[0] for row in conn.execute("SELECT id FROM licence ORDER BY id")][:4] + [None]
    models = []
    for i, name in enumerate(("sd15", "SDXL base", "dream_shaper")):
        digest = f"{rng.getrandbits(256):064x}"
        cur = conn.execute("INSERT INTO model (name, kind, source, format, sha256, short_hash, licence_id, demo,"
                           " config, added) VALUES (?, 'checkpoint', ?, 'diffusers', ?, ?, ?, 0, '{}', ?)",
                           (name, name, digest, digest[:10], licences[i % 3], "2026-01-01 00:00:00.000000"))
        models.append(cur.lastrowid)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    made: list[int] = []
    for i in range(count):
        created = (start + timedelta(hours=rng.randrange(24 * 500), seconds=rng.randrange(3600))).strftime(TIME)
        w, h = rng.choice(((512, 512), (768, 512), (512, 768), (1024, 1024)))
        tool = rng.choice(TOOLS)
        linked = rng.random() < 0.1
        cur = conn.execute(
            "INSERT INTO render (sha256, format, width, height, size_bytes, created, author, licence_id, tool,"
            " store_path, linked_path, rating, hidden) VALUES (?, 'png', ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)",
            (f"{rng.getrandbits(256):064x}", w, h, created, rng.choice(("ann", "Bob", None)), rng.choice(licences),
             tool, None if linked else f"ab/cd/{i}.png", f"/pictures/{i}.png" if linked else None,
             rng.choice((None, None, 1, 3, 4, 5)), int(rng.random() < 0.15)))
        render_id = cur.lastrowid
        prompt = " ".join(rng.sample(WORDS, rng.randint(1, 4)))
        negative = rng.choice(("", "blurry", "lowres fox"))
        settings: dict = {}
        if rng.random() < 0.5:
            settings["rng"] = rng.choice(("CPU", "GPU", "NV"))
        if tool != "atlas":
            kind, source, model = "import", None, None
            settings.update({"model": rng.choice(("sd15", "imported-x", "Pony v6")),
                             "model_hash": f"{rng.getrandbits(40):010x}"})
            if rng.random() < 0.5:
                settings["schedule_type"] = rng.choice(SCHEDULES)
            if rng.random() < 0.3:
                settings["sampler_original"] = rng.choice(("euler_ancestral", "k_dpmpp_2m", "Euler a"))
        else:
            kind = rng.choice(("txt2img", "txt2img", "img2img", "upscale", "outpaint")) if made else "txt2img"
            source = rng.choice(made) if kind != "txt2img" else None
            model = rng.choice(models + [None])
        sampler = rng.choice(SAMPLERS)
        values = (kind, render_id, source, prompt, negative, rng.choice((rng.getrandbits(63), rng.randrange(10), None)),
                  sampler, rng.choice((20, 30, None)), rng.choice((7.0, 7.5, 5, None)),
                  rng.choice((None, 0.5, 0.75)) if source else None, json.dumps(settings), model)
        if rng.random() < 0.05:  # a failed attempt first: never the producer
            conn.execute("INSERT INTO pass (kind, status, render_id, input_render_id, prompt, negative_prompt, seed,"
                         " sampler, steps, cfg, denoise, settings, model_id, software, started)"
                         " VALUES (?, 'failed', NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?)",
                         (*values[:1], *values[2:], created))
        conn.execute("INSERT INTO pass (kind, status, render_id, input_render_id, prompt, negative_prompt, seed,"
                     " sampler, steps, cfg, denoise, settings, model_id, software, started)"
                     " VALUES (?, 'completed', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?)", (*values, created))
        if rng.random() < 0.4:  # what a finished pass and an import keep besides
            ended = (datetime.fromisoformat(created) + timedelta(seconds=rng.random() * 9)).strftime(TIME)
            raw = json.dumps({"parameters": prompt, "Software": tool}) if kind == "import" else None
            conn.execute("UPDATE pass SET ended = ?, raw_metadata = ?, device = 'cuda', software = ? "
                         "WHERE render_id = ? AND status = 'completed'",
                         (ended, raw, json.dumps({"atlas": "0.1"}), render_id))
        if kind == "import" and rng.random() < 0.3:  # a hires fix: the earlier sampling pass, as import records it
            conn.execute("INSERT INTO pass (kind, status, render_id, position, prompt, negative_prompt, seed, sampler,"
                         " steps, cfg, settings, software, started) VALUES ('import', 'completed', ?, 0, ?, '', ?, ?,"
                         " ?, ?, ?, '{}', ?)",
                         (render_id, "earlier " + prompt, rng.randrange(10), rng.choice(SAMPLERS), 12, 4.0,
                          json.dumps({"model": "early-model", "schedule_type": rng.choice(SCHEDULES)}), created))
        for tag in rng.sample(TAGS, rng.choice((0, 0, 1, 2))):
            conn.execute("INSERT OR IGNORE INTO tag (render_id, name) VALUES (?, ?)", (render_id, tag))
        made.append(render_id)
    conn.commit()
    conn.close()
