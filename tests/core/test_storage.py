"""Atomic writes and the local storage backend."""

from __future__ import annotations

import os

import pytest

from reelflow.core.errors import InputError
from reelflow.core.storage import LocalStorage, atomic_path, atomic_write_json, ensure_writable_dir, sha256_file


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    dest = tmp_path / "video.mp4"
    dest.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(dest) as tmp:
            assert tmp.suffix == ".mp4" and tmp.parent == tmp_path
            tmp.write_bytes(b"half-written")
            raise RuntimeError("encoder crashed")
    assert dest.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["video.mp4"]


def test_atomic_json_and_sha(tmp_path):
    p = atomic_write_json(tmp_path / "a" / "m.json", {"x": 1, "name": "café"})
    assert p.read_text(encoding="utf-8").startswith("{")
    assert len(sha256_file(p)) == 64


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_dir_is_input_error(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    with pytest.raises(InputError, match="not writable"):
        ensure_writable_dir(ro / "sub")


def test_unwritable_dir_under_a_file_is_input_error(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(InputError, match="--out"):
        ensure_writable_dir(f / "sub")


def test_local_storage_publish(tmp_path):
    src = tmp_path / "src.txt"
    src.write_text("hello")
    store = LocalStorage(tmp_path / "out")
    uri = store.publish(src, "run/a.txt")
    assert uri.startswith("file://") and (tmp_path / "out" / "run" / "a.txt").read_text() == "hello"
