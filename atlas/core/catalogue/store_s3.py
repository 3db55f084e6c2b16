"""The store on an S3-compatible object store (`[store] path = "s3://bucket/prefix"`), through
fsspec's s3fs: the optional `s3` extra (pip install 'atlas[s3]').

The same contract as the folder store (store.py): content-addressed (the key is the sha256 of the
bytes, in the same `ab/cd/<sha256>.<ext>` layout under the prefix), never overwriting a different
object, and durable before the row commits (an S3 PUT answers only once the object is stored, so
there is nothing to fsync; a reader never sees half an object).

Never overwriting needs the server's help: the object is written with a conditional PUT
(`If-None-Match: *`), which the server refuses (412) when the key exists, atomically. AWS S3 has
done so since 2024; SeaweedFS (4.x) and MinIO do too. Where a server does not (`conditional=False`,
or `[store] s3_conditional = false`), a HEAD comes first and the PUT only when the key is free:
between the two, another writer can put an object at the same key and this PUT replaces it. Two
atlas writers of one address write the same bytes (that is what the address means), so that race
loses nothing between atlas writers; what it can lose is a *different* object some other tool put
at that key in that moment, the evidence the conditional PUT keeps.

Credentials and the endpoint come from s3fs's usual sources (environment, ~/.aws, or
`storage_options`), never from the catalogue.
"""

import asyncio
from collections.abc import Iterator
from datetime import datetime

from atlas.core.catalogue.store import StoreConflict, relative_path, sha256_bytes
from atlas.core.errors import BadInput

SCHEME = "s3://"
# AWS answers 409 while another conditional write of the same key is in flight: wait, then look
CONFLICT_RETRIES = 5


def is_s3(location: str) -> bool:
    return str(location).startswith(SCHEME)


def split(url: str) -> tuple[str, str]:
    """("bucket", "prefix") of s3://bucket/prefix (the prefix without slashes at its ends; may be "")."""
    if not is_s3(url):
        raise BadInput(f"{url}: an S3 store is named s3://BUCKET/PREFIX")
    bucket, _, prefix = url[len(SCHEME):].partition("/")
    if not bucket:
        raise BadInput(f"{url}: an S3 store is named s3://BUCKET/PREFIX (no bucket given)")
    return bucket, prefix.strip("/")


class S3Store:
    """The store's operations on an object store; store paths are keys relative to the prefix."""

    def __init__(self, url: str, storage_options: dict | None = None, conditional: bool = True):
        try:
            import s3fs  # type: ignore[import-not-found, import-untyped, unused-ignore]  # the s3 extra
        except ImportError:
            raise BadInput(f"the store {url} is on S3, which needs s3fs on this machine: "
                           "pip install 'atlas[s3]'") from None
        self.url = url.rstrip("/")
        self.bucket, self.prefix = split(self.url)
        self.conditional = conditional
        self.fs = s3fs.S3FileSystem(**(storage_options or {}))
        self.root = self.url  # what messages name, as the folder store's root

    def key_of(self, store_path: str) -> str:
        return f"{self.prefix}/{store_path}" if self.prefix else store_path

    def path_of(self, store_path: str) -> str:
        return f"{SCHEME}{self.bucket}/{self.key_of(store_path)}"

    # --- writing ---

    def put(self, data: bytes, ext: str) -> tuple[str, str, bool]:
        """Store `data`; returns (sha256, store path, created), as Store.put: an existing object
        with these bytes is kept, one with other bytes raises StoreConflict and is left alone."""
        digest = sha256_bytes(data)
        rel = relative_path(digest, ext)
        if self.conditional:
            created = self._sync(self._put_if_absent, self.key_of(rel), data)
        else:
            created = not self.exists(rel) and self._sync(self._put, self.key_of(rel), data)
        if not created:
            self.check_existing(rel, digest)
        return digest, rel, created

    async def _client(self):
        return await self.fs.set_session()

    async def _put(self, key: str, data: bytes, **condition) -> bool:
        client = await self._client()
        await client.put_object(Bucket=self.bucket, Key=key, Body=data, **condition)
        return True

    async def _put_if_absent(self, key: str, data: bytes) -> bool:
        """True when this PUT made the object, False when the key already held one."""
        from botocore.exceptions import ClientError  # type: ignore[import-not-found, import-untyped, unused-ignore]

        for attempt in range(CONFLICT_RETRIES):
            try:
                return await self._put(key, data, IfNoneMatch="*")
            except ClientError as exc:
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                code = exc.response.get("Error", {}).get("Code")
                if status == 412 or code == "PreconditionFailed":
                    return False
                if (status == 409 or code == "ConditionalRequestConflict") and attempt < CONFLICT_RETRIES - 1:
                    await asyncio.sleep(0.1 * 2 ** attempt)
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def check_existing(self, store_path: str, digest: str) -> None:
        found = sha256_bytes(self.read(store_path))
        if found != digest:
            raise StoreConflict(f"{self.path_of(store_path)}: the store already holds an object at this address whose "
                                f"sha256 is {found}, not {digest} as its name says; it is left as it is "
                                "(run `atlas verify --all`)")

    def _sync(self, function, *args):
        from fsspec.asyn import sync  # type: ignore[import-not-found, import-untyped, unused-ignore]

        return sync(self.fs.loop, function, *args)

    # --- reading, removing, walking ---

    def read(self, store_path: str) -> bytes:
        return self.fs.cat_file(self.path_of(store_path))

    def exists(self, store_path: str) -> bool:
        self.fs.invalidate_cache(self.path_of(store_path))
        return self.fs.exists(self.path_of(store_path))

    def modified(self, store_path: str) -> datetime:
        """When the object was written (what `verify --repair-orphans` compares with its grace period)."""
        return self.fs.info(self.path_of(store_path))["LastModified"]

    def remove(self, store_path: str) -> None:
        try:
            self.fs.rm_file(self.path_of(store_path))
        except FileNotFoundError:
            pass

    def walk(self) -> Iterator[tuple[str, str]]:
        """Every object under the prefix as (store path, s3:// path), in plain string order: S3
        lists keys in byte order, the order of the catalogue's sorted store paths."""
        base = f"{self.bucket}/{self.prefix}" if self.prefix else self.bucket
        self.fs.invalidate_cache(base)
        for key in sorted(self.fs.find(base)):
            rel = key[len(base) + 1:]
            yield rel, f"{SCHEME}{key}"
