"""Text from files and the catalogue made safe to print: control characters shown, never obeyed.

Prompts, titles, paths and metadata come from anyone (imported files, other tools). Printed raw, an
ESC sequence clears the screen or sets the window title, CR overwrites a line, and a bidi override
reorders what the reader sees. `safe` turns each such character into a visible escape (`\\x1b`,
`\\u202e`); JSON output does not need it (json.dumps escapes control characters itself).
"""

import re

# C0 controls, DEL, C1 controls (0x9b is a one-byte CSI), and the bidi embeddings, overrides and isolates.
_UNSAFE_SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_UNSAFE_MULTI_LINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text, multiline: bool = False) -> str:
    """`text` (any value, as str) with every control character shown as an escape; `multiline`
    keeps newlines and tabs (for fields such as prompts where they belong)."""
    text = text if isinstance(text, str) else str(text)
    return (_UNSAFE_MULTI_LINE if multiline else _UNSAFE_SINGLE_LINE).sub(_escape, text)


def has_unsafe(text: str, multiline: bool = True) -> bool:
    """Whether printing `text` as it is would let a control character reach the terminal."""
    return bool((_UNSAFE_MULTI_LINE if multiline else _UNSAFE_SINGLE_LINE).search(text))
