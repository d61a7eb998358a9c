"""Runware client and RunwareClipGenerator against the Runware emulator."""

from __future__ import annotations

import httpx
import pytest

from reelflow.clients._http import RetryPolicy
from reelflow.clients._polling import PollPolicy
from reelflow.clients.errors import (
    AuthError,
    JobFailed,
    JobTimedOut,
    MediaInvalid,
    MediaRejected,
    OutOfCredits,
    RequestInvalid,
)
from reelflow.clients.runware.adapter import JobLedger, RunwareClipGenerator, task_uuid_for
from reelflow.clients.runware.client import RunwareClient, new_task_uuid, probe_video
from reelflow.clients.runware.types import VideoInference
from reelflow.core.models import ClipRequest
from tests.clients.conftest import add_fault, open_connections
from tests.emulators import runware_app

KEY = "runware-test-key"
BASE = "http://runware.test/v1"
FAST = PollPolicy(initial_delay_s=1, initial_s=1, deadline_s=60)


@pytest.fixture
def app():
    app = runware_app.create_app(KEY)
    app.emu.configure({"media_base_url": "http://runware.test"})
    return app


def client(app, clock, policy, key=KEY, hosts=("runware.test",), allow_private=True, metrics=None) -> RunwareClient:
    return RunwareClient(key, BASE, media_hosts=list(hosts), allow_private_media=allow_private, poll_policy=FAST,
                         transport=httpx.ASGITransport(app), clock=clock, policy=policy, metrics=metrics)


def task(**kw) -> VideoInference:
    fields = {"taskUUID": new_task_uuid(), "model": "klingai:5@3", "positivePrompt": "neon record store at night",
              "negativePrompt": "text, watermark", "duration": 5, "width": 1080, "height": 1920, "fps": 24}
    return VideoInference(**{**fields, **kw})


@pytest.mark.parametrize("size", [(1080, 1920), (1920, 1080), (1080, 1080)])
async def test_create_and_poll_downloads_real_mp4_per_aspect(app, clock, policy, tmp_path, size):
    t = task(width=size[0], height=size[1])
    async with client(app, clock, policy) as c:
        item, path = await c.create_and_poll(t, tmp_path / "clip.mp4")
    w, h, dur, fps = probe_video(path)
    assert (w, h) == size and dur == pytest.approx(5, abs=0.1) and fps == pytest.approx(24)
    assert item.cost == pytest.approx(0.287) and item.taskUUID == t.taskUUID
    stats = app.emu.stats()
    assert stats["billed_jobs"] == 1 and stats["polls"] == 2
    assert not list(tmp_path.glob(".*"))  # no temp files left behind


async def test_client_side_validation_names_field(app, clock, policy):
    async with client(app, clock, policy) as c:
        for bad, field in [(task(duration=7), "duration"), (task(width=1000), "width/height"), (task(fps=60), "fps"),
                           (task(taskUUID="not-a-uuid"), "taskUUID")]:
            with pytest.raises(RequestInvalid) as ei:
                await c.submit(bad)
            assert ei.value.field == field
    assert app.emu.stats()["submits_received"] == 0


async def test_server_validation_400_names_parameter(app, clock, policy):
    async with client(app, clock, policy) as c:
        with pytest.raises(RequestInvalid) as ei:
            await c.submit(task(model="vidu:1@1"))  # unknown to our table: the server decides
    assert ei.value.status_code == 400 and ei.value.field == "model" and ei.value.code == "invalidModel"


async def test_402_out_of_credits_not_retried(app, clock, policy):
    app.emu.configure({"balance_usd": 0.1})
    async with client(app, clock, policy) as c:
        with pytest.raises(OutOfCredits) as ei:
            await c.submit(task())
    assert "out of credits" in str(ei.value) and "Insufficient credits" in str(ei.value)
    assert ei.value.attempts == 1 and app.emu.stats()["billed_jobs"] == 0


async def test_401_names_variable_and_never_leaks_key(app, clock, policy, caplog):
    secret = "rw-live-SECRET-abcdef0123"
    caplog.set_level("DEBUG")
    async with client(app, clock, policy, key=secret) as c:
        with pytest.raises(AuthError) as ei:
            await c.submit(task())
    assert "RUNWARE_API_KEY" in str(ei.value) and secret not in str(ei.value) and secret not in caplog.text


