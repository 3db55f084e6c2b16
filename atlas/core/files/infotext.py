"""A1111 "infotext": the `parameters` text that A1111's PNG Info, Civitai and readers understand.

Layout: the prompt; a `Negative prompt: ...` line when there is one; then one line of
`Key: value` pairs joined by ", ". A value holding `,`, `:` or a newline is written as a JSON string.

Reading follows A1111's rules: lines are stripped; the first line starting with `Negative prompt:`
ends the prompt; the last line holds the parameters only when it has at least three `key: value`
pairs (otherwise it belongs to the prompt); a value in double quotes is a JSON string. Beyond
A1111: a value that is a whole JSON list or object (Civitai's `Civitai resources: [...]`) is read
as one value although it holds commas.

What the format cannot carry (A1111 strips every line): leading or trailing blanks on a line, a
prompt that starts with a blank line, and a prompt line that itself starts with `Negative prompt:`.
The atlas record in the file keeps the exact prompt; the infotext is for other tools.
"""

import json
import re

NEGATIVE = "Negative prompt:"
# One `Key: value` pair: a key of word characters, spaces, `-` and `/`; a value that is either a
# JSON string or anything up to the next comma.
PAIR = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
SIZE = re.compile(r"^(\d+)x(\d+)$")
MIN_PARAMETER_PAIRS = 3


def quote(value) -> str:
    text = format_value(value)
    # Quoting also what A1111 would misread: a value in quotes, blanks at either end, nothing at all.
    if (any(ch in text for ch in ",:\n") or text.startswith('"') or text != text.strip() or not text):
        return json.dumps(text, ensure_ascii=False)
    return text


def format_value(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:g}" if abs(value) >= 1e-4 else repr(value)
    return str(value)


def write(prompt: str, negative_prompt: str, params: dict) -> str:
    """The infotext for a prompt, its negative and the ordered `Key: value` parameters."""
    lines = [prompt]
    if negative_prompt:
        lines.append(f"{NEGATIVE} {negative_prompt}")
    lines.append(", ".join(f"{key}: {quote(value)}" for key, value in params.items() if value is not None))
    return "\n".join(lines)


def unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError:
            return value
        if isinstance(decoded, str):
            return decoded
    return value


def pairs(line: str) -> list[tuple[str, str]]:
    """The `(key, value)` pairs of a parameter line, values as written (see `unquote`)."""
    found: list[tuple[str, str]] = []
    decoder = json.JSONDecoder()
    pos = 0
    while (match := PAIR.search(line, pos)) is not None:
        key, value, pos = match.group(1), match.group(2), match.end()
        if value and value[0] in "[{":  # a JSON list or object runs past its own commas
            try:
                stop = decoder.raw_decode(line, match.start(2))[1]
            except ValueError:
                stop = None
            rest = line[stop:].lstrip() if stop is not None else None
            if rest is not None and (not rest or rest.startswith(",")):
                value, pos = line[match.start(2):stop], len(line) - len(rest) + (1 if rest else 0)
        found.append((key, value))
    return found


def parse(text: str) -> tuple[str, str, dict[str, str]]:
    """(prompt, negative prompt, parameters in written order) of an A1111 infotext."""
    lines = text.strip().split("\n")
    last = lines[-1]
    found = pairs(last)
    if len(found) < MIN_PARAMETER_PAIRS:
        last = ""  # no parameter line: every line is prompt text
    else:
        lines = lines[:-1]
    prompt: list[str] = []
    negative: list[str] = []
    in_negative = False
    for line in lines:
        line = line.strip()
        if not in_negative and line.startswith(NEGATIVE):
            in_negative = True
            line = line[len(NEGATIVE):].strip()
        target = negative if in_negative else prompt
        if target or line:  # A1111 drops blank lines before the first text of each part
            target.append(line)
    params: dict[str, str] = {}
    for key, value in found if last else ():
        params[key] = unquote(value)
    return "\n".join(prompt), "\n".join(negative), params


def size(value: str) -> tuple[int, int] | None:
    """(width, height) of a `WxH` parameter value such as `Size: 512x768`, else None."""
    match = SIZE.match(value.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None
