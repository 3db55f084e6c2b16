"""`atlas rerender ID|FILE`: run a render's last pass (or a file's parameters) again and compare the pixels."""

import click

from atlas.cli.common import echo, echo_json, open_catalogue


@click.command()
@click.argument("target", metavar="ID|FILE")
@click.option("--model", "model_name", help="Registered checkpoint to use instead of the one the record names.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan and the comparison as JSON.")
@click.pass_context
def rerender(ctx, target, model_name, as_json):
    """Run again what render ID's record (or FILE's atlas record, A1111 or ComfyUI parameters) says and
    compare the new pixels with the file: exit 0 when identical, 1 when they differ. Nothing is recorded.

    A txt2img pass is made whole; an img2img, outpaint or upscale pass starts from the stored file of
    its recorded input render. The model is found by its recorded hash among registered models."""
    from atlas.core.actions.rerender import plan as make_plan

    catalogue = open_catalogue(ctx)
    planned = make_plan(catalogue, target, model_name)  # every refusal (exit 2) before torch is imported
    from atlas.cli.progress import step_progress
    from atlas.engine.rerender import rerender as run_again

    with step_progress(f"rerender {planned.kind}", enabled=not as_json) as progress:
        result = run_again(catalogue, planned, progress)
    if as_json:
        echo_json({"plan": planned.describe(), **result.as_dict()})
    elif result.identical:
        echo(f"identical: {planned.source} ({planned.kind}, {result.width}x{result.height}) rerenders "
             "pixel for pixel")
    elif result.max_abs is None:
        echo(f"differs: {planned.source} rerenders at {result.width}x{result.height}, the file is "
             f"{result.expected_size[0]}x{result.expected_size[1]}")
    else:
        echo(f"differs: {planned.source} ({planned.kind}): max abs difference {result.max_abs}, "
             f"mean {result.mean_abs:.4f}, PSNR {result.psnr:.2f} dB")
    if not result.identical:
        from atlas.core.errors import AtlasError

        raise AtlasError("the rerender differs from the file (a failed check)")  # exit 1, as `verify` does
