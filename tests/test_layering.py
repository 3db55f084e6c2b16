"""The core never imports torch, diffusers or textual; read commands start without them."""

import pkgutil

import pytest

import atlas.cli
import atlas.core
from tests.support.processes import heavy_modules_after


def _modules(package) -> list[str]:
    return [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]


# Every module of the core, and every CLI module (engine commands import the engine inside the command).
CORE_MODULES = _modules(atlas.core) + _modules(atlas.cli)


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_imports_no_heavy_library(module):
    assert heavy_modules_after(f"import {module}") == []


def test_show_and_list_do_not_import_torch(demo_catalogue, home):
    from atlas.core.record.write import RenderInfo
    from atlas.engine.generate import Txt2ImgRequest, generate

    generate(demo_catalogue, Txt2ImgRequest("a lighthouse", steps=2, width=64, height=64, seed=3), RenderInfo())
    import os

    env = {**os.environ, "ATLAS_HOME": str(home.root)}
    code = ("from atlas.cli.main import main\n"
            "assert main(['show', '1', '--json']) == 0\n"
            "assert main(['show', '1']) == 0\n"
            "assert main(['list', '--json']) == 0\n")
    assert heavy_modules_after(code, env=env) == []
