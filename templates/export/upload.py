#!/usr/bin/env python3
"""Upload this atlas export to Wikimedia Commons (or another MediaWiki) with pywikibot.

Each line of batch.jsonl (beside this script) names a file, its file name on the wiki, its
description page (a .wikitext file), an upload summary and its structured data (captions and
statements, applied where the wiki has structured data: Commons does).

    python upload.py --dry-run        # list what would be uploaded; pywikibot is not needed
    python upload.py                  # upload to Commons with your own pywikibot setup (user-config.py)
    ATLAS_UPLOAD_PASSWORD=... python upload.py --site https://wiki.example.org/w/api.php --user Me@atlas
                                      # any wiki, with a bot password (Special:BotPasswords): the
                                      # pywikibot configuration is written to a temporary folder
    python upload.py --depicts Q1234  # also state that every file depicts this Wikidata item

A file already on the wiki with the same content (sha1) is skipped, so a batch can be re-run. A
different file under the same name (a collision) and a failed upload are reported per file.
Exit status: 0 every file uploaded or already there; 1 some failed; 2 bad arguments or batch.
"""

import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse

HERE = Path(__file__).resolve().parent
PASSWORD_ENV = "ATLAS_UPLOAD_PASSWORD"
FAMILY = "atlasupload"  # the family name of a wiki given by URL, in the generated configuration
_QID = re.compile(r"^Q[1-9][0-9]*$")


class BadInput(Exception):
    """Bad arguments or batch: nothing was uploaded (exit status 2)."""


