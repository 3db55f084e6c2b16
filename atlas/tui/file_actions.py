"""Actions on one render's parameters and file: copy a field, the raw metadata, the system viewer,
the full-screen preview. A mixin of `AtlasApp` (it uses `target`, `fail`, `catalogue`)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from atlas.tui.lazy import lazy, lazy_attribute

# Imported on first use, after the first screen (tui/lazy.py).
detail, parameters = lazy("atlas.core.actions.detail"), lazy("atlas.core.actions.parameters")
inspect_file = lazy_attribute("atlas.core.files.inspect", "inspect_file")
ChoiceMenu = lazy_attribute("atlas.tui.screens.dialogs", "ChoiceMenu")
TextDialog = lazy_attribute("atlas.tui.screens.dialogs", "TextDialog")

COPY_CHOICES = [("s", "seed"), ("p", "prompt"), ("n", "negative prompt"), ("a", "all parameters (A1111 text)")]
# The programs that open a file in the desktop's viewer: xdg-open (Linux, BSD), open (macOS).
OPENERS = ("open",) if sys.platform == "darwin" else ("xdg-open",)


def field_of(catalogue, render_id: int, key: str) -> tuple[str, str]:
    """(name, text) of one field of the pass that made the render, as its A1111 text tells it."""
    lineage = detail.show(catalogue, render_id)["record"]["lineage"]
    if not lineage:
        raise LookupError(f"render {render_id} has no recorded pass")
    last = lineage[-1]
    if key == "s":
        if last.get("seed") is None:
            raise LookupError(f"render {render_id} has no seed recorded")
        return "seed", str(last["seed"])
    if key == "p":
        return "prompt", last.get("prompt") or ""
    return "negative prompt", last.get("negative_prompt") or ""


def metadata_text(facts: dict) -> str:
    """What a file carries, as it carries it: the A1111 text, other text chunks, XMP, EXIF, C2PA."""
    parts = [f"{facts['file']}\n{facts['format']}, {facts['width']}x{facts['height']}, "
             f"{facts['size_bytes']:,} bytes, sha256 {facts['sha256']}"]
    if facts.get("parameters"):
        parts.append("parameters (as written):\n" + facts["parameters"]["raw"])
    for key, value in (facts.get("text") or {}).items():
        parts.append(f"text chunk {key}:\n{value}")
    if facts.get("exif_user_comment"):
        parts.append("EXIF UserComment:\n" + facts["exif_user_comment"])
    for key in ("xmp", "record", "c2pa"):
        if facts.get(key):
            parts.append(f"{key}:\n" + json.dumps(facts[key], indent=2, ensure_ascii=False, default=str))
    if facts.get("problems"):
        parts.append("problems:\n" + "\n".join(facts["problems"]))
    return "\n\n".join(parts)


def system_opener() -> str | None:
    return next((found for name in OPENERS if (found := shutil.which(name))), None)


class FileActions:
    def action_copy_parameters(self) -> None:
        render_id = self.target()
        if render_id is None:
            return
        self.push_screen(ChoiceMenu(f"Copy from render {render_id}", COPY_CHOICES),
                         lambda key: self.copy_field(render_id, key) if key else None)

    def copy_field(self, render_id: int, key: str) -> None:
        try:
            if key == "a":
                text = parameters.a1111_parameters(self.catalogue, render_id)
            else:
                name, text = field_of(self.catalogue, render_id, key)
        except Exception as exc:
            self.fail(exc)
            return
        # OSC 52: terminals that allow it put this on the clipboard; no terminal says whether it
        # did, so the text is shown as well (the whole parameters) or named (one field).
        self.copy_to_clipboard(text)
        if key == "a":
            self.push_screen(TextDialog(f"A1111 parameters of render {render_id}", text,
                                        note="sent to the clipboard where the terminal allows it (OSC 52)"))
        else:
            shown = text if len(text) <= 60 else text[:59] + "…"
            self.notify(f"{name} of render {render_id} sent to the clipboard (OSC 52): {shown or '(empty)'}",
                        title="copied")

    def action_metadata(self) -> None:
        render_id = self.target()
        if render_id is None:
            return
        try:
            path = detail.file_path(self.catalogue, render_id)
            text = metadata_text(inspect_file(path))
        except Exception as exc:
            self.fail(exc)
            return
        self.push_screen(TextDialog(f"Metadata in the file of render {render_id}", text,
                                    note="as the file carries it (what its maker wrote)"))

    def target_file(self) -> tuple[int, Path] | None:
        """The target render and its file, or None (the failure already shown)."""
        render_id = self.target()
        if render_id is None:
            return None
        try:
            return render_id, detail.file_path(self.catalogue, render_id)
        except Exception as exc:
            self.fail(exc)
            return None

    def action_open_image(self) -> None:
        found = self.target_file()
        if found is None:
            return
        path = found[1]
        opener = system_opener()
        if opener is None:
            self.notify(f"no system image viewer here ({' or '.join(OPENERS)} is not installed); "
                        f"the file is {path}", title="open image", severity="warning", timeout=10)
            return
        try:  # the viewer outlives neither the TUI's terminal nor its output: detached, quiet
            subprocess.Popen([opener, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            self.fail(exc, "open image failed")
            return
        self.notify(f"opened {path} with {opener}", title="open image")

    def action_fullscreen(self) -> None:
        from atlas.tui.screens.fullscreen import FullScreenPreview

        found = self.target_file()
        if found is not None:
            self.push_screen(FullScreenPreview(*found))
