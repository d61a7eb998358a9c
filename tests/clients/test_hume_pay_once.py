"""Hume narration is paid once: a take is on disk (receipt) and in the cost ledger at payment,
and a rerun — after a SIGKILL between Hume's answer and the persisted task result, or after a
crash between the WAV and its utterance record — reuses it instead of calling Hume again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from reelflow.clients.hume.adapter import RECEIPTS_DIR, HumeSynthesizer, load_complete_pair, utterance_record_path
from reelflow.core.ledger import CostLedger, paid_scope
from reelflow.core.models import Scene
from tests.emulators import EmulatorServer, hume_app

KEY = "hume-test-key"
REPO = Path(__file__).resolve().parents[2]


def scene(text="Welcome back. Today we break down three songs that owned the summer.", i=0) -> Scene:
    return Scene(index=i, narration=text, visual_prompt="city", duration_s=4, voice_instruction="warm radio host",
                 emotion="excited")


@pytest.fixture
def app():
    return hume_app.create_app(KEY)


def synth(app, policy) -> HumeSynthesizer:
    return HumeSynthesizer(KEY, "http://hume.test", default_voice="Ava Song", transport=httpx.ASGITransport(app),
                           policy=policy)


def tts_requests(app) -> int:
    return app.emu.stats()["tts_requests"]


async def test_complete_pair_is_reused_without_a_request(app, policy, tmp_path):
    out = tmp_path / "narration" / "scene-00-abc.wav"
    ledger = tmp_path / "ledger.sqlite"
    with paid_scope(ledger, "run-1"):
        first = await synth(app, policy).synthesize(scene(), out, context_key="v")
    assert tts_requests(app) == 1
    rows = CostLedger(ledger).entries()
    # recorded at payment, keyed by the take's generation id
    assert [(r["part"], r["provider"], r["units"], r["request_id"]) for r in rows] == [
        ("narration", "hume", len(scene().narration), first.costs[0].request_id)]
    assert first.costs[0].request_id and utterance_record_path(out).is_file()
    assert list((out.parent / RECEIPTS_DIR).glob("*.json"))
    listed = app.emu.stats()["voices_requests"]

    with paid_scope(ledger, "run-2"):  # a new adapter (new process) and a new flow run
        again = await synth(app, policy).synthesize(scene(), out, context_key="v")
    assert tts_requests(app) == 1 and app.emu.stats()["voices_requests"] == listed  # nothing asked again
    assert again == first and len(CostLedger(ledger).entries()) == 1


async def test_half_written_pair_is_rebuilt_from_the_receipt(app, policy, tmp_path):
    out = tmp_path / "scene-00.wav"
    first = await synth(app, policy).synthesize(scene(), out)
    wav = out.read_bytes()
    # crash between the WAV and its record: no record -> not reused as a pair, rebuilt from the receipt
    utterance_record_path(out).unlink()
    assert load_complete_pair(out, "any") is None
    rebuilt = await synth(app, policy).synthesize(scene(), out)
    assert tts_requests(app) == 1 and rebuilt == first and out.read_bytes() == wav
    # a WAV cut short under a record written for the full one: digest mismatch, rebuilt, still no request
    out.write_bytes(wav[: len(wav) // 2])
    rebuilt = await synth(app, policy).synthesize(scene(), out)
    assert tts_requests(app) == 1 and out.read_bytes() == wav and rebuilt.duration_s == first.duration_s


async def test_a_line_moved_to_another_scene_reuses_its_take(app, policy, tmp_path):
    """The pacing step's re-plan can move a line to another scene (a scene dropped before it):
    the same text, voice, acting and speed is the same take, not a new payment."""
    await synth(app, policy).synthesize(scene(i=1), tmp_path / "scene-01.wav")
    moved = await synth(app, policy).synthesize(scene(i=0), tmp_path / "scene-00.wav")
    assert tts_requests(app) == 1 and moved.scene_index == 0 and (tmp_path / "scene-00.wav").is_file()


async def test_unreadable_receipt_or_other_line_is_asked_again(app, policy, tmp_path):
    out = tmp_path / "scene-00.wav"
    await synth(app, policy).synthesize(scene(), out)
    utterance_record_path(out).unlink()
    for receipt in (out.parent / RECEIPTS_DIR).glob("*.json"):
        receipt.write_text('{"generation": {"generation_id": "x"')  # cut short: never reused
    await synth(app, policy).synthesize(scene(), out)
    assert tts_requests(app) == 2
    # another pace (another speed) is another take: paid, not taken from the first one's receipt
    await synth(app, policy).synthesize(scene(), tmp_path / "scene-00-slow.wav", pace=1.1)
    assert tts_requests(app) == 3


async def test_two_runs_narrating_one_scene_at_once_pay_once(app, policy, tmp_path):
    """Two runs of one campaign narrate the same scene into the same work folder at the same time
    (two adapters, as two worker processes have): one TTS request, both get the same take."""
    import asyncio

    out = tmp_path / "scene-00.wav"
    a, b = await asyncio.gather(synth(app, policy).synthesize(scene(), out, context_key="run-a"),
                                synth(app, policy).synthesize(scene(), out, context_key="run-b"))
    assert tts_requests(app) == 1
    assert a.costs == b.costs and a.duration_s == b.duration_s and load_complete_pair(out, "x") is None
    assert load_complete_pair(out, json.loads(utterance_record_path(out).read_text())["key"]) == a


WORKER = r'''
import asyncio, sys
from pathlib import Path
from reelflow.clients.hume.adapter import HumeSynthesizer
from reelflow.core.ledger import paid_scope
from reelflow.core.models import Scene

base, out, ledger, run, hold = sys.argv[1:6]
scenes = [Scene(index=i, narration=t, visual_prompt="x", duration_s=4, emotion="calm")
          for i, t in enumerate(["Grip that holds on wet rock.", "Light enough for the long climb home."])]

async def main():
    synth = HumeSynthesizer("hume-test-key", base, default_voice="Ava Song")
    with paid_scope(ledger, run):
        for s in scenes:
            u = await synth.synthesize(s, Path(out) / f"scene-{s.index:02d}.wav", context_key="video")
            print("DONE", s.index, u.costs[0].request_id, flush=True)
    if hold == "1":  # the flow would now persist the task result: the kill lands before that
        await asyncio.sleep(60)

asyncio.run(main())
'''


def receipts(folder: Path) -> list[Path]:
    """Receipts under their final names (``.name`` files are the atomic writes' temp files)."""
    return [p for p in (folder / RECEIPTS_DIR).glob("*.json") if not p.name.startswith(".")]


def run_worker(base: str, out: Path, ledger: Path, run: str, hold: bool) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WORKER, base, str(out), str(ledger), run, "1" if hold else "0"],
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


