"""Runware REST task API emulator (``../shared/docs/api-contracts.md`` §2).

``POST /v1`` takes a JSON array of tasks (``authentication`` first, or ``Authorization:
Bearer``): ``videoInference`` (validated per model; async ack; ``conflictTaskUUID`` on a
reused UUID; 402 when the balance is short), ``getResponse`` (cumulative state:
``processing`` → ``success`` with ``videoURL``/``cost``, or an error in one of three forms),
``ping``. ``GET /media/{uuid}.mp4`` serves a real H.264 MP4 of the requested size, duration and
fps (ffmpeg ``testsrc2``, cached). ``GET /__emulator__/stats`` counts billed jobs.

Knobs (``POST /__emulator__/config``): ``polls_to_complete`` (default 2),
``failure_form`` (``"errors"`` | ``"item_error"`` | ``"item_flat"``), ``balance_usd``,
``media_base_url`` (absolute base for ``videoURL``; default: the request's own base URL).
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from tests.emulators._common import FaultMiddleware, fault_of, mp4_file, own_base

#: Per-model limits the emulator enforces (independent of the client's table on purpose).
MODELS: dict[str, dict[str, Any]] = {
    "klingai:5@3": {"durations": [5, 10], "sizes": [(1920, 1080), (1080, 1920), (1080, 1080)], "fps": [24, 30],
                    "usd_per_s": 0.0574},
    "klingai:1@1": {"durations": [5, 10], "sizes": [(1280, 720), (720, 1280), (960, 960)], "fps": [24, 30],
                    "usd_per_s": 0.028},
    "bytedance:1@1": {"durations": [5, 10], "sizes": [(864, 480), (480, 864), (640, 640), (1248, 704), (704, 1248)],
                      "fps": [24], "usd_per_s": 0.018},
    "minimax:3@1": {"durations": [6, 10], "sizes": [(1366, 768), (768, 1366), (1024, 1024)], "fps": [25],
                    "usd_per_s": 0.045},
    "google:3@1": {"durations": [8], "sizes": [(1280, 720), (720, 1280), (1080, 1080)], "fps": [24],
                   "usd_per_s": 0.10},
}


def _e(code: str, message: str, task: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    err = {"code": code, "message": message, **extra}
    if task:
        err["taskType"] = task.get("taskType")
        if task.get("taskUUID"):
            err["taskUUID"] = task.get("taskUUID")
    return err


class RunwareEmulator:
    """Jobs, balance and counters of the Runware emulator."""

    def __init__(self, api_key: str = "runware-test-key") -> None:
        self.api_key = api_key
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.polls_to_complete = 2
            self.failure_form = "errors"
            self.media_base_url: str | None = None
            self.jobs: dict[str, dict[str, Any]] = {}
            self.media: dict[str, dict[str, Any]] = {}
            self.balance_usd = 1000.0
            self.counters = {"billed_jobs": 0, "submits_received": 0, "conflicts": 0, "polls": 0, "downloads": 0,
                             "auth_failures": 0, "jobs_failed": 0, "jobs_stuck": 0, "jobs_succeeded": 0,
                             "spent_usd": 0.0}

    def configure(self, cfg: dict[str, Any]) -> None:
        with self.lock:
            for k in ("api_key", "polls_to_complete", "failure_form", "media_base_url", "balance_usd"):
                if k in cfg:
                    setattr(self, k, cfg[k])

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {**self.counters, "balance_usd": round(self.balance_usd, 4),
                    "jobs": {k: {kk: v[kk] for kk in ("state", "fate", "polls", "cost", "width", "height", "duration")}
                             for k, v in self.jobs.items()}}

    # -- tasks ----------------------------------------------------------------------------------

    def video(self, task: dict[str, Any], fault: str | None) -> tuple[int, dict[str, Any] | None, dict[str, Any] | None]:
        """Validate and accept one videoInference task → (status, data item, error)."""
        tid = task.get("taskUUID")
        try:
            uuid.UUID(str(tid))
        except ValueError:
            return 400, None, _e("invalidTaskUUID", "Invalid value for taskUUID. It must be a UUID v4", task,
                                 parameter="taskUUID")
        with self.lock:
            self.counters["submits_received"] += 1
            if tid in self.jobs:
                self.counters["conflicts"] += 1
                return 400, None, _e("conflictTaskUUID", "Task UUID already used", task,
                                     context={"taskType": "videoInference", "taskUUID": tid,
                                              "deliveryMethod": task.get("deliveryMethod")})
        prompt = task.get("positivePrompt")
        if not prompt or not isinstance(prompt, str):
            return 400, None, _e("missingPositivePrompt", "Missing required parameter positivePrompt", task,
                                 parameter="positivePrompt")
        if not 2 <= len(prompt.strip()) <= 3000:
            return 400, None, _e("invalidPositivePrompt", "positivePrompt must be 2-3000 characters", task,
                                 parameter="positivePrompt")
        spec = MODELS.get(task.get("model", ""))
        if spec is None:
            return 400, None, _e("invalidModel", f"Invalid model: {task.get('model')!r}", task, parameter="model",
                                 allowedValues=sorted(MODELS))
        if task.get("duration") not in spec["durations"]:
            return 400, None, _e("invalidDuration",
                                 f"Invalid value for duration. Allowed values: {', '.join(map(str, spec['durations']))}",
                                 task, parameter="duration", type="float", allowedValues=spec["durations"])
        size = (task.get("width"), task.get("height"))
        if size not in spec["sizes"]:
            return 400, None, _e("unsupportedDimensions", f"Unsupported width/height {size[0]}x{size[1]}", task,
                                 parameter="width", allowedValues=[f"{w}x{h}" for w, h in spec["sizes"]])
        fps = task.get("fps", spec["fps"][0])
        if fps not in spec["fps"]:
            return 400, None, _e("invalidFps", f"Invalid value for fps. Allowed values: {spec['fps']}", task,
                                 parameter="fps", allowedValues=spec["fps"])
        if str(task.get("deliveryMethod", "async")).lower() != "async":
            return 400, None, _e("unsupportedDeliveryMethod", "videoInference supports deliveryMethod 'async' only",
                                 task, parameter="deliveryMethod")
        if str(task.get("outputFormat", "MP4")).upper() not in ("MP4",):
            return 400, None, _e("unsupportedOutputFormat", "outputFormat must be MP4 (emulator)", task,
                                 parameter="outputFormat")
        cost = round(spec["usd_per_s"] * task["duration"], 4)
        with self.lock:
            if tid in self.jobs:  # raced with a concurrent duplicate
                self.counters["conflicts"] += 1
                return 400, None, _e("conflictTaskUUID", "Task UUID already used", task)
            if self.balance_usd < cost:
                return 402, None, _e("insufficientCredits",
                                     "Insufficient credits. Add funds at https://my.runware.ai/wallet", task)
            self.balance_usd -= cost
            self.counters["billed_jobs"] += 1
            self.counters["spent_usd"] = round(self.counters["spent_usd"] + cost, 4)
            fate = fault if fault in ("job_failed", "job_stuck") else "ok"
            self.jobs[tid] = {"state": "processing", "fate": fate, "polls": 0, "cost": cost, "width": size[0],
                              "height": size[1], "duration": task["duration"], "fps": fps,
                              "seed": task.get("seed") or 424242, "videoUUID": str(uuid.uuid4()),
                              "include_cost": bool(task.get("includeCost"))}
        return 200, {"taskType": "videoInference", "taskUUID": tid}, None

    def poll(self, task: dict[str, Any], base: str) -> tuple[int, list[dict[str, Any]], list[dict[str, Any]]]:
        """One getResponse → (status, data items, errors)."""
        tid = task.get("taskUUID")
        with self.lock:
            self.counters["polls"] += 1
            job = self.jobs.get(tid)
            if job is None:
                return 400, [], [_e("taskFailedOrNotFound", f"Task {tid} not found or expired", task)]
            job["polls"] += 1
            if job["state"] == "processing" and job["fate"] != "job_stuck" and job["polls"] >= self.polls_to_complete:
                job["state"] = "error" if job["fate"] == "job_failed" else "success"
                self.counters["jobs_failed" if job["state"] == "error" else "jobs_succeeded"] += 1
                if job["state"] == "success":
                    self.media[job["videoUUID"]] = job
            if job["fate"] == "job_stuck" and job["polls"] == self.polls_to_complete:
                self.counters["jobs_stuck"] += 1
            state = job["state"]
            form = self.failure_form
        item: dict[str, Any] = {"taskType": "videoInference", "taskUUID": tid}
        if state == "processing":
            progress = min(95, 100 * job["polls"] // max(1, self.polls_to_complete + 1))
            return 200, [{**item, "status": "processing", "progress": progress}], []
        if state == "error":
            msg = "The provider timed out while generating the video"
            if form == "item_error":
                return 200, [{**item, "status": "error", "error": {"code": "timeoutProvider", "message": msg}}], []
            if form == "item_flat":
                return 200, [{**item, "status": "error", "code": "timeoutProvider", "message": msg}], []
            return 200, [], [_e("timeoutProvider", msg, {"taskType": "videoInference", "taskUUID": tid})]
        url = f"{(self.media_base_url or base).rstrip('/')}/media/{job['videoUUID']}.mp4"
        result = {**item, "status": "success", "videoUUID": job["videoUUID"], "videoURL": url, "seed": job["seed"]}
        if job["include_cost"]:
            result["cost"] = job["cost"]
        return 200, [result], []


def create_app(api_key: str = "runware-test-key") -> FaultMiddleware:
    """The Runware emulator as an ASGI app (wrapped in the fault middleware)."""
    emu = RunwareEmulator(api_key)

    async def tasks(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"errors": [_e("invalidRequestBody", "Request body is not valid JSON")]}, status_code=400)
        if not isinstance(body, list) or not body:
            return JSONResponse({"errors": [_e("invalidRequestBody", "Request body must be a non-empty JSON array of tasks")]},
                                status_code=400)
        key = None
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            key = auth[7:]
        if isinstance(body[0], dict) and body[0].get("taskType") == "authentication":
            key = body[0].get("apiKey")
            body = body[1:]
        if key != emu.api_key:
            with emu.lock:
                emu.counters["auth_failures"] += 1
            return JSONResponse({"errors": [{"code": "invalidApiKey",
                                             "message": "Invalid API key. Get one at https://my.runware.ai/signup",
                                             "parameter": "apiKey", "taskType": "authentication"}]}, status_code=401)
        data, errors, statuses = [], [], []
        base = own_base(request)
        fault = fault_of(request)
        for task in body:
            if not isinstance(task, dict):
                errors.append(_e("invalidTask", "Each task must be an object"))
                statuses.append(400)
                continue
            tt = task.get("taskType")
            if tt == "videoInference":
                st, item, err = emu.video(task, fault)
                statuses.append(st)
                if item:
                    data.append(item)
                if err:
                    errors.append(err)
            elif tt == "getResponse":
                st, items, errs = emu.poll(task, base)
                statuses.append(st)
                data.extend(items)
                errors.extend(errs)
            elif tt == "ping":
                data.append({"taskType": "ping", "taskUUID": task.get("taskUUID"), "pong": True})
                statuses.append(200)
            else:
                errors.append(_e("unsupportedTaskType", f"Unsupported taskType {tt!r}", task, parameter="taskType"))
                statuses.append(400)
        if errors and not data:
            status = max(statuses) if statuses else 400
            return JSONResponse({"data": [], "errors": errors}, status_code=status if status >= 400 else 200)
        out: dict[str, Any] = {"data": data}
        if errors:
            out["errors"] = errors
        return JSONResponse(out)

    async def media(request: Request) -> Response:
        vid = request.path_params["name"].removesuffix(".mp4")
        with emu.lock:
            job = emu.media.get(vid)
        if job is None:
            return Response("Not Found", status_code=404, media_type="text/plain")
        path = await anyio.to_thread.run_sync(mp4_file, job["width"], job["height"], job["duration"], job["fps"])
        with emu.lock:
            emu.counters["downloads"] += 1
        return FileResponse(path, media_type="video/mp4")

    app = Starlette(routes=[
        Route("/v1", tasks, methods=["POST"]),
        Route("/v1/", tasks, methods=["POST"]),
        Route("/media/{name}", media, methods=["GET"]),
    ])
    app.state.emu = emu

    def error_body(status: int, message: str) -> dict[str, Any]:
        code = {429: "rateLimitExceeded", 401: "invalidApiKey", 402: "insufficientCredits"}.get(status, "serverError")
        return {"errors": [{"code": code, "message": message}]}

    return FaultMiddleware(app, error_body)
