"""Hume client and HumeSynthesizer against the Hume emulator (ASGI and real loopback HTTP)."""

from __future__ import annotations

import base64
import io
import wave

import av
import httpx
import numpy as np
import pytest

from reelflow.clients.errors import MalformedResponse, NotFound, RequestInvalid
from reelflow.clients.hume.adapter import HumeSynthesizer, decode_wav
from reelflow.clients.hume.client import HumeClient, split_text
from reelflow.clients.hume.types import PostedUtterance, VoiceRef
from reelflow.core.models import Scene
from tests.clients.conftest import add_fault
from tests.emulators import hume_app

KEY = "hume-test-key"


@pytest.fixture
def app():
    return hume_app.create_app(KEY)


def client(app, clock, policy, metrics=None) -> HumeClient:
    return HumeClient(KEY, "http://hume.test", transport=httpx.ASGITransport(app), clock=clock, policy=policy,
                      metrics=metrics)


def scene(text="Welcome back. Today we break down three songs that owned the summer.", i=0) -> Scene:
    return Scene(index=i, narration=text, visual_prompt="city", duration_s=4, voice_instruction="warm radio host",
                 emotion="excited")


async def test_tts_returns_real_wav_with_word_timestamps(app, clock, policy):
    async with client(app, clock, policy) as c:
        res = await c.tts([PostedUtterance(text="Hello there, this is ReelFlow.",
                                           voice=VoiceRef(name="Ava Song", provider="HUME_AI"))],
                          audio_format="wav", version="2", timestamps=True)
    gen = res.generations[0]
    pcm, sr = decode_wav(base64.b64decode(gen.audio))
    assert sr == 48000 and abs(len(pcm) / sr - gen.duration) < 0.01
    words = gen.snippets[0][0].timestamps
    assert [w.text for w in words] == "Hello there, this is ReelFlow.".split()
    assert all(w.time.end > w.time.begin for w in words)


async def test_tts_mp3_and_file_endpoint_are_decodable(app, clock, policy, tmp_path):
    async with client(app, clock, policy) as c:
        res = await c.tts([PostedUtterance(text="An mp3 take.")], audio_format="mp3")
        data, ctype = await c.tts_file([PostedUtterance(text="A file take.")], audio_format="mp3")
    assert ctype == "audio/mpeg"
    for blob in (base64.b64decode(res.generations[0].audio), data):
        p = tmp_path / "a.mp3"
        p.write_bytes(blob)
        with av.open(str(p)) as cont:
            assert cont.streams.audio and next(cont.decode(audio=0)) is not None


async def test_voices_paged_across_pages_both_providers(app, clock, policy):
    async with client(app, clock, policy) as c:
        voices = await c.list_voices(page_size=5)
        found = await c.find_voice("calm explainer")
        with pytest.raises(NotFound) as ei:
            await c.find_voice("No Such Voice")
    providers = {v.provider for v in voices}
    assert len(voices) >= 10 and providers == {"HUME_AI", "CUSTOM_VOICE"}
    assert app.emu.stats()["voices_requests"] >= 5 + 1 + 2  # 24/5 → 5 pages + empty page ...
    assert found.provider == "CUSTOM_VOICE"
    assert "reelflow voices" in str(ei.value)


def test_split_text_keeps_sentences_under_limit():
    text = " ".join(f"Sentence number {i} is here." for i in range(400))
    chunks = split_text(text, 5000)
    assert len(chunks) > 1 and all(len(c) <= 5000 for c in chunks)
    assert " ".join(chunks) == text
    assert all(c.endswith(".") for c in chunks)
    long_word_run = "word " * 3000
    assert all(len(c) <= 5000 for c in split_text(long_word_run))


async def test_limits_enforced_before_sending(app, clock, policy):
    async with client(app, clock, policy) as c:
        with pytest.raises(RequestInvalid) as ei:
            await c.tts([PostedUtterance.model_construct(text="x" * 5001)])
        assert ei.value.field == "utterances.0.text"
        with pytest.raises(RequestInvalid) as ei:
            await c.tts([PostedUtterance(text="hi")], num_generations=6)
        assert ei.value.field == "num_generations"
        with pytest.raises(RequestInvalid) as ei:
            await c.tts([PostedUtterance(text="hi")], version="2")
        assert ei.value.field == "version"
    assert app.emu.stats()["tts_requests"] == 0


