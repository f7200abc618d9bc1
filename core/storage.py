"""Content-addressed blob storage: every blob is named by its SHA-256 and never overwritten.

`BlobStore` is the interface. `LocalBlobStore` keeps blobs under STORAGE_DIR in a two-level fan
out; `S3BlobStore` keeps them in any S3-compatible store (`STORAGE_URL=s3://bucket/prefix`, with
`S3_ENDPOINT_URL`, `S3_REGION`, `S3_ACCESS_KEY_ID`, `S3_SECRET_ACCESS_KEY`; without keys boto3's
usual chain: environment, profile, instance role), under the same names. `sigill storage migrate`
copies local blobs to S3.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlsplit

from flask import Flask, current_app

CHUNK = 1024 * 1024
SPOOL_IN_MEMORY = 8 * CHUNK  # a larger upload is spooled to a temporary file while it is hashed


class BlobNotFound(KeyError):
    pass


class BlobStore(Protocol):
    def put(self, data: bytes) -> str: ...
    def put_stream(self, stream: BinaryIO) -> tuple[str, int]: ...
    def get(self, sha256: str) -> bytes: ...
    def open(self, sha256: str) -> BinaryIO: ...
    def exists(self, sha256: str) -> bool: ...


def sha256_of(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def checked_name(sha256: str) -> str:
    """A blob name is 64 lower-case hex digits; anything else names nothing (no path tricks)."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise BlobNotFound(sha256)
    return sha256


def fan_out(sha256: str) -> str:
    """`ab/cd/abcd...`: the relative name of a blob, the same locally and in S3."""
    return f"{sha256[:2]}/{sha256[2:4]}/{checked_name(sha256)}"


class LocalBlobStore:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, sha256: str) -> Path:
        return self.root / fan_out(sha256)

    def names(self) -> Iterator[str]:
        """Every stored blob's name (for `sigill storage migrate`)."""
        for path in self.root.glob("??/??/*"):
            if path.is_file() and path.parent.parent.name == path.name[:2] and len(path.name) == 64:
                yield path.name

    def put(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        path = self._path(sha256)
        if not path.exists():
            self._write_atomically(path, [data])
        return sha256

    def put_stream(self, stream: BinaryIO) -> tuple[str, int]:
        """Store a stream without holding it in memory; returns (sha256, size)."""
        digest = hashlib.sha256()
        size = 0
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha256 = digest.hexdigest()
            path = self._path(sha256)
            if path.exists():
                os.unlink(tmp)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, path)
            return sha256, size
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def _write_atomically(self, path: Path, chunks: list[bytes]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def get(self, sha256: str) -> bytes:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError as exc:
            raise BlobNotFound(sha256) from exc

    def open(self, sha256: str) -> BinaryIO:
        try:
            return self._path(sha256).open("rb")
        except FileNotFoundError as exc:
            raise BlobNotFound(sha256) from exc

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()


class S3BlobStore:
    """Blobs as objects `<prefix>/ab/cd/<sha256>` in an S3 bucket (AWS, MinIO, Ceph, ...).

    Uploads are hashed first, so a blob's name is its content; one that exists is not sent again.
    Streams are spooled to a temporary file while hashed and uploaded in parts; `open` streams too.
    """

    def __init__(self, bucket: str, prefix: str, client):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client

    def _key(self, sha256: str) -> str:
        return f"{self.prefix}/{fan_out(sha256)}" if self.prefix else fan_out(sha256)

    def put(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        if not self.exists(sha256):
            self.client.put_object(Bucket=self.bucket, Key=self._key(sha256), Body=data,
                                   ContentType="application/octet-stream")
        return sha256

    def put_stream(self, stream: BinaryIO) -> tuple[str, int]:
        digest = hashlib.sha256()
        size = 0
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                spool.write(chunk)
            sha256 = digest.hexdigest()
            if not self.exists(sha256):
                spool.seek(0)
                self.client.upload_fileobj(spool, self.bucket, self._key(sha256))
        return sha256, size

    def get(self, sha256: str) -> bytes:
        with self.open(sha256) as body:
            return body.read()

    def open(self, sha256: str) -> BinaryIO:
        key = self._key(sha256)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except self.client.exceptions.NoSuchKey as exc:
            raise BlobNotFound(sha256) from exc

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


def s3_client(config: dict):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=config.get("S3_ENDPOINT_URL"), region_name=config.get("S3_REGION") or "us-east-1",
        aws_access_key_id=config.get("S3_ACCESS_KEY_ID"), aws_secret_access_key=config.get("S3_SECRET_ACCESS_KEY"),
        config=Config(s3={"addressing_style": config.get("S3_ADDRESSING_STYLE") or "auto"},
                      retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=60),
    )


def store_for(config: dict) -> BlobStore:
    """The store STORAGE_URL names (s3://bucket/prefix), else the local folder STORAGE_DIR."""
    url = config.get("STORAGE_URL") or ""
    if url.startswith("s3://"):
        parts = urlsplit(url)
        if not parts.netloc:
            raise ValueError("STORAGE_URL must name a bucket: s3://bucket/prefix")
        return S3BlobStore(parts.netloc, parts.path, s3_client(config))
    if url:
        raise ValueError(f"STORAGE_URL must start with s3:// (local folders are set with STORAGE_DIR): {url!r}")
    return LocalBlobStore(config["STORAGE_DIR"])


def init_app(app: Flask) -> None:
    app.extensions["sigill_blobs"] = store_for(app.config)


def blobs() -> BlobStore:
    return current_app.extensions["sigill_blobs"]
