"""Entry point. Commands are imported only when run, so `atlas show` never loads torch."""

import importlib
import sys

import click

from atlas.core.errors import AtlasError
from atlas.core.terminal import safe

# name -> "module:attribute"; each module holds one command or command group.
COMMANDS = {
    "init": "atlas.cli.init_cmd:init",
    "model": "atlas.cli.model_cmd:model",
    "generate": "atlas.cli.generate_cmd:generate",
    "demo": "atlas.cli.run_cmd:demo",
    "run": "atlas.cli.run_cmd:run",
    "show": "atlas.cli.show_cmd:show",
    "list": "atlas.cli.show_cmd:list_renders",
    "img2img": "atlas.cli.passes_cmd:img2img",
    "outpaint": "atlas.cli.passes_cmd:outpaint",
    "upscale": "atlas.cli.passes_cmd:upscale",
    "tui": "atlas.cli.tui_cmd:tui",
    "export": "atlas.cli.export_cmd:export",
    "keys": "atlas.cli.keys_cmd:keys",
    "inspect": "atlas.cli.inspect_cmd:inspect",
    "verify": "atlas.cli.verify_cmd:verify",
    "search": "atlas.cli.search_cmd:search",
    "tag": "atlas.cli.tag_cmd:tag",
    "rate": "atlas.cli.mark_cmd:rate",
    "hide": "atlas.cli.mark_cmd:hide",
    "unhide": "atlas.cli.mark_cmd:unhide",
    "delete": "atlas.cli.delete_cmd:delete",
    "import": "atlas.cli.import_cmd:import_command",
    "rerender": "atlas.cli.rerender_cmd:rerender",
    "queue": "atlas.cli.queue_cmd:queue",
    "worker": "atlas.cli.worker_cmd:worker",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", envvar="ATLAS_HOME", type=click.Path(file_okay=False),
              help="The atlas home (catalogue, store, models). Default: $ATLAS_HOME or the platform data dir.")
@click.version_option(package_name="atlas", message="atlas %(version)s")
@click.pass_context
def cli(ctx, home):
    """atlas: generate, catalogue, search and export diffusion renders with their full provenance."""
    ctx.obj = {"home": home}


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Library warnings (Pillow's "Corrupt EXIF data", DecompressionBombWarning) as one atlas line,
    without the library's source path and code line."""
    text = " ".join(str(message).split())
    click.echo(safe(f"atlas: warning: {text}"), err=True)


def main(argv=None) -> int:
    import warnings

    warnings.showwarning = _show_warning
    args = sys.argv[1:] if argv is None else list(argv)
    if any("\0" in str(arg) for arg in args):  # a shell cannot pass one; a caller in Python can, and paths choke
        click.echo("atlas: error: an argument contains a NUL character", err=True)
        return 2
    try:
        cli.main(args=args, prog_name="atlas", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("atlas: interrupted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("atlas: interrupted", err=True)
        return 130
    except click.ClickException as exc:  # usage errors: exit 2
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except AtlasError as exc:
        click.echo(safe(f"atlas: error: {exc}", multiline=True), err=True)  # messages quote files' text
        return exc.exit_code
    except OSError as exc:  # the environment failed under valid work: a full disk, a read-only home
        click.echo(safe(f"atlas: error: {os_error(exc)}"), err=True)
        return 1
    return 0


def os_error(exc: OSError) -> str:
    """An OSError as one line naming the path it concerns, e.g. `no space left on device: /x/y`."""
    reason = (exc.strerror or str(exc) or type(exc).__name__).rstrip(".")
    reason = reason[:1].lower() + reason[1:]
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    return f"{reason}: {' -> '.join(paths)}" if paths else reason


if __name__ == "__main__":
    sys.exit(main())