async def test_lost_submit_response_is_not_billed_twice(app, clock, policy, metrics):
    # the server accepts the job, then the response is lost (500 after processing is not
    # possible to script, so: accept, then the connection drops)
    add_fault(app, route="POST /v1", body_contains="videoInference", kind="reset", when="after", times=1)
    t = task()
    async with client(app, clock, policy, metrics=metrics) as c:
        assert await c.submit(t) == t.taskUUID
        item = await c.poll(t.taskUUID)
    stats = app.emu.stats()
    assert stats["submits_received"] == 2 and stats["conflicts"] == 1 and stats["billed_jobs"] == 1
    assert item.status == "success"
    assert metrics.calls[0]["op"] == "submit" and metrics.calls[0]["attempts"] == 2


async def test_first_attempt_conflict_is_a_real_error(app, clock, policy):
    t = task()
    async with client(app, clock, policy) as c:
        await c.submit(t)
        with pytest.raises(RequestInvalid) as ei:
            await c.submit(t)
        assert ei.value.code == "conflictTaskUUID"
        assert await c.submit(t, known_uuid=True) == t.taskUUID  # a persisted UUID: accepted
    assert app.emu.stats()["billed_jobs"] == 1


@pytest.mark.parametrize("form", ["errors", "item_error", "item_flat"])
async def test_failed_job_all_three_error_forms(app, clock, policy, form):
    app.emu.configure({"failure_form": form})
    add_fault(app, route="POST /v1", body_contains="videoInference", kind="job_failed", times=1)
    t = task()
    async with client(app, clock, policy) as c:
        await c.submit(t)
        with pytest.raises(JobFailed) as ei:
            await c.poll(t.taskUUID)
    assert ei.value.task_uuid == t.taskUUID and ei.value.code == "timeoutProvider"


async def test_stuck_job_times_out_with_backoff(app, clock, policy):
    add_fault(app, route="POST /v1", body_contains="videoInference", kind="job_stuck", times=1)
    t = task()
    async with client(app, clock, policy) as c:
        await c.submit(t)
        with pytest.raises(JobTimedOut) as ei:
            await c.poll(t.taskUUID, policy=PollPolicy(initial_delay_s=1, initial_s=1, factor=1.5, max_s=10,
                                                       deadline_s=60))
    assert ei.value.last_status == "processing" and ei.value.task_uuid == t.taskUUID
    assert clock.sleeps[:4] == [1, 1, 1.5, 2.25] and max(clock.sleeps) <= 10
    assert clock.t - 1000 <= 60 + 1e-6


async def test_poll_5xx_and_malformed_are_retried(app, clock, policy, metrics):
    add_fault(app, route="POST /v1", body_contains="getResponse", status=503, times=1)
    add_fault(app, route="POST /v1", body_contains="getResponse", kind="malformed", times=1)
    t = task()
    async with client(app, clock, policy, metrics=metrics) as c:
        await c.submit(t)
        item = await c.poll(t.taskUUID)
    assert item.status == "success"
    polls = [x for x in metrics.calls if x["op"] == "getResponse"]
    assert polls[0]["attempts"] == 3


async def test_download_refuses_hosts_off_the_allow_list(app, clock, policy, tmp_path):
    t = task()
    async with client(app, clock, policy, hosts=("cdn.runware.ai",)) as c:
        await c.submit(t)
        item = await c.poll(t.taskUUID)
        with pytest.raises(MediaRejected) as ei:
            await c.download(item.url, tmp_path / "x.mp4")
    assert "REELFLOW_MEDIA_HOSTS" in str(ei.value.hint)
    assert app.emu.stats()["downloads"] == 0 and not (tmp_path / "x.mp4").exists()


async def test_download_private_address_needs_explicit_opt_in(app, clock, policy, tmp_path):
    async with client(app, clock, policy, hosts=("127.0.0.1",), allow_private=False) as c:
        with pytest.raises(MediaRejected):
            await c.download("https://127.0.0.1/media/x.mp4", tmp_path / "x.mp4")


