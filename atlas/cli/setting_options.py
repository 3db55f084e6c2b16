"""Command-line options made from the settings table (`atlas.core.settings`): name, default and help
come from there, and the values are checked by the request (`atlas.core.record.requests`), so the
CLI refuses exactly what a recipe refuses, with the same message."""

import click

from atlas.core.settings import SEED_SETTINGS, SETTINGS, default

_UNSET = object()


def setting_option(name: str, kind: str = "txt2img", *, value=_UNSET, help: str | None = None):
    """`--name` for setting `name`: its type, its (per-kind) default unless `value` is given, its help
    and limits. The value is not range-checked by click: the request's check names the limit."""
    setting = SETTINGS[name]
    start = default(name, kind) if value is _UNSET else value
    limits = setting.allowed()
    text = (help or setting.help) + (f" Must be {limits}." if limits else "")
    return click.option(setting.option, name, type=setting.type, default=start, show_default=start is not None,
                        help=text)


def seed_options(func):
    """The A1111 seed extras and schedule type, which every pass kind takes (passed on as keywords)."""
    for name in reversed(("schedule", *SEED_SETTINGS[1:])):
        func = setting_option(name)(func)
    return func
