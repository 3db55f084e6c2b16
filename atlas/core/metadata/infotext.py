"""A1111 "infotext": the `parameters` text that A1111's PNG Info, Civitai and readers understand.

Layout: the prompt; a `Negative prompt: ...` line when there is one; then one line of
`Key: value` pairs joined by ", ". A value holding `,`, `:` or a newline is written as a JSON string.
"""

import json


def quote(value) -> str:
    text = format_value(value)
    if any(ch in text for ch in ",:\n"):
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
        lines.append(f"Negative prompt: {negative_prompt}")
    lines.append(", ".join(f"{key}: {quote(value)}" for key, value in params.items() if value is not None))
    return "\n".join(lines)