async def test_corrupt_download_retried_once_then_typed_error(app, clock, policy, tmp_path):
    t = task()
    async with client(app, clock, policy) as c:
        await c.submit(t)
        item = await c.poll(t.taskUUID)
        add_fault(app, route="GET /media/*", kind="body", content_type="video/mp4", body_text="garbage", times=1)
        path = await c.download(item.url, tmp_path / "ok.mp4", expect_size=(1080, 1920))
        assert probe_video(path)[:2] == (1080, 1920)
        add_fault(app, route="GET /media/*", kind="body", content_type="video/mp4", body_text="garbage", times=2)
        with pytest.raises(MediaInvalid):
            await c.download(item.url, tmp_path / "bad.mp4")
        add_fault(app, route="GET /media/*", kind="body", content_type="text/html", body_text="<html>", times=None)
        with pytest.raises(MediaInvalid) as ei:
            await c.download(item.url, tmp_path / "html.mp4")
        assert "text/html" in str(ei.value)
        with pytest.raises(MediaInvalid):
            app.faults.clear()
            await c.download(item.url, tmp_path / "size.mp4", expect_size=(1920, 1080))
    assert not (tmp_path / "bad.mp4").exists() and not (tmp_path / "html.mp4").exists()


async def test_adapter_generates_exact_size_and_never_pays_twice(app, clock, policy, tmp_path):
    gen = RunwareClipGenerator(KEY, BASE, model="klingai:1@1", ledger_path=tmp_path / "ledger.json",
                               media_hosts=["runware.test"], allow_private_media=True, poll_initial_s=1,
                               transport=httpx.ASGITransport(app), clock=clock, policy=policy)
    # 720x1280 is generated (the model's 9:16 size) and cropped/scaled to the exact 360x640 asked for
    req = ClipRequest(scene_index=2, prompt="sunrise over a running track", duration_s=4.2, width=360,
                      height=640, fps=30, seed=7)
    clip = await gen.generate(req, tmp_path / "scene2.mp4")
    w, h, dur, fps = probe_video(clip.path)
    assert (w, h) == (360, 640) and fps == pytest.approx(30) and dur >= 4.2
    assert clip.provider == "runware" and clip.cost_usd == pytest.approx(0.14) and clip.request_id
    # the clip carries its own cost entry: the job's taskUUID, the seconds the model bills
    assert [(c.provider, c.model, c.unit, c.units, c.request_id) for c in clip.costs] == [
        ("runware", "klingai:1@1", "seconds", gen.task_for(req)[0].duration, clip.request_id)]
    # a re-run (Prefect retry / flow re-run) reuses the persisted taskUUID: no second job
    clip2 = await gen.generate(req, tmp_path / "scene2-again.mp4")
    assert clip2.request_id == clip.request_id
    stats = app.emu.stats()
    assert stats["billed_jobs"] == 1 and stats["conflicts"] == 1
    assert JobLedger(tmp_path / "ledger.json").jobs(gen.task_for(req)[1])[0]["status"] == "success"


async def test_adapter_replaces_failed_and_stuck_jobs(app, clock, tmp_path):
    add_fault(app, route="POST /v1", body_contains="videoInference", kind="job_failed", times=1)
    add_fault(app, route="POST /v1", body_contains="videoInference", kind="job_stuck", times=1)
    gen = RunwareClipGenerator(KEY, BASE, model="bytedance:1@1", ledger_path=tmp_path / "ledger.json",
                               media_hosts=["runware.test"],
                               allow_private_media=True, poll_initial_s=1, job_deadline_s=20,
                               transport=httpx.ASGITransport(app), clock=clock, policy=RetryPolicy())
    req = ClipRequest(scene_index=0, prompt="a trail runner at dawn", duration_s=12, width=640, height=360, fps=24)
    clip = await gen.generate(req, tmp_path / "c.mp4")
    w, h, dur, _ = probe_video(clip.path)
    assert (w, h) == (640, 360) and dur >= 12  # 10 s model maximum, looped to the scene
    fp = gen.task_for(req)[1]
    jobs = JobLedger(tmp_path / "ledger.json").jobs(fp)
    assert [j["status"] for j in jobs] == ["failed", "stuck", "success"]
    assert [j["task_uuid"] for j in jobs] == [task_uuid_for(fp, n) for n in range(3)]
    assert app.emu.stats()["billed_jobs"] == 3  # scenes (1) + genuinely failed (1) + stuck (1)


