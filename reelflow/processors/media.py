"""Media plumbing shared by the local processors: the ffmpeg binary, running it, probing files.

- :func:`ffmpeg_exe` — the static ffmpeg 9 that ships with ``imageio-ffmpeg`` (libx264, libass,
  loudnorm); no system ffmpeg and no ffprobe are needed.
- :func:`run_ffmpeg` — run it with an argument list; failures become
  :class:`core.errors.ProcessingError` carrying the tail of ffmpeg's stderr.
- :func:`probe` — container/stream facts read with PyAV (``av``), the FFmpeg libraries'
  Python binding (https://pyav.basswood-io.com/docs/stable/).
- :func:`mp4_top_level_atoms` — the ISO-BMFF top-level box order (``moov`` before ``mdat``
  means ``-movflags +faststart`` took effect; ISO/IEC 14496-12 §4.2).
"""

from __future__ import annotations

import math

import functools
import struct
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from reelflow.core.errors import InputError, ProcessingError

#: How many characters of ffmpeg's stderr an error message carries.
STDERR_TAIL_CHARS = 2000


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the static ffmpeg binary bundled by ``imageio-ffmpeg`` (cached).

    Returns:
        Absolute path of an executable ffmpeg (9.x, with libx264 and libass).

    Raises:
        ProcessingError: the binary is missing (reinstall ``imageio-ffmpeg``).
    """
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # pragma: no cover - only on a broken install
        raise ProcessingError(
            f"ffmpeg binary not found: {exc}",
            hint="reinstall ReelFlow's dependencies (`pip install imageio-ffmpeg`)",
        ) from exc


def run_ffmpeg(
    args: Sequence[str | Path],
    *,
    what: str,
    timeout_s: float | None = 600,
    cwd: Path | str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ffmpeg with ``args`` (everything after the binary name).

    ``-hide_banner -nostdin -y`` are prepended; stdout and stderr are captured as text.

    Args:
        args: ffmpeg arguments, e.g. ``["-i", "in.mp4", "-c:v", "libx264", "out.mp4"]``.
        what: short description of the step, used in error messages ("render scene 2").
        timeout_s: wall-clock limit in seconds (``None`` = no limit).
        cwd: working directory for relative paths in ``args`` and filter graphs.

    Returns:
        The completed process (``returncode == 0``).

    Raises:
        ProcessingError: ffmpeg exited non-zero or ran past ``timeout_s``; the message names
            ``what`` and carries the last :data:`STDERR_TAIL_CHARS` characters of stderr.
    """
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *map(str, args)]
    # Dask's nanny sets MALLOC_TRIM_THRESHOLD_ in workers; the static ffmpeg build segfaults under
    # it on some filter graphs (reproduced with Ken Burns graphs), so children never inherit it.
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=cwd, errors="replace",
                              env=env)
    except subprocess.TimeoutExpired as exc:
        raise ProcessingError(f"ffmpeg timed out after {timeout_s} s while trying to {what}") from exc
    if proc.returncode != 0:
        tail = (proc.stderr or "").strip()[-STDERR_TAIL_CHARS:]
        raise ProcessingError(f"ffmpeg failed (exit {proc.returncode}) while trying to {what}:\n{tail}")
    return proc


class MediaInfo(BaseModel):
    """What :func:`probe` reports about a media file. Absent streams leave their fields ``None``."""

    path: str
    format_name: str = ""
    duration_s: float = Field(ge=0, description="Container duration (longest stream), seconds.")
    size_bytes: int = 0
    has_video: bool = False
    has_audio: bool = False
    width: int | None = None
    height: int | None = None
    fps: float | None = Field(default=None, description="Average frame rate of the first video stream.")
    video_codec: str | None = None
    profile: str | None = Field(default=None, description='Video codec profile, e.g. "High".')
    pix_fmt: str | None = None
    color_range: str | None = Field(default=None, description='"tv" (limited), "pc" (full) or None (unspecified).')
    rotation: int = Field(default=0, description="Display rotation in degrees (0, 90, 180, 270).")
    frame_count: int | None = Field(default=None, description="From the container index; None if unknown.")
    video_bitrate: int | None = None
    audio_codec: str | None = None
    audio_profile: str | None = Field(default=None, description='e.g. "LC" for AAC-LC.')
    sample_rate: int | None = None
    channels: int | None = None
    audio_duration_s: float | None = None


def _not_media(path: Path, why: str) -> InputError:
    return InputError(
        f"{path} is not a readable media file ({why})",
        hint="pass an existing audio/video/image file that ffmpeg can decode",
    )


