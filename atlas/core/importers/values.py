"""Numbers from metadata text: whatever a tool wrote, a number or None (never an exception)."""

import math


def as_int(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def as_float(value) -> float | None:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None  # NaN and infinities are no value
