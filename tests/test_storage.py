import hashlib
import io

import pytest

from core.storage import BlobNotFound, LocalBlobStore


def test_blobs_are_named_by_their_sha256(tmp_path):
    store = LocalBlobStore(tmp_path)
    data = b"%PDF-1.7 original"
    name = store.put(data)
    assert name == hashlib.sha256(data).hexdigest()
    assert store.get(name) == data
    assert (tmp_path / name[:2] / name[2:4] / name).exists()


def test_storing_again_never_overwrites(tmp_path):
    store = LocalBlobStore(tmp_path)
    name = store.put(b"same")
    path = tmp_path / name[:2] / name[2:4] / name
    before = path.stat().st_mtime_ns
    assert store.put(b"same") == name
    assert path.stat().st_mtime_ns == before


def test_streams_are_stored_without_loading_them_whole(tmp_path):
    store = LocalBlobStore(tmp_path)
    data = b"x" * (3 * 1024 * 1024 + 17)
    name, size = store.put_stream(io.BytesIO(data))
    assert size == len(data)
    assert name == hashlib.sha256(data).hexdigest()
    assert not list(tmp_path.glob(".incoming-*"))


def test_unknown_or_malformed_names_are_not_found(tmp_path):
    store = LocalBlobStore(tmp_path)
    with pytest.raises(BlobNotFound):
        store.get("0" * 64)
    with pytest.raises(BlobNotFound):
        store.get("../../etc/passwd")