def _open(path: Path):
    import av

    if not path.is_file():
        raise InputError(f"media file not found: {path}", hint="check the path")
    if path.stat().st_size == 0:
        raise _not_media(path, "the file is empty")
    try:
        return av.open(str(path))
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise _not_media(path, str(exc)) from exc


def _stream_seconds(stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return None


def probe(path: Path | str) -> MediaInfo:
    """Describe a media file's container, first video stream and first audio stream.

    Reads headers only (no decoding), so it takes milliseconds.

    Args:
        path: audio, video or image file.

    Returns:
        :class:`MediaInfo`.

    Raises:
        InputError: the file is missing, empty, corrupt or has no audio/video stream; the
            message names the file.
    """
    path = Path(path)
    container = _open(path)
    with container:
        v = next((s for s in container.streams if s.type == "video"), None)
        a = next((s for s in container.streams if s.type == "audio"), None)
        if v is None and a is None:
            raise _not_media(path, "no audio or video stream")
        duration = container.duration / 1_000_000 if container.duration else None
        info: dict = {
            "path": str(path),
            "format_name": container.format.name,
            "size_bytes": path.stat().st_size,
            "has_video": v is not None,
            "has_audio": a is not None,
        }
        if v is not None:
            cc = v.codec_context
            rate = v.average_rate or v.guessed_rate
            # PyAV exposes no display-matrix getter; the legacy "rotate" tag covers phone footage.
            try:
                rotation = int(float(v.metadata.get("rotate", 0))) % 360
            except ValueError:
                rotation = 0
            info.update(
                width=cc.width,
                height=cc.height,
                fps=float(rate) if rate else None,
                video_codec=cc.name,
                profile=v.profile or cc.profile,
                pix_fmt=cc.pix_fmt,
                color_range={1: "tv", 2: "pc"}.get(int(cc.color_range or 0)),
                rotation=rotation,
                frame_count=v.frames or None,
                video_bitrate=cc.bit_rate or None,
            )
            duration = duration or _stream_seconds(v)
        if a is not None:
            acc = a.codec_context
            info.update(
                audio_codec=acc.name,
                audio_profile=a.profile or acc.profile,
                sample_rate=acc.sample_rate,
                channels=acc.channels,
                audio_duration_s=_stream_seconds(a),
            )
            duration = duration or _stream_seconds(a)
        info["duration_s"] = float(duration or 0.0)
    return MediaInfo(**info)


def audio_duration(path: Path | str) -> float:
    """Duration in seconds of the first audio stream of ``path`` (container duration as fallback).

    Raises:
        InputError: the file is missing, corrupt or has no audio stream.
    """
    info = probe(path)
    if not info.has_audio:
        raise InputError(f"{path} has no audio stream", hint="pass an audio file (WAV, MP3, OGG ...)")
    return float(info.audio_duration_s or info.duration_s)


def mp4_top_level_atoms(path: Path | str) -> list[str]:
    """Top-level ISO-BMFF box types of an MP4/MOV in file order, e.g. ``["ftyp", "moov", "mdat"]``.

    ``moov`` before ``mdat`` means the file streams before it is fully downloaded
    (``-movflags +faststart``). Reads only the 8/16-byte box headers (ISO/IEC 14496-12 §4.2).

    Raises:
        InputError: the file is not an ISO-BMFF file.
    """
    path = Path(path)
    atoms: list[str] = []
    size_total = path.stat().st_size
    with open(path, "rb") as fh:
        pos = 0
        while pos + 8 <= size_total:
            fh.seek(pos)
            header = fh.read(8)
            size, kind = struct.unpack(">I4s", header)
            if size == 1:
                size = struct.unpack(">Q", fh.read(8))[0]
            elif size == 0:
                size = size_total - pos
            if size < 8 or not kind.isascii():
                raise InputError(f"{path} is not an MP4 file (bad box at byte {pos})", hint="pass an .mp4 file")
            atoms.append(kind.decode("ascii"))
            pos += size
    return atoms


def loop_seams(source_s: float, output_s: float) -> list[float]:
    """Where a source of ``source_s`` seconds restarts when looped to fill ``output_s`` seconds.

    Returns:
        ``[source_s, 2 * source_s, ...]`` below ``output_s`` (empty when no loop is needed or
        the source length is unknown), rounded to the millisecond.
    """
    if source_s <= 0 or output_s <= source_s + 1e-3:
        return []
    return [round(k * source_s, 3) for k in range(1, math.ceil(output_s / source_s)) if k * source_s < output_s - 1e-3]
