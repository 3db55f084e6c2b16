"""A throwaway MediaWiki on loopback: Debian's `mediawiki` package, installed on SQLite into a temp
folder by `maintenance/install.php`, served by `php -S`, with uploads on and a bot password.

Each pytest-xdist worker starts its own wiki (own folder, own free port). Nothing is written outside
the temp folder: the package's code is used in place (/usr/share/mediawiki) and the settings file is
handed to it through MW_CONFIG_FILE.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MEDIAWIKI = Path("/usr/share/mediawiki")
ADMIN = "Admin"
APP_ID = "atlas"
# What upload.py needs (Special:BotPasswords' grant names).
GRANTS = "basic,highvolume,editpage,createeditmovepage,uploadfile,uploadeditmovefile"
FILE_EXTENSIONS = ("png", "jpg", "jpeg", "webp")


@dataclass(frozen=True)
class Wiki:
    url: str  # the server, no trailing slash
    user: str  # the account behind the bot password
    app_id: str
    bot_password: str
    folder: Path

    @property
    def api(self) -> str:
        return f"{self.url}/api.php"

    def query(self, **params) -> dict:
        """GET api.php with `params` (anonymous, plain urllib: independent of pywikibot)."""
        data = urllib.parse.urlencode({**params, "format": "json", "formatversion": "2"})
        with urllib.request.urlopen(f"{self.api}?{data}", timeout=30) as response:
            return json.load(response)


def missing() -> str | None:
    """Why no wiki can be started here (a package is missing), or None."""
    if shutil.which("php") is None:
        return "php is not installed (apt-get install php-cli php-sqlite3 mediawiki)"
    if not (MEDIAWIKI / "maintenance" / "install.php").is_file():
        return f"MediaWiki is not installed at {MEDIAWIKI} (apt-get install mediawiki)"
    probe = subprocess.run(["php", "-r", "exit(class_exists('SQLite3') && extension_loaded('pdo_sqlite') ? 0 : 1);"],
                           capture_output=True)
    if probe.returncode != 0:
        return "PHP has no SQLite support (apt-get install php-sqlite3)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _php(folder: Path, *args: str) -> str:
    env = {**os.environ, "MW_CONFIG_FILE": str(folder / "LocalSettings.php")}
    done = subprocess.run(["php", *args], cwd=MEDIAWIKI, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"php {' '.join(args[:1])} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _settings(folder: Path) -> str:
    extensions = ", ".join(f"'{e}'" for e in FILE_EXTENSIONS)
    return f"""
# Added by tests/support/mediawiki.py
require '{folder}/server.php';  # $wgServer: its port is chosen when the server starts
$wgEnableUploads = true;
$wgFileExtensions = [ {extensions} ];
$wgUploadDirectory = '{folder}/images';
$wgUploadPath = '/images';
$wgTmpDirectory = '{folder}/tmp';
$wgCacheDirectory = '{folder}/cache';
$wgUseImageMagick = false;
$wgMainCacheType = CACHE_NONE;
$wgSessionCacheType = CACHE_DB;  # logins must outlive the request
$wgJobRunRate = 0;
$wgRateLimits = [];
$wgGroupPermissions['user']['noratelimit'] = true;
$wgShowExceptionDetails = true;
"""


def _set_port(folder: Path, port: int) -> None:
    (folder / "server.php").write_text(f"<?php\n$wgServer = 'http://127.0.0.1:{port}';\n", encoding="utf-8")


def install(folder: Path, port: int) -> str:
    """Install MediaWiki on SQLite into `folder`; returns the bot password of `ADMIN`@`APP_ID`."""
    for sub in ("images", "tmp", "cache"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    _php(folder, "maintenance/install.php", "--dbtype", "sqlite", "--dbpath", str(folder / "db"),
         "--dbname", "wiki", "--server", f"http://127.0.0.1:{port}", "--scriptpath", "",
         "--pass", "Atlas-test-admin-pass-1", "--confpath", str(folder), "--lang", "en", "--quiet",
         "Atlas test wiki", ADMIN)
    with open(folder / "LocalSettings.php", "a", encoding="utf-8") as fh:
        fh.write(_settings(folder))
    _set_port(folder, port)
    bot_password = "atlasbotpassword0123456789abcdef"  # the bot password format: 32 characters
    _php(folder, "maintenance/createBotPassword.php", "--appid", APP_ID, "--grants", GRANTS, ADMIN, bot_password)
    return bot_password


def _wait_until_up(api: str, server: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"php -S exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{api}?action=query&meta=siteinfo&format=json", timeout=5) as r:
                if "query" in json.load(r):
                    return
        except (OSError, ValueError):
            time.sleep(0.1)
    raise RuntimeError(f"{api} did not answer in time")


def _stop(server: subprocess.Popen, sig: int) -> None:
    """Signal the server's whole process group, then make sure it is gone."""
    for attempt_sig in (sig, signal.SIGKILL):
        try:
            os.killpg(server.pid, attempt_sig)
        except ProcessLookupError:
            pass
        try:
            server.wait(timeout=10)
            break
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(server.pid, signal.SIGKILL)  # workers that ignored SIGTERM after the first exited
    except ProcessLookupError:
        pass


@contextmanager
def wiki(attempts: int = 3) -> Iterator[Wiki]:
    """Install and serve a wiki; yield it; stop the server and remove its folder afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="atlas-mediawiki-"))
    server = None
    try:
        port = _free_port()
        password = install(folder, port)
        # A port found free can be taken by another process before the server binds it.
        for attempt in range(attempts):
            if attempt:
                port = _free_port()
                _set_port(folder, port)
            env = {**os.environ, "MW_CONFIG_FILE": str(folder / "LocalSettings.php"), "PHP_CLI_SERVER_WORKERS": "2"}
            with open(folder / "server.log", "wb") as log:
                # Its own process group: with PHP_CLI_SERVER_WORKERS the server forks workers, which
                # outlive a signal sent to the first process alone.
                server = subprocess.Popen(["php", "-S", f"127.0.0.1:{port}", "-t", str(MEDIAWIKI)], cwd=MEDIAWIKI,
                                          env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                _wait_until_up(f"http://127.0.0.1:{port}/api.php", server, time.monotonic() + 30)
                break
            except RuntimeError as exc:
                _stop(server, signal.SIGKILL)
                server = None
                if attempt == attempts - 1:
                    log_text = (folder / "server.log").read_text(errors="replace")
                    raise RuntimeError(f"php -S did not start: {exc}\n{log_text}") from None
        yield Wiki(f"http://127.0.0.1:{port}", ADMIN, APP_ID, password, folder)
    finally:
        if server is not None:
            _stop(server, signal.SIGTERM)
        shutil.rmtree(folder, ignore_errors=True)