def batch() -> list[dict]:
    try:
        lines = (HERE / "batch.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BadInput(f"cannot read batch.jsonl: {exc}") from None
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            for key in ("path", "wikitext", "filename", "summary"):
                if not isinstance(row[key], str):
                    raise KeyError(key)
        except (ValueError, KeyError) as exc:
            raise BadInput(f"batch.jsonl line {number}: not a batch row ({exc})") from None
        # Paths in the batch are relative to this folder and may not leave it.
        for key in ("path", "wikitext"):
            target = (HERE / row[key]).resolve()
            if target.parent != HERE:
                raise BadInput(f"batch.jsonl: {row[key]!r} is outside {HERE}")
        rows.append(row)
    return rows


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Upload this atlas export with pywikibot.")
    parser.add_argument("--dry-run", action="store_true", help="list what would be uploaded")
    parser.add_argument("--site", default="commons",
                        help="commons (default), a pywikibot site as FAMILY:CODE, or a wiki's api.php URL")
    parser.add_argument("--user", help=f"log in as this bot password login (Name@appid); its password is read "
                                       f"from ${PASSWORD_ENV}. Required with a URL")
    parser.add_argument("--depicts", action="append", default=[], metavar="QID",
                        help="a Wikidata item every file depicts (repeatable)")
    args = parser.parse_args(argv)
    url = urlparse(args.site)
    if url.scheme:
        if url.scheme not in ("http", "https") or not url.netloc:
            parser.error(f"--site {args.site}: not an http(s) URL")
        if not args.user:
            parser.error("--site URL needs --user (a bot password login, Name@appid)")
    elif args.site != "commons" and not re.match(r"^[a-z0-9_-]+:[a-z0-9_-]+$", args.site):
        parser.error(f"--site {args.site}: give commons, FAMILY:CODE or an api.php URL")
    if args.user:
        if "@" not in args.user.strip("@"):
            parser.error(f"--user {args.user}: give the bot password login, Name@appid")
        if not args.dry_run and not os.environ.get(PASSWORD_ENV):
            parser.error(f"--user needs the bot password in ${PASSWORD_ENV}")
    for qid in args.depicts:
        if not _QID.match(qid):
            parser.error(f"--depicts {qid}: not a Wikidata item id (like Q42)")
    return args


def write_config(folder: Path, site: str, login: str, password: str) -> tuple[str, str]:
    """A pywikibot configuration for `site` logged in with a bot password, in `folder` (PYWIKIBOT_DIR).
    Returns the (family, code) to open."""
    user, app_id = login.rsplit("@", 1)
    if urlparse(site).scheme:
        api = site if site.rstrip("/").endswith("api.php") else site.rstrip("/") + "/api.php"
        family = code = FAMILY
        family_line = f"family_files[{FAMILY!r}] = {api!r}\n"
    else:
        family, code = site.split(":", 1) if ":" in site else ("commons", "commons")
        family_line = ""
    (folder / "user-config.py").write_text(
        f"family = {family!r}\nmylang = {code!r}\n{family_line}"
        f"usernames[{family!r}][{code!r}] = {user!r}\n"
        "password_file = 'user-password.py'\nput_throttle = 0\n", encoding="utf-8")
    secret = folder / "user-password.py"
    secret.touch(mode=0o600)
    secret.write_text(f"({user!r}, BotPassword({app_id!r}, {password!r}))\n", encoding="utf-8")
    return family, code


def sha1_of(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def structured_data(row: dict, depicts: list[str]) -> dict | None:
    data = json.loads(json.dumps(row.get("sdc") or {}))  # a copy: depicts are added per run
    stated = {c["mainsnak"].get("datavalue", {}).get("value", {}).get("id") for c in data.get("claims", [])
              if c["mainsnak"]["property"] == "P180"}
    for qid in dict.fromkeys(depicts):
        if qid in stated:
            continue
        data.setdefault("claims", []).append({
            "mainsnak": {"snaktype": "value", "property": "P180", "datavalue": {
                "type": "wikibase-entityid", "value": {"entity-type": "item", "numeric-id": int(qid[1:]), "id": qid}}},
            "type": "statement", "rank": "normal"})
    return data or None


def upload_one(pywikibot, site, row: dict, depicts: list[str], with_sdc: bool) -> bool:
    """Upload one row; prints one line saying what happened; False when it failed."""
    name = row["filename"]
    source = HERE / row["path"]
    try:
        local = sha1_of(source)
        text = (HERE / row["wikitext"]).read_text(encoding="utf-8")
    except OSError as exc:
        print(f"FAILED {name}: cannot read {exc.filename}: {exc.strerror}")
        return False
    page = pywikibot.FilePage(site, "File:" + name)
    remote = None
    if page.exists():
        try:
            remote = page.latest_file_info.sha1
        except pywikibot.exceptions.PageRelatedError:  # a description page without a file
            remote = None
    if remote is not None:
        if remote == local:
            print(f"skip   {name} (already on {site}, same file)")
            return True
        print(f"COLLISION {name}: {site} already has a different file under this name (sha1 {remote})")
        return False
    warnings: list = []

    def refuse(found) -> bool:  # pywikibot hands over the upload's warnings; any of them stops it
        warnings.extend(found)
        return False

    try:
        done = page.upload(str(source), summary=row["summary"], text=text, ignore_warnings=refuse)
    except TypeError:  # pywikibot before 11.8 calls the summary "comment"
        done = page.upload(str(source), comment=row["summary"], text=text, ignore_warnings=refuse)
    except pywikibot.exceptions.APIError as exc:
        print(f"FAILED {name}: {exc.code}: {' '.join(str(exc.info).split())}")
        return False
    except pywikibot.exceptions.Error as exc:
        print(f"FAILED {name}: {' '.join(str(exc).split())}")
        return False
    if not done:
        why = "; ".join(f"{w.code}: {w.message}" for w in warnings) or "the wiki refused it"
        print(f"FAILED {name}: {why}")
        return False
    note = ""
    data = structured_data(row, depicts)
    if data and with_sdc:
        try:
            # A fresh page object: the one above still remembers that the file did not exist.
            fresh = pywikibot.FilePage(site, page.title())
            fresh.data_item().editEntity(data, summary="Structured data from atlas")
            note = " with structured data"
        except pywikibot.exceptions.Error as exc:
            print(f"FAILED {name}: uploaded, but its structured data was refused: {exc}")
            return False
    print(f"done   {name}{note}")
    return True


def upload(rows: list[dict], args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="atlas-pywikibot-") as folder:
        family = code = "commons"
        if args.user:
            # Never the user's home: this run's configuration lives and dies in a temporary folder.
            family, code = write_config(Path(folder), args.site, args.user, os.environ[PASSWORD_ENV])
            os.environ["PYWIKIBOT_DIR"] = folder
        elif ":" in args.site:
            family, code = args.site.split(":", 1)
        import pywikibot

        try:
            site = pywikibot.Site(code, family)
            site.login()
            # Structured data needs the extension, and a site pywikibot drives as Wikibase (Commons is).
            with_sdc = site.has_extension("WikibaseMediaInfo") and hasattr(site, "editEntity")
        except pywikibot.exceptions.Error as exc:
            print(f"cannot log in to {args.site}: {exc}", file=sys.stderr)
            return 1
        if not with_sdc:
            print(f"note: {site} has no structured data (WikibaseMediaInfo): captions and statements are not applied")
        ok = [upload_one(pywikibot, site, row, args.depicts, with_sdc) for row in rows]
        pywikibot.stopme()
    failed = ok.count(False)
    if failed:
        print(f"{failed} of {len(rows)} files failed")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    args = arguments(argv)
    try:
        rows = batch()
    except BadInput as exc:
        print(f"upload.py: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        for row in rows:
            print(f"would upload {row['path']} as File:{row['filename']} ({row['summary']})")
        return 0
    return upload(rows, args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
