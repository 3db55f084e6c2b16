"""The child process of `atlas.tui.graphics.Probe`: imports textual-image, whose import asks the
terminal (shared with the parent) what pictures it can show, and writes what it found as JSON to
the file descriptor named by its one argument.

    python -m atlas.tui.graphics_probe FD
"""

import json
import os
import sys


def found() -> dict:
    import textual_image.renderable as renderable  # the asking happens here, as textual-image does it
    from textual_image._terminal import get_cell_size

    cell = get_cell_size()
    # The class textual-image chose: textual_image.renderable.<sixel|tgp|halfcell|unicode>.Image
    return {"renderer": renderable.Image.__module__.rsplit(".", 1)[-1], "cell_width": cell.width,
            "cell_height": cell.height}


def main(argv: list[str]) -> int:
    try:
        fd = int(argv[0])
    except (IndexError, ValueError):
        print("usage: python -m atlas.tui.graphics_probe FD", file=sys.stderr)
        return 2
    with os.fdopen(fd, "w") as out:
        out.write(json.dumps(found()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