async def test_adapter_gives_up_after_max_jobs(app, clock, tmp_path):
    add_fault(app, route="POST /v1", body_contains="videoInference", kind="job_failed", times=None)
    gen = RunwareClipGenerator(KEY, BASE, ledger_path=tmp_path / "l.json", media_hosts=["runware.test"],
                               allow_private_media=True, poll_initial_s=1, max_jobs=2,
                               transport=httpx.ASGITransport(app), clock=clock)
    with pytest.raises(JobFailed):
        await gen.generate(ClipRequest(scene_index=0, prompt="x y", duration_s=3, width=1080, height=1080),
                           tmp_path / "c.mp4")
    assert app.emu.stats()["billed_jobs"] == 2 and not (tmp_path / "c.mp4").exists()


async def test_real_http_lost_response_no_duplicate_and_no_leaked_connections(live_env, policy, clock, tmp_path):
    app = live_env["app"].state.services["runware"]
    add_fault(app, route="POST /v1", body_contains="videoInference", kind="reset", when="after", times=1)
    add_fault(app, route="POST /v1", body_contains="getResponse", status=502, times=1)
    t = task()
    async with RunwareClient(KEY, live_env["RUNWARE_BASE_URL"], media_hosts=["127.0.0.1"], allow_private_media=True,
                             poll_policy=FAST, clock=clock, policy=policy) as c:
        item, path = await c.create_and_poll(t, tmp_path / "v.mp4")
        assert open_connections(c.http) == 0 and open_connections(c.media_http) == 0
    stats = app.emu.stats()
    assert stats["billed_jobs"] == 1 and stats["conflicts"] == 1
    assert probe_video(path)[:2] == (1080, 1920)


def test_looped_clip_records_its_seams_and_qa_accepts_them(tmp_path):
    """A generated clip shorter than its scene is looped; the restart is a real cut (a Mandelbrot
    zoom jumps back to its start), which clip QA must not take for a flaw of the generation —
    otherwise every long scene would pay for a regeneration that loops the same way."""
    import subprocess

    from reelflow.clients.runware.adapter import normalize_clip
    from reelflow.processors.media import ffmpeg_exe, probe
    from reelflow.processors.qa import qa_clip

    src = tmp_path / "gen.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "mandelbrot=size=320x240:rate=24",
                    "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(src)], check=True)
    out = tmp_path / "scene.mp4"
    duration, seams = normalize_clip(src, out, 240, 320, 30, 5.0)
    assert duration == pytest.approx(5.0) and probe(out).duration_s == pytest.approx(5.0, abs=0.05)
    assert seams == [pytest.approx(2.0, abs=0.05), pytest.approx(4.0, abs=0.05)]
    naive = qa_clip(out, 5.0)
    assert any("unexpected cut" in f for f in naive.flags), naive.flags
    aware = qa_clip(out, 5.0, loop_seams_s=seams)
    assert not any("unexpected cut" in f for f in aware.flags), aware.flags
    assert aware.cuts_matched == len(aware.detected_cuts_s) == 2


async def test_adapter_polls_its_work_when_another_worker_submitted_it_first(app, clock, policy, tmp_path):
    """Two runs of one campaign do the same clip at once: the other worker's submit of this work's UUID
    lands first, so ours gets "Task UUID already used" on its first attempt. It is the same work (the
    UUID is derived from the fingerprint): poll it, pay once, never fail the video (a 2x12 chaos run did)."""
    gen = RunwareClipGenerator(KEY, BASE, model="klingai:1@1", ledger_path=tmp_path / "ledger.json",
                               media_hosts=["runware.test"], allow_private_media=True, poll_initial_s=1,
                               transport=httpx.ASGITransport(app), clock=clock, policy=policy)
    req = ClipRequest(scene_index=0, prompt="a lantern glowing in a tent", duration_s=4, width=360, height=640, fps=30)
    base, fingerprint = gen.task_for(req)
    async with client(app, clock, policy) as other:  # the other worker, before our ledger knows the job
        await other.submit(base.model_copy(update={"taskUUID": task_uuid_for(fingerprint, 0)}))
    clip = await gen.generate(req, tmp_path / "c.mp4")
    assert clip.request_id == task_uuid_for(fingerprint, 0)
    stats = app.emu.stats()
    assert stats["billed_jobs"] == 1 and stats["conflicts"] == 1
