"""exiftool as an independent reader of the files atlas writes."""

import json
import shutil
import subprocess

import pytest


def exiftool(path, *options: str) -> dict:
    """Every tag exiftool finds in `path`, grouped by location (`-G1`), structures kept; `-b` gives long
    values too (exiftool otherwise shows a placeholder for any value past a few kilobytes)."""
    if shutil.which("exiftool") is None:
        pytest.fail("exiftool is not installed (Debian: libimage-exiftool-perl)")
    out = subprocess.run(["exiftool", "-j", "-G1", "-struct", *options, str(path)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)[0]
