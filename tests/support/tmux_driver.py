"""Drive a real terminal program in a detached tmux session: send keys, read the screen.

Used by the tmux test and the TUI benchmark; the program runs exactly as a person would run it.
"""

import shlex
import shutil
import subprocess
import time
import uuid


def available() -> bool:
    return shutil.which("tmux") is not None


class Tmux:
    def __init__(self, width: int = 150, height: int = 45):
        self.name = f"atlas-test-{uuid.uuid4().hex[:8]}"
        # A server of our own (-L): other tmux users on the machine cannot disturb it, nor it them.
        self.tmux = ["tmux", "-L", self.name]
        self.width, self.height = width, height
        self.started = False

    def start(self, argv: list[str], env: dict[str, str] | None = None) -> float:
        """Start `argv` in a new session; returns the monotonic time just before it started.
        The pane stays open after the program exits (remain-on-exit) so its last screen can be read."""
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
        command = f"env {exports} {shlex.join(argv)}" if exports else shlex.join(argv)
        subprocess.run([*self.tmux, "new-session", "-d", "-s", self.name, "-x", str(self.width), "-y", str(self.height),
                        "sh"], check=True)
        subprocess.run([*self.tmux, "set-option", "-t", self.name, "remain-on-exit", "on"], check=True)
        self.started = True
        t0 = time.monotonic()
        subprocess.run([*self.tmux, "respawn-pane", "-k", "-t", self.name, command], check=True)
        return t0

    def capture(self) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p", "-t", self.name], check=True, capture_output=True,
                              text=True).stdout

    def keys(self, *keys: str, pause: float = 0.15) -> float:
        """Send tmux key names (Enter, Escape, C-u, ...) one by one; returns the time just before the
        last was sent. `pause` after each: a key that moves the focus takes effect on the next
        event-loop turn, and a person never types faster than that anyway."""
        t0 = time.monotonic()
        for key in keys:
            t0 = time.monotonic()
            subprocess.run([*self.tmux, "send-keys", "-t", self.name, key], check=True)
            if pause:
                # A terminal app reads ESC followed quickly by a key as Alt+key: let it time out.
                time.sleep(max(pause, 0.3) if key == "Escape" else pause)
        return t0

    def type(self, text: str, pause: float = 0.1) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.name, "-l", "--", text], check=True)
        time.sleep(pause)

    def enter_text(self, focus_key: str, text: str, attempts: int = 3, shown_as: str = "▊  {}") -> None:
        """Press `focus_key` (e.g. "/"), clear the field (C-u) and type `text`, until it is on screen.
        Keys sent while a program is still settling (answering the terminal's start-up queries)
        can be dropped; a person would just type again, and so does this."""
        for attempt in range(attempts):
            if attempt:  # a lost focus key sent the text elsewhere: close what it opened first
                self.keys("Escape", "Escape")
            time.sleep(0.2)
            self.keys(focus_key, "C-u")
            self.type(text)
            try:
                self.wait_for(shown_as.format(text), timeout=2)  # in the field, not anywhere on screen
                return
            except TimeoutError:
                continue
        raise TimeoutError(f"could not type {text!r}; the screen:\n{self.capture()}")

    def wait_for(self, text: str, timeout: float = 20.0, since: float | None = None, poll: float = 0.01) -> float:
        """Wait until `text` is on screen; returns the seconds from `since` (or from now) to then."""
        since = time.monotonic() if since is None else since
        deadline = time.monotonic() + timeout
        while True:
            screen = self.capture()
            if text in screen:
                return time.monotonic() - since
            if time.monotonic() > deadline:
                raise TimeoutError(f"{text!r} did not appear within {timeout}s; the screen:\n{screen}")
            time.sleep(poll)

    def wait_gone(self, text: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while text in (screen := self.capture()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{text!r} still on screen after {timeout}s:\n{screen}")
            time.sleep(0.02)

    def dead(self) -> bool:
        """Whether the program in the pane has exited."""
        out = subprocess.run([*self.tmux, "display-message", "-p", "-t", self.name, "#{pane_dead}"],
                             capture_output=True, text=True).stdout.strip()
        return out == "1"

    def wait_dead(self, timeout: float = 10) -> bool:
        """Wait up to `timeout` seconds for the program in the pane to exit; whether it has."""
        deadline = time.monotonic() + timeout
        while not self.dead() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.dead()

    def pid(self) -> int:
        """The process id of the program in the pane."""
        out = subprocess.run([*self.tmux, "display-message", "-p", "-t", self.name, "#{pane_pid}"],
                             capture_output=True, text=True, check=True).stdout
        return int(out.strip())

    def close(self) -> None:
        if self.started:
            subprocess.run([*self.tmux, "kill-server"], capture_output=True)
            self.started = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