async def test_server_400_and_422_name_the_field(app, clock, policy):
    async with client(app, clock, policy) as c:
        with pytest.raises(RequestInvalid) as ei:
            await c.tts([PostedUtterance(text="hi", voice=VoiceRef(name="Nobody", provider="HUME_AI"))])
        assert ei.value.status_code == 400 and "Voice not found" in str(ei.value)
        # a raw request missing `text` gets FastAPI's 422 shape
        with pytest.raises(RequestInvalid) as ei:
            await c.send("POST", "/v0/tts", json={"utterances": [{"description": "x"}]})
        assert ei.value.status_code == 422 and ei.value.field == "utterances.0.text"


async def test_malformed_json_is_retried(app, clock, policy, metrics):
    add_fault(app, route="POST /v0/tts", kind="malformed", times=1)
    async with client(app, clock, policy, metrics) as c:
        res = await c.tts([PostedUtterance(text="Retry me.")])
    assert res.generations and metrics.calls[-1]["attempts"] == 2


async def test_synthesizer_writes_trimmed_wav_with_continuity(app, clock, policy, tmp_path):
    synth = HumeSynthesizer(KEY, "http://hume.test", default_voice="Ava Song", transport=httpx.ASGITransport(app),
                            clock=clock, policy=policy)
    u1 = await synth.synthesize(scene(), tmp_path / "s0.wav", context_key="video-1")
    u2 = await synth.synthesize(scene("Number three might surprise you.", 1), tmp_path / "s1.wav",
                                context_key="video-1")
    stats = app.emu.stats()
    # the second request carried the first generation's id as context
    assert len(stats["contexts_used"]) == 1
    assert stats["requests"][1]["context"]["generation_id"] == stats["contexts_used"][0]
    assert stats["requests"][0]["utterances"][0]["description"] == "warm radio host; excited"
    with wave.open(str(tmp_path / "s0.wav")) as w:
        n, sr = w.getnframes(), w.getframerate()
        pcm = np.frombuffer(w.readframes(n), dtype="<i2")
    assert sr == 48000 and u1.duration_s == pytest.approx(n / sr, abs=1e-3)
    # emulator audio has 0.12 s lead + 0.2 s tail silence: trimmed (pad ≤ 0.05 s each side remains)
    untrimmed = 0.12 + 0.2 + len(scene().narration.split()) / 2.5
    assert u1.duration_s < untrimmed - 0.15
    assert np.abs(pcm[: int(0.01 * sr)]).max() < 2000 or u1.words[0].start_s < 0.1
    assert len(u1.words) == len(scene().narration.split()) and u1.words[0].start_s < 0.1
    assert all(0 <= w.start_s <= w.end_s <= u1.duration_s for w in u1.words)
    assert u1.provider == "hume" and u1.voice == "Ava Song" and u2.scene_index == 1
    # each utterance carries its own cost entry (characters sent, Octave 2 with a named voice)
    assert [(c.provider, c.model, c.unit, c.units) for c in u1.costs] == [
        ("hume", "octave-2", "characters", len(scene().narration))]
    assert [c.units for c in u2.costs] == [len("Number three might surprise you.")] and not hasattr(synth, "costs")


async def test_synthesizer_without_voice_uses_voice_design(app, clock, policy, tmp_path):
    synth = HumeSynthesizer(KEY, "http://hume.test", transport=httpx.ASGITransport(app), clock=clock, policy=policy)
    u = await synth.synthesize(scene(), tmp_path / "s.wav")
    assert u.words == [] and u.voice == "hume:designed-voice"
    assert "version" not in app.emu.stats()["requests"][0]


def test_decode_wav_rejects_garbage():
    with pytest.raises(MalformedResponse):
        decode_wav(b"not a wav")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.ones(200, dtype="<i2").tobytes())
    pcm, sr = decode_wav(buf.getvalue())
    assert sr == 8000 and len(pcm) == 100


