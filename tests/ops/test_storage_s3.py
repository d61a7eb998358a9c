"""S3 backend against a real SeaweedFS server on loopback (no mocked client)."""

from __future__ import annotations

import os
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from reelflow.core.errors import ConfigurationError, InputError
from reelflow.core.settings import load_settings
from reelflow.core.storage import LocalStorage, sha256_file
from reelflow.core.storage_factory import make_storage
from reelflow.core.storage_s3 import S3Storage, parse_s3_uri
from tests.ops._servers import READER


def _client(server, access=None, secret=None):
    return boto3.client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=access or server.access_key, aws_secret_access_key=secret or server.secret_key,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


def _storage(server, prefix: str, **kw) -> S3Storage:
    return S3Storage(server.bucket, prefix, client=_client(server, kw.pop("access", None), kw.pop("secret", None)),
                     endpoint_url=server.endpoint, **kw)


def _all_keys(server) -> list[str]:
    resp = _client(server).list_objects_v2(Bucket=server.bucket)
    return sorted(o["Key"] for o in resp.get("Contents", []))


def test_round_trip_with_multipart_checksum_and_listing(seaweed, tmp_path: Path) -> None:
    store = _storage(seaweed, "rt", multipart_threshold_mb=5)
    big = tmp_path / "video.mp4"
    big.write_bytes(os.urandom(12 * 1024 * 1024 + 123))  # > 2 parts of 5 MiB
    small = tmp_path / "captions.srt"
    small.write_text("1\n00:00:00,000 --> 00:00:01,000\nhello\n", encoding="utf-8")

    uri_big = store.publish(big, "camp/a/video.mp4")
    uri_small = store.publish(small, "camp/a/captions.srt")

    assert uri_big == f"s3://{seaweed.bucket}/rt/camp/a/video.mp4"
    assert uri_small.endswith("/rt/camp/a/captions.srt")
    info = store.stat("camp/a/video.mp4")
    assert info is not None
    assert info.size == big.stat().st_size
    assert info.sha256 == sha256_file(big)
    assert info.content_type == "video/mp4"
    assert info.etag.endswith("-3"), f"expected a 3-part multipart object, etag={info.etag}"
    assert store.stat("camp/a/captions.srt").content_type == "application/x-subrip"

    assert store.list("camp") == ["camp/a/captions.srt", "camp/a/video.mp4"]
    # No temp objects remain anywhere in the bucket.
    assert not [k for k in _all_keys(seaweed) if "/.reelflow-tmp/" in k or k.startswith(".reelflow-tmp")]

    back = store.download("camp/a/video.mp4", tmp_path / "down" / "video.mp4")
    assert sha256_file(back) == sha256_file(big)


def test_overwrite_replaces_whole_object_and_can_be_refused(seaweed, tmp_path: Path) -> None:
    store = _storage(seaweed, "ow")
    v1, v2 = tmp_path / "v1.json", tmp_path / "v2.json"
    v1.write_text('{"v": 1}')
    v2.write_text('{"v": 2, "longer": true}')

    store.publish(v1, "meta.json")
    store.publish(v2, "meta.json")
    got = store.download("meta.json", tmp_path / "got.json")
    assert got.read_text() == v2.read_text()
    assert store.stat("meta.json").sha256 == sha256_file(v2)

    with pytest.raises(InputError, match="already exists with different content"):
        store.publish(v1, "meta.json", overwrite=False)
    # identical content with overwrite=False is accepted (idempotent re-publish)
    assert store.publish(v2, "meta.json", overwrite=False).endswith("/ow/meta.json")
    assert store.download("meta.json", tmp_path / "got2.json").read_text() == v2.read_text()
    assert store.list() == ["meta.json"]


def test_wrong_credentials_one_clear_error_and_nothing_visible(seaweed, tmp_path: Path) -> None:
    before = _all_keys(seaweed)
    f = tmp_path / "clip.mp4"
    f.write_bytes(os.urandom(2048))
    bad = _storage(seaweed, "bad", secret="definitely-wrong")
    with pytest.raises(ConfigurationError) as info:
        bad.publish(f, "x/clip.mp4")
    msg = str(info.value)
    assert "AWS_ACCESS_KEY_ID" in msg and "refused" in msg
    assert _all_keys(seaweed) == before