@pytest.mark.parametrize("kill_after", ["first-receipt", "synthesis"])
def test_sigkill_after_payment_then_rerun_makes_no_new_tts_request(tmp_path, kill_after):
    """A worker process is SIGKILLed after Hume answered (as soon as the first take's receipt is on
    disk, or after both scenes were spoken but before anything else); a fresh process narrates the
    same scenes into the same folder: 0 new TTS requests, each take in the ledger once."""
    app = hume_app.create_app(KEY)
    out, ledger = tmp_path / "narration", tmp_path / "ledger.sqlite"
    with EmulatorServer(app) as emu:
        proc = run_worker(emu.url, out, ledger, "run-1", hold=True)
        deadline = time.monotonic() + 120
        try:
            if kill_after == "first-receipt":
                while not receipts(out) and time.monotonic() < deadline:
                    assert proc.poll() is None, proc.stdout.read()
                    time.sleep(0.005)
            else:
                assert proc.stdout is not None
                done = 0
                for line in proc.stdout:
                    done += line.startswith("DONE")
                    if done == 2:
                        break
            os.killpg(proc.pid, signal.SIGKILL)
            kept = len(receipts(out))
        finally:
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        time.sleep(1.0)  # a request the killed worker had in flight still reaches the emulator's counter
        paid = app.emu.stats()["tts_requests"]
        assert paid >= 1

        rerun = run_worker(emu.url, out, ledger, "run-2", hold=False)
        log, _ = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, log
        stats = app.emu.stats()
    # the rerun paid only for the scenes whose take was not on disk at the kill (a request in flight
    # at the kill may have been billed by Hume without an answer: that take is asked again)
    assert stats["tts_requests"] - paid == 2 - kept
    if kill_after == "synthesis":
        assert paid == kept == 2 and stats["tts_requests"] == 2  # both paid before the kill: nothing asked again
    rows = CostLedger(ledger).entries()
    assert len(rows) == 2 and len({r["request_id"] for r in rows}) == 2  # each take used, recorded once
    for i in range(2):
        wav = out / f"scene-{i:02d}.wav"
        record = json.loads(utterance_record_path(wav).read_text())
        assert load_complete_pair(wav, record["key"]) is not None


async def test_a_line_two_videos_say_alike_is_paid_once_with_a_shared_receipts_folder(app, policy, tmp_path):
    """The same take (text, voice, acting, speed, model) asked by two videos, each in its own work folder:
    with the settings' shared ``<cache>/hume-receipts`` the second video reuses the paid take."""
    shared = tmp_path / "cache" / "hume-receipts"

    def adapter() -> HumeSynthesizer:
        return HumeSynthesizer(KEY, "http://hume.test", default_voice="Ava Song", transport=httpx.ASGITransport(app),
                               policy=policy, receipts_dir=shared)

    ledger = tmp_path / "ledger.sqlite"
    with paid_scope(ledger, "video-a"):
        a = await adapter().synthesize(scene(), tmp_path / "a" / "narration" / "scene-00.wav", context_key="a")
    with paid_scope(ledger, "video-b"):
        b = await adapter().synthesize(scene(), tmp_path / "b" / "narration" / "scene-03.wav", context_key="b")
    assert tts_requests(app) == 1, "the second video paid again for the same take"
    assert a.costs[0].request_id == b.costs[0].request_id and abs(a.duration_s - b.duration_s) < 1e-6
    assert [p for p in shared.glob("*.json") if not p.name.startswith(".")]
    # the ledger holds the take once (deduplicated on its generation id)
    assert len(CostLedger(ledger).entries()) == 1
    # a different line is a different take: paid
    with paid_scope(ledger, "video-b"):
        await adapter().synthesize(scene("Three songs, one summer."), tmp_path / "b" / "narration" / "s1.wav")
    assert tts_requests(app) == 2