async def test_connection_reset_is_retried_over_real_http(live_env, policy, clock, metrics):
    app = live_env["app"].state.services["hume"]
    add_fault(app, route="POST /v0/tts", kind="reset", times=1)
    async with HumeClient(KEY, live_env["HUME_BASE_URL"], clock=clock, policy=policy, metrics=metrics) as c:
        res = await c.tts([PostedUtterance(text="Survive a reset.")])
    assert res.generations
    errs = [r for r in metrics.requests if r["error"]]
    assert errs and errs[0]["error"] in ("RemoteProtocolError", "ReadError")
    assert metrics.calls[-1]["attempts"] == 2


async def test_concurrent_scenes_chain_context_in_scene_order(app, clock, policy, tmp_path):
    import asyncio

    # real clock: the wait for the previous scene must span real request time
    synth = HumeSynthesizer(KEY, "http://hume.test", default_voice="Kora", transport=httpx.ASGITransport(app),
                            policy=policy)
    texts = ["First scene here.", "Second scene follows.", "Third scene ends."]
    # start them in reverse order, all at once (as the flow's parallel scene chains do)
    await asyncio.gather(*(synth.synthesize(scene(texts[i], i), tmp_path / f"{i}.wav", context_key="v")
                           for i in (2, 1, 0)))
    reqs = app.emu.stats()["requests"]
    assert [r["utterances"][0]["text"] for r in reqs] == texts  # spoken in scene order
    assert "context" not in reqs[0] and all("context" in r for r in reqs[1:])
    assert len(set(app.emu.stats()["contexts_used"])) == 2


async def test_scene_after_a_cached_or_failed_scene_does_not_stall(app, policy, tmp_path):
    """A resumed run narrates scene 2 alone (scenes 0-1 came from the Prefect cache): it waits only
    ``START_GRACE_S`` for a scene that never starts here, and not at all after one that failed."""
    import time

    synth = HumeSynthesizer(KEY, "http://hume.test", default_voice="Kora", transport=httpx.ASGITransport(app),
                            policy=policy, context_wait_s=60.0)
    t0 = time.monotonic()
    u = await synth.synthesize(scene("Third scene ends.", 2), tmp_path / "2.wav", context_key="resumed")
    waited = time.monotonic() - t0
    assert u.duration_s > 0 and waited < synth.START_GRACE_S + 5 < synth.context_wait_s

    add_fault(app, route="POST /v0/tts", kind="status", status=400, times=1,
              body={"message": "Invalid voice", "code": "E0000"})
    with pytest.raises(RequestInvalid):  # scene 0 fails (a 400, not retried) ...
        await synth.synthesize(scene("First scene here.", 0), tmp_path / "0.wav", context_key="failed")
    t0 = time.monotonic()  # ... so scene 1 goes ahead at once
    await synth.synthesize(scene("Second scene follows.", 1), tmp_path / "1.wav", context_key="failed")
    assert time.monotonic() - t0 < synth.START_GRACE_S


async def test_voice_by_custom_name_or_free_description(app, clock, policy, tmp_path):
    """A custom voice's name is sent by id with provider CUSTOM_VOICE (found through the voices
    listing, once); words that name no voice become an Octave voice-design description."""
    from tests.emulators.hume_app import _CUSTOM

    synth = HumeSynthesizer(KEY, "http://hume.test", transport=httpx.ASGITransport(app), clock=clock, policy=policy)
    custom = _CUSTOM[0]
    await synth.synthesize(scene(), tmp_path / "a.wav", voice=custom)
    listed = app.emu.stats()["voices_requests"]
    assert listed >= 1
    await synth.synthesize(scene("Another line in the same voice.", i=1), tmp_path / "b.wav", voice=custom)
    assert app.emu.stats()["voices_requests"] == listed  # the lookup is cached per adapter
    await synth.synthesize(scene(i=2), tmp_path / "c.wav", voice="calm low male narrator")
    reqs = app.emu.stats()["requests"]
    assert reqs[0]["utterances"][0]["voice"]["provider"] == "CUSTOM_VOICE"
    assert reqs[0]["utterances"][0]["voice"] == reqs[1]["utterances"][0]["voice"]
    designed = reqs[2]["utterances"][0]
    assert "voice" not in designed or designed["voice"] is None
    assert designed["description"].startswith("calm low male narrator")