def test_write_refused_mid_publish_leaves_existing_object_and_no_partials(seaweed, tmp_path: Path) -> None:
    owner = _storage(seaweed, "ro")
    keep = tmp_path / "keep.txt"
    keep.write_text("original")
    owner.publish(keep, "thing.txt")
    before = _all_keys(seaweed)

    reader = _storage(seaweed, "ro", access=READER[0], secret=READER[1], multipart_threshold_mb=5)
    big = tmp_path / "thing.txt"
    big.write_bytes(os.urandom(11 * 1024 * 1024))  # multipart: refused parts must be aborted
    with pytest.raises(ConfigurationError, match="credentials are wrong or lack permission"):
        reader.publish(big, "thing.txt")
    assert _all_keys(seaweed) == before
    assert owner.download("thing.txt", tmp_path / "again.txt").read_text() == "original"
    uploads = _client(seaweed).list_multipart_uploads(Bucket=seaweed.bucket).get("Uploads", [])
    assert [u for u in uploads if u["Key"].startswith("ro/")] == []


def test_publish_dir_writes_manifest_last(seaweed, tmp_path: Path) -> None:
    store = _storage(seaweed, "dir")
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "video.mp4").write_bytes(b"\x00\x01" * 1000)
    (out / "sub" / "plan.json").write_text("{}")
    manifest_uri = store.publish_dir(out, "video-1")
    assert manifest_uri.endswith("/dir/video-1/manifest.json")
    got = store.download("video-1/manifest.json", tmp_path / "m.json")
    import json

    files = json.loads(got.read_text())["files"]
    assert set(files) == {"video.mp4", "sub/plan.json"}
    assert files["video.mp4"]["sha256"] == sha256_file(out / "video.mp4")
    assert store.list("video-1") == ["video-1/manifest.json", "video-1/sub/plan.json", "video-1/video.mp4"]


def test_missing_bucket_and_bad_uri_are_configuration_errors(seaweed, tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("a")
    store = S3Storage("no-such-bucket-here", "", client=_client(seaweed), endpoint_url=seaweed.endpoint)
    with pytest.raises(ConfigurationError, match="REELFLOW_STORAGE__URI"):
        store.publish(f, "a.txt")
    with pytest.raises(InputError):
        parse_s3_uri("https://bucket/prefix")
    with pytest.raises(InputError, match="no such file"):
        _storage(seaweed, "x").publish(tmp_path / "missing.mp4", "m.mp4")


def test_factory_selects_s3_from_environment(seaweed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELFLOW_STORAGE__URI", f"s3://{seaweed.bucket}/from-env")
    monkeypatch.setenv("AWS_ENDPOINT_URL", seaweed.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", seaweed.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", seaweed.secret_key)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    store = make_storage(load_settings(_env_file=None))
    assert isinstance(store, S3Storage)
    f = tmp_path / "thumb.jpg"
    f.write_bytes(b"\xff\xd8\xff" + os.urandom(100))
    assert store.publish(f, "t/thumb.jpg") == f"s3://{seaweed.bucket}/from-env/t/thumb.jpg"
    assert store.stat("t/thumb.jpg").content_type == "image/jpeg"

    monkeypatch.setenv("REELFLOW_STORAGE__URI", str(tmp_path / "local-out"))
    local = make_storage(load_settings(_env_file=None))
    assert isinstance(local, LocalStorage)
    assert local.publish(f, "t/thumb.jpg") == (tmp_path / "local-out" / "t" / "thumb.jpg").resolve().as_uri()
    monkeypatch.setenv("REELFLOW_STORAGE__URI", "ftp://nope")
    with pytest.raises(ConfigurationError, match="REELFLOW_STORAGE__URI"):
        make_storage(load_settings(_env_file=None))
