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


# --- S3, against a real S3 API server (moto's standalone server) on loopback ---------------------


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 API server, started for this test session on a free loopback port."""
    import socket
    import subprocess
    import sys
    import time

    from tests.conftest import _require
    from tests.faults import free_port

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                _require("moto S3 server", RuntimeError("it did not start"))
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def s3_config(s3_endpoint, tmp_path):
    import uuid

    from core.storage import s3_client

    config = {"STORAGE_URL": f"s3://sigill-{uuid.uuid4().hex[:12]}/tenants/blobs", "S3_ENDPOINT_URL": s3_endpoint,
              "S3_REGION": "eu-north-1", "S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing",
              "STORAGE_DIR": str(tmp_path / "local")}
    bucket = config["STORAGE_URL"].split("/")[2]
    s3_client(config).create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    return config


def test_s3_blobs_are_named_by_content_and_kept_under_the_prefix(s3_config):
    from core.storage import S3BlobStore, s3_client, store_for

    store = store_for(s3_config)
    assert isinstance(store, S3BlobStore)
    data = b"%PDF-1.7 original"
    name = store.put(data)
    assert name == hashlib.sha256(data).hexdigest()
    assert store.get(name) == data and store.exists(name)
    assert store.put(data) == name
    listed = s3_client(s3_config).list_objects_v2(Bucket=store.bucket)["Contents"]
    assert [o["Key"] for o in listed] == [f"tenants/blobs/{name[:2]}/{name[2:4]}/{name}"]
    with pytest.raises(BlobNotFound):
        store.get("0" * 64)
    with pytest.raises(BlobNotFound):
        store.get("../../other-tenant")
    assert not store.exists("1" * 64)


def test_large_s3_uploads_are_streamed_in_parts(s3_config):
    from core.storage import store_for

    store = store_for(s3_config)
    data = bytes(range(256)) * (40 * 1024 * 4 + 3)  # ~40 MB: more than the spool keeps in memory, multipart
    name, size = store.put_stream(io.BytesIO(data))
    assert (name, size) == (hashlib.sha256(data).hexdigest(), len(data))
    with store.open(name) as body:
        assert hashlib.sha256(body.read()).hexdigest() == name


def test_a_case_is_sealed_with_its_files_in_s3(app_factory, s3_config):
    from pathlib import Path

    from core.extensions import db
    from core.jobs import drain
    from core.models import Case
    from core.storage import blobs
    from tenants.scoping import tenant_context
    from tests import support
    from tests.signing.helpers import make_case, sign_form, signer

    app = app_factory(**s3_config)
    with app.app_context():
        people = support.make_people()
        made = make_case(people.bob, [signer("Sara Svensson", "sara@example.com", methods=["touch"])],
                         methods=["touch"])
        client = app.test_client()
        path = made.path("Sara Svensson")
        assert support.post(client, path + "/sign", sign_form(client, path), token_from=path).status_code == 302
        drain()
        with tenant_context(people.acme.id):
            case = db.session.get(Case, made.case_id)
            assert case.status == "completed"
            sealed = case.documents[0].sealed_sha256
        assert blobs().get(sealed).startswith(b"%PDF") and blobs().get(made.document_sha256)
        assert not Path(s3_config["STORAGE_DIR"]).exists()  # nothing written locally


def test_storage_migrate_copies_local_blobs_to_s3_once(app_factory, s3_config, tmp_path):
    from core.cli import cli
    from core.storage import LocalBlobStore, store_for

    local = LocalBlobStore(s3_config["STORAGE_DIR"])
    names = [local.put(f"blob {n}".encode()) for n in range(5)]
    damaged = local.put(b"will be damaged")
    (local.root / damaged[:2] / damaged[2:4] / damaged).write_bytes(b"bit rot")
    app = app_factory(**s3_config)
    runner = app.test_cli_runner()
    first = runner.invoke(cli, ["storage", "migrate"])
    assert "5 blob(s) copied, 0 already there, 1 damaged" in first.output and first.exit_code == 1
    store = store_for(s3_config)
    assert all(store.get(name) == local.get(name) for name in names)
    assert not store.exists(damaged)
    local.put(b"written after the first run")
    again = runner.invoke(cli, ["storage", "migrate"])
    assert "1 blob(s) copied, 5 already there, 1 damaged" in again.output
