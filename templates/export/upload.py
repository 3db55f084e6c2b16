#!/usr/bin/env python3
"""Upload this atlas export to Wikimedia Commons with pywikibot.

Each line of batch.jsonl (beside this script) names a file, its Commons file name, its description
page (a .wikitext file) and an upload summary. Files that already exist on Commons are skipped.
Needs pywikibot configured with a logged-in Commons account (user-config.py).

    python upload.py            # upload every file of the batch
    python upload.py --dry-run  # list what would be uploaded; pywikibot is not needed
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def batch() -> list[dict]:
    rows = []
    for line in (HERE / "batch.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            # Paths in the batch are relative to this folder and may not leave it.
            for key in ("path", "wikitext"):
                target = (HERE / row[key]).resolve()
                if target.parent != HERE:
                    raise SystemExit(f"batch.jsonl: {row[key]!r} is outside {HERE}")
            rows.append(row)
    return rows


def upload(rows: list[dict]) -> int:
    import pywikibot

    site = pywikibot.Site("commons", "commons")
    site.login()
    failed = 0
    for row in rows:
        page = pywikibot.FilePage(site, "File:" + row["filename"])
        if page.exists():
            print(f"skip   {row['filename']} (already on Commons)")
            continue
        text = (HERE / row["wikitext"]).read_text(encoding="utf-8")
        source = str(HERE / row["path"])
        try:
            done = page.upload(source, summary=row["summary"], text=text, ignore_warnings=False)
        except TypeError:  # pywikibot before 11.8 calls the summary "comment"
            done = page.upload(source, comment=row["summary"], text=text, ignore_warnings=False)
        print(f"{'done' if done else 'FAILED':<6} {row['filename']}")
        failed += not done
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    rows = batch()
    if "--dry-run" in argv:
        for row in rows:
            print(f"would upload {row['path']} as File:{row['filename']} ({row['summary']})")
        return 0
    return upload(rows)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
