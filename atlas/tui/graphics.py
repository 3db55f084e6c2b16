"""Which pictures the terminal can show, asked once before Textual takes the terminal; textual-image
loaded later, off the first screen, without asking again.

textual-image asks the terminal when it is imported (sixel? kitty graphics? the cell size in
pixels) and reads the answers from stdin, so that import must happen before Textual reads stdin;
it also loads numpy, about half a minimal Textual app's start-up. So `atlas tui`:
1. starts `atlas.tui.graphics_probe` in a child process that imports textual-image against the
   same terminal and hands back what it found: the asking runs beside the app's own start-up, on
   another core, and the app never loads numpy before its first screen (`--images halfcell` needs
   no answers and starts no child);
2. gives the answers to `use()`;
3. imports textual-image on first need, in a preview's worker (`widget_class`): its import-time
   questions are skipped (stdout reads as no terminal for that moment) and its cell size comes
   from the answers, so nothing is written to the terminal Textual now owns.
"""

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass

RENDERERS = ("sixel", "tgp", "halfcell", "unicode")
PROBE_TIMEOUT_S = 10.0  # the child's own questions time out after 0.1 s each; this bounds a hung child


@dataclass(frozen=True)
class Answers:
    renderer: str  # one of RENDERERS: what textual-image chose for this terminal
    cell_width: int  # pixels
    cell_height: int


_answers: Answers | None = None
_classes: dict[str, type] = {}
_lock = threading.Lock()


def default_mode() -> str:
    """The picture mode when --images is not given: "auto" (ask the terminal) or "halfcell"."""
    return os.environ.get("ATLAS_TUI_IMAGES", "auto")


def use(answers: Answers | None) -> None:
    """The terminal's answers (None: not asked) for every image widget made from now on."""
    global _answers
    _answers = answers


class Probe:
    """The child process asking the terminal; `answers()` waits for it (before Textual starts)."""

    def __init__(self, mode: str):
        self.child: subprocess.Popen | None = None
        self.read_end: int | None = None
        self.terminal_mode: list | None = None  # stdin's termios settings before the child ran
        if mode == "halfcell" or not _is_terminal():
            return  # half blocks need no answers; without a terminal there is nobody to ask
        self.terminal_mode = _terminal_mode()
        read_end, write_end = os.pipe()
        try:
            # -P as this process had it: the child imports the same atlas, never one in the current folder
            safe_path = ["-P"] if sys.flags.safe_path else []
            self.child = subprocess.Popen([sys.executable, *safe_path, "-m", "atlas.tui.graphics_probe",
                                           str(write_end)], pass_fds=(write_end,), stderr=subprocess.DEVNULL)
        except OSError:
            os.close(read_end)
        else:
            self.read_end = read_end
        finally:
            os.close(write_end)

    def answers(self) -> Answers | None:
        """What the child found, or None when it found nothing (pictures then fall back to half blocks)."""
        if self.child is None or self.read_end is None:
            return None
        with os.fdopen(self.read_end, "rb") as pipe:
            try:
                self.child.wait(PROBE_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.child.kill()
                self.child.wait()
                self._restore_terminal()  # a child killed while asking leaves the terminal raw
                return None
            return parse(pipe.read(4096))

    def _restore_terminal(self) -> None:
        if self.terminal_mode is not None:
            import termios

            termios.tcsetattr(sys.__stdin__.fileno(), termios.TCSANOW, self.terminal_mode)  # type: ignore[union-attr]


def parse(data: bytes) -> Answers | None:
    """The child's report (JSON); None for anything that is not a whole, sane one."""
    try:
        found = json.loads(data)
        answers = Answers(str(found["renderer"]), int(found["cell_width"]), int(found["cell_height"]))
    except (ValueError, KeyError, TypeError):
        return None
    if answers.renderer not in RENDERERS or not (0 < answers.cell_width < 1000 and 0 < answers.cell_height < 1000):
        return None
    return answers


def widget_class(mode: str) -> type:
    """The textual-image widget class for `mode` ("halfcell", or "auto": the terminal's best);
    imports textual-image the first time (in a worker thread: it takes a while)."""
    with _lock:
        if mode not in _classes:
            _classes[mode] = _load(mode)
        return _classes[mode]


def _load(mode: str) -> type:
    quiet = "textual_image" not in sys.modules and _is_terminal()
    if quiet:  # Textual owns the terminal by now: import asking nothing
        _import_quietly((_answers.cell_width, _answers.cell_height) if _answers else _kernel_cell_size())
    import textual_image.widget as widgets  # imported above, or earlier, or with no terminal (tests)

    if mode == "halfcell":
        return widgets.HalfcellImage
    if _answers is not None:
        return {"sixel": widgets.SixelImage, "tgp": widgets.TGPImage, "halfcell": widgets.HalfcellImage,
                "unicode": widgets.UnicodeImage}[_answers.renderer]
    # Not asked, or no answer: half blocks work in any terminal; with no terminal at all (tests, a
    # pipe), textual-image's own choice.
    return widgets.HalfcellImage if quiet else widgets.Image


class _NotATerminal:
    """sys.__stdout__ for the moment textual-image is imported: says it is no terminal, so the
    import asks nothing; all else goes to the real stdout."""

    def __init__(self, real):
        self._real = real

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name):
        return getattr(self._real, name)


def _import_quietly(cell_size: tuple[int, int] | None) -> None:
    if cell_size is not None:  # read by textual-image when it finds no terminal (as for textual-serve)
        os.environ.setdefault("TEXTUAL_CELL_WIDTH", str(cell_size[0]))
        os.environ.setdefault("TEXTUAL_CELL_HEIGHT", str(cell_size[1]))
    real = sys.__stdout__
    sys.__stdout__ = _NotATerminal(real)  # type: ignore[misc]
    try:
        import textual_image.widget  # noqa: F401
    finally:
        sys.__stdout__ = real  # type: ignore[misc]


def _terminal_mode() -> list | None:
    try:
        import termios

        return termios.tcgetattr(sys.__stdin__.fileno())  # type: ignore[union-attr]
    except Exception:  # stdin is no terminal (termios.error), or closed, or no termios here
        return None


def _is_terminal() -> bool:
    stream = sys.__stdout__
    return bool(stream is not None and stream.isatty())


def _kernel_cell_size() -> tuple[int, int] | None:
    """Cell pixels from the window size the kernel keeps for the terminal (TIOCGWINSZ), when the
    terminal filled in its pixel size (many do not: None). Asks the terminal nothing."""
    try:
        import fcntl
        import struct
        import termios

        rows, columns, width, height = struct.unpack(
            "HHHH", fcntl.ioctl(sys.__stdout__.fileno(), termios.TIOCGWINSZ, bytes(8)))  # type: ignore[union-attr]
    except (OSError, ImportError, AttributeError, ValueError):
        return None
    if not (rows and columns and width and height):
        return None
    return width // columns, height // rows
