"""Corrupt and hostile media through ``analyze`` (library analysis), Runware clip download and
assembly: each gets a typed, clear error in bounded time and memory, and the other items of the
same batch are still analysed.

Cases: truncated MP4, zero-length file, random bytes (Hypothesis), a 0x0 PNG, an audio-only MP4,
a PNG whose header claims 60000x60000 pixels (decompression bomb), and an hour-long clip from a
provider."""

from __future__ import annotations

import resource
import shutil
import struct
import time
import zlib
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reelflow.clients._http import FakeClock, RetryPolicy
from reelflow.clients.errors import MediaInvalid
from reelflow.processors.library import analyze_file
from reelflow.processors.media import run_ffmpeg
from tests.fuzz.conftest import n

REPO = Path(__file__).resolve().parents[2]
GOOD_VIDEO = REPO / "reelflow" / "assets" / "footage" / "videos" / "squirrel.mp4"
GOOD_IMAGE = REPO / "reelflow" / "assets" / "footage" / "images" / "coffee.png"


def _png(width: int, height: int, idat: bytes = b"") -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(idat)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def corrupt_media(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("corrupt")
    data = GOOD_VIDEO.read_bytes()
    files = {
        "truncated.mp4": data[: len(data) // 3],
        "zero.mp4": b"",
        "random.mp4": bytes(range(256)) * 64,
        "zero-size.png": _png(0, 0),
        "bomb.png": _png(60000, 60000, b"\x00" * 1024),
        "random.png": b"\x89PNG\r\n\x1a\n" + bytes(range(200)),
    }
    out = {}
    for name, content in files.items():
        (root / name).write_bytes(content)
        out[name] = root / name
    audio = root / "audio-only.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "aac", str(audio)], what="audio-only")
    out["audio-only.mp4"] = audio
    return out


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_corrupt_files_become_error_records_and_good_ones_survive(corrupt_media, tmp_path):
    out_root = tmp_path / "lib"
    batch = [*corrupt_media.values(), GOOD_IMAGE, GOOD_VIDEO]
    rss_before = _peak_rss_mb()
    records = {}
    for i, path in enumerate(batch):
        t0 = time.perf_counter()
        rec = analyze_file(path, out_root, f"item{i}-{path.stem}", "0" * 64)
        records[path.name] = rec
        assert time.perf_counter() - t0 < 60, path.name
    for name in corrupt_media:
        rec = records[name]
        assert rec.status == "error" and rec.error, (name, rec)
        assert len(rec.error) < 600  # a clear sentence, not a dump
    assert records["bomb.png"].error and ("pixels" in records["bomb.png"].error or "bomb" in records["bomb.png"].error)
    assert records[GOOD_IMAGE.name].status != "error" and records[GOOD_VIDEO.name].status != "error"
    assert _peak_rss_mb() - rss_before < 1024  # the 60000x60000 header never allocated 10 GB


@settings(max_examples=n(15))
@given(blob=st.binary(min_size=0, max_size=4096), suffix=st.sampled_from([".mp4", ".png", ".jpg", ".webm"]))
def test_random_bytes_are_error_records(tmp_path_factory, blob, suffix):
    root = tmp_path_factory.mktemp("rnd")
    p = root / f"blob{suffix}"
    p.write_bytes(blob)
    rec = analyze_file(p, root / "out", "blob", "0" * 64)
    assert rec.status == "error" and rec.error


def _serve_file(path: Path) -> httpx.MockTransport:
    body = path.read_bytes()
    return httpx.MockTransport(lambda request: httpx.Response(200, content=body, headers={"content-type": "video/mp4"}))


@pytest.fixture(scope="module")
def hour_long(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("long") / "hour.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=gray:size=64x64:rate=1", "-t", "3600", "-c:v", "libx264",
                "-preset", "ultrafast", "-g", "600", str(p)], what="hour-long clip", timeout_s=300)
    return p


@pytest.mark.parametrize("case", ["truncated.mp4", "zero.mp4", "random.mp4", "audio-only.mp4", "hour"])
async def test_clip_download_refuses_corrupt_or_endless_media(corrupt_media, hour_long, tmp_path, case):
    from reelflow.clients.runware.client import RunwareClient
    from reelflow.core.limits import max_clip_duration_s

    src = hour_long if case == "hour" else corrupt_media[case]
    policy = RetryPolicy(max_attempts=2, deadline_s=60, backoff_initial_s=0.1, backoff_max_s=0.1)
    async with RunwareClient("k-123456", "http://runware.test/v1", media_hosts=["runware.test"],
                             allow_private_media=True, clock=FakeClock(), policy=policy) as client:
        client.media_http = httpx.AsyncClient(transport=_serve_file(src))
        dest = tmp_path / "clip.mp4"
        t0 = time.perf_counter()
        with pytest.raises(MediaInvalid) as err:
            await client.download("http://runware.test/media/x.mp4", dest, max_duration_s=max_clip_duration_s(5))
        await client.media_http.aclose()
    assert time.perf_counter() - t0 < 30
    assert not dest.exists() and not list(tmp_path.glob(".clip*"))  # nothing half-written under any name
    if case == "hour":
        assert "3600.0 s long" in err.value.message


def test_assembly_with_a_corrupt_clip_is_a_typed_error(corrupt_media, tmp_path):
    from reelflow.core.errors import ReelFlowError
    from reelflow.processors.assembly import AssemblySpec, ClipInput, assemble

    good = tmp_path / "good.mp4"
    shutil.copy(GOOD_VIDEO, good)
    for bad in ("truncated.mp4", "zero.mp4", "random.mp4", "audio-only.mp4"):
        spec = AssemblySpec(clips=[ClipInput(path=str(good), duration_s=1.5),
                                   ClipInput(path=str(corrupt_media[bad]), duration_s=1.5)],
                            width=360, height=640, fps=24, timeout_s=120)
        out = tmp_path / f"video-{bad}"
        t0 = time.perf_counter()
        try:
            assemble(spec, out)
        except ReelFlowError as exc:
            assert exc.message
        else:  # ffmpeg may decode what is left of a truncated file; then it must be a real video
            from reelflow.processors.media import probe

            assert probe(out).duration_s > 0
        assert time.perf_counter() - t0 < 150
        assert not [p for p in tmp_path.glob(f".video-{Path(bad).stem}*")]  # no temp left behind
