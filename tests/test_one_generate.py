"""One `atlas generate` reads the config once, checks the licence once and builds the record once."""

import sys
import tomllib
from collections import Counter

from atlas.core.catalogue import licences
from atlas.core.record import build


def count_calls(monkeypatch, calls: Counter, name: str, function) -> None:
    """Count calls of `function` through every module that holds it, whatever name it goes by there."""

    def counted(*args, **kwargs):
        calls[name] += 1
        return function(*args, **kwargs)

    for module in list(sys.modules.values()):
        if module is None or not module.__name__.startswith("atlas"):
            continue
        for attr, value in list(vars(module).items()):
            if value is function:
                monkeypatch.setattr(module, attr, counted)


def test_one_generate_reads_config_checks_licence_and_builds_the_record_once(demo_catalogue, cli, monkeypatch):
    from atlas.core.record import write

    assert write.build is build.build  # loaded before counting starts, so its binding is counted too
    demo_catalogue.home.config_path.write_text('[author]\nname = "Ann"\n[defaults]\nlicence = "cc-by-4.0"\n')
    calls: Counter = Counter()
    count_calls(monkeypatch, calls, "record built", build.build)
    count_calls(monkeypatch, calls, "licence checked", licences.get)
    loads = tomllib.loads

    def counted_loads(text, *args, **kwargs):
        calls["config read"] += "Ann" in text
        return loads(text, *args, **kwargs)

    monkeypatch.setattr(tomllib, "loads", counted_loads)
    result = cli("generate", "a red boat", "--steps", "2", "--size", "64x64", "--seed", "7")
    assert result.code == 0, result.err
    assert calls == {"record built": 1, "licence checked": 1, "config read": 1}
    shown = cli("show", result.out.strip(), "--json").json()["record"]["render"]
    assert shown["author"] == "Ann" and shown["licence"]["id"] == "CC-BY-4.0"


def test_config_is_read_once_and_again_only_after_an_edit(home, monkeypatch):
    home.create()
    home.config_path.write_text('[author]\nname = "Ann"\n')
    reads = []
    loads = tomllib.loads
    monkeypatch.setattr(tomllib, "loads", lambda text: reads.append(text) or loads(text))
    assert home.config()["author"]["name"] == "Ann"
    assert home.config()["author"]["name"] == "Ann"
    assert len(reads) == 1
    home.config_path.write_text('[author]\nname = "Bob Builder"\n')
    assert home.config()["author"]["name"] == "Bob Builder"
    assert len(reads) == 2
    home.config_path.unlink()
    assert home.config() == {}
