"""Where the wall time and the CPU seconds of a ReelFlow run go (a profiler, not a target).

Two modes:

``make ARGS...`` runs ``reelflow make ARGS...`` in this process and samples every thread ten times
a second: each thread's CPU time (``/proc/self/task/<tid>/stat``) since the last sample is charged
to the innermost ReelFlow frame it is running (and the flow task around it), and the busiest code
of each second is printed as a timeline. Finished subprocesses (ffmpeg, the temporary Prefect
server) are counted by ``getrusage(RUSAGE_CHILDREN)``::

    .venv/bin/python bench/profile_cpu.py make "30-second vertical video for ..." --duration 30

``chaos ARGS...`` runs ``bench/chaos_campaign.py ARGS...`` with the same sampler in both campaign
worker processes and ``psutil`` polling of the whole process tree, and prints the CPU seconds per
process kind (workers, their ffmpeg children, the Prefect server, the bench with its emulators)
and per code location in the workers::

    .venv/bin/python bench/profile_cpu.py chaos --videos 2 --duration 8

Sampling misses threads that start and end between two samples (short Prefect worker threads),
so the per-location table sums to less than the process total printed above it.
"""

from __future__ import annotations

import collections
import logging
import os
import resource
import sys
import threading
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


class Sampler:
    """Per-thread CPU time charged to (flow task, innermost ReelFlow frame); a per-second timeline."""

    def __init__(self, interval_s: float = 0.1) -> None:
        self.interval_s = interval_s
        self.cpu: collections.Counter = collections.Counter()
        self.seconds: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
        self.t0 = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    @staticmethod
    def _thread_cpu(native_id: int) -> float | None:
        try:
            fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime

    def _run(self) -> None:
        last: dict[int, float] = {}
        while not self._stop.wait(self.interval_s):
            frames = sys._current_frames()
            now = int(time.perf_counter() - self.t0)
            for th in threading.enumerate():
                if th.native_id is None or th is threading.current_thread():
                    continue
                cpu = self._thread_cpu(th.native_id)
                if cpu is None:
                    continue
                delta, last[th.native_id] = cpu - last.get(th.native_id, 0.0), cpu
                if delta <= 0:
                    continue
                stack = traceback.extract_stack(frames[th.ident]) if th.ident in frames else []
                ours = [f for f in stack if "/reelflow/" in f.filename]
                where = f"{ours[-1].filename.split('/reelflow/')[-1]}:{ours[-1].name}" if ours else f"({th.name[:24]})"
                task = next((f.name for f in reversed(ours) if "/flows/" in f.filename), "-")
                self.cpu[(task, where)] += delta
                self.seconds[now][where] += delta

    def report(self, out, top: int = 40, timeline: bool = True) -> None:
        """Print the CPU table (and the per-second timeline) to ``out``."""
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        print(f"process CPU {me.ru_utime + me.ru_stime:.1f} s, finished subprocesses CPU "
              f"{kids.ru_utime + kids.ru_stime:.1f} s, sampled {sum(self.cpu.values()):.1f} s", file=out)
        print(f"{'CPU s':>7}  {'flow task':<22} code (innermost ReelFlow frame)", file=out)
        for (task, where), v in self.cpu.most_common(top):
            print(f"{v:7.2f}  {task:<22} {where}", file=out)
        if timeline:
            print("\nsecond  CPU s  busiest code", file=out)
            for s in sorted(self.seconds):
                row = self.seconds[s]
                busiest = ", ".join(f"{w} {v:.1f}" for w, v in row.most_common(3))
                print(f"{s:6d}  {sum(row.values()):5.2f}  {busiest}", file=out)


def _subprocess_kind(cmd: list[str]) -> str:
    """A short name for a subprocess of ``reelflow make`` (ffmpeg runs named by what they do)."""
    line = " ".join(cmd)
    if "uvicorn" in line or ("prefect" in line and "server" in line):
        return "prefect server"
    if "ffmpeg" not in (cmd[0] if cmd else ""):
        return line[:50]
    for needle, name in (("pipe:0", "ffmpeg motion encode (x264 + libass)"), ("alimiter", "ffmpeg limiter"),
                         ("amix", "ffmpeg mix"), ("anull", "ffmpeg mix"), ("keyframes.rgb", "ffmpeg keyframes"),
                         ("-c:a aac", "ffmpeg AAC encode"), ("-c copy", "ffmpeg mux"), ("-f f32le", "ffmpeg decode audio"),
                         ("-f s16le", "ffmpeg decode audio")):
        if needle in line:
            return name
    return "ffmpeg other"


class ProcessPoller:
    """``psutil`` polling of this process's subprocess tree: CPU seconds and wall span per kind."""

    def __init__(self, t0: float, interval_s: float = 0.1) -> None:
        import psutil

        self.t0, self.interval_s = t0, interval_s
        self.me = psutil.Process()
        self.seen: dict[tuple[int, float], list] = {}  # (pid, create time) → [kind, cpu s, first s, last s]
        self.seconds: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="process-poller", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.wait(self.interval_s):
            now = time.perf_counter() - self.t0
            for p in self.me.children(recursive=True):
                try:
                    key = (p.pid, p.create_time())
                    t = p.cpu_times()
                    if key not in self.seen:
                        self.seen[key] = [_subprocess_kind(p.cmdline()), 0.0, now, now]
                    row = self.seen[key]
                    self.seconds[int(now)][row[0]] += t.user + t.system - row[1]
                    row[1], row[3] = t.user + t.system, now
                except psutil.Error:
                    continue

    def report(self, out) -> None:
        """Stop and print CPU seconds per kind and each process's wall span (last CPU reading
        before it ended: short runs may be missed or under-counted)."""
        self._stop.set()
        self._thread.join(timeout=2)
        by: collections.Counter = collections.Counter()
        for kind, cpu, _a, _b in self.seen.values():
            by[kind] += cpu
        print("\nsubprocesses (psutil, polled every 0.1 s):", file=out)
        for kind, cpu in by.most_common():
            print(f"  {cpu:7.2f} s  {kind}", file=out)
        print("  wall spans:", file=out)
        for kind, cpu, a, b in sorted(self.seen.values(), key=lambda r: r[2]):
            print(f"    {a:6.1f} - {b:6.1f} s  {cpu:6.2f} CPU s  {kind}", file=out)
        print("\nsecond  subprocess CPU s", file=out)
        for s in sorted(self.seconds):
            row = self.seconds[s]
            print(f"{s:6d}  " + ", ".join(f"{k} {v:.2f}" for k, v in row.most_common(3) if v > 0.005), file=out)


class TaskTimes:
    """Wall time (since ``t0``) at which each Prefect task run reported its final state, read from
    the log records ``reelflow make``'s progress bar receives."""

    def __init__(self, t0: float) -> None:
        self.t0, self.rows = t0, []

    def hook(self) -> None:
        from reelflow import cli_make

        emit = cli_make._TaskProgress.emit

        def recording_emit(handler, record: logging.LogRecord) -> None:
            if "Finished in state" in record.getMessage():
                self.rows.append((time.perf_counter() - self.t0, getattr(record, "task_run_name", "") or record.name))
            emit(handler, record)

        cli_make._TaskProgress.emit = recording_emit


def profile_make(args: list[str]) -> None:
    """``reelflow make ARGS`` in this process, profiled."""
    t0 = time.perf_counter()
    sampler = Sampler().start()
    poller = ProcessPoller(t0)
    tasks = TaskTimes(t0)
    from reelflow._cli_common import prepare_environment

    prepare_environment()
    from reelflow import cli

    tasks.hook()
    cli._register()
    try:
        cli.app(["make", *args], standalone_mode=False)
    except SystemExit:
        pass
    wall = time.perf_counter() - t0
    sampler.stop()
    print(f"\n== reelflow make: wall {wall:.1f} s, load average {os.getloadavg()[0]:.1f} ==")
    sampler.report(sys.stdout)
    poller.report(sys.stdout)
    print("\ntask runs finished at (s since start):", file=sys.stdout)
    for at, name in tasks.rows:
        print(f"  {at:6.1f}  {name}", file=sys.stdout)


_WORKER_HOOK = (
    "import atexit, sys; sys.path.insert(0, {bench!r}); import profile_cpu as _p; _s = _p.Sampler().start(); "
    "atexit.register(lambda: _s.report(open({out!r} + str(__import__('os').getpid()) + '.txt', 'w'), timeline=False))\n"
)


def profile_chaos(args: list[str]) -> None:
    """``bench/chaos_campaign.py ARGS`` with the sampler in its workers and psutil over the tree."""
    import tempfile

    import psutil

    sys.path.insert(0, str(REPO / "bench"))
    import chaos_campaign

    prefix = tempfile.mkdtemp(prefix="profile-chaos-") + "/worker-"
    chaos_campaign.WORKER = _WORKER_HOOK.format(bench=str(REPO / "bench"), out=prefix) + chaos_campaign.WORKER
    me = psutil.Process()
    seen: dict[int, tuple[str, float, float]] = {}
    stop = threading.Event()

    def kind(p: psutil.Process) -> str:
        cmd = " ".join(p.cmdline())
        if "uvicorn" in cmd or ("prefect" in cmd and "server" in cmd):
            return "prefect server"
        if "ffmpeg" in cmd:
            return "ffmpeg"
        return "campaign worker (python)" if "campaign" in cmd else cmd[:50]

    def poll() -> None:
        while not stop.wait(0.3):
            for p in me.children(recursive=True):
                try:
                    t = p.cpu_times()
                    seen[p.pid] = (seen[p.pid][0] if p.pid in seen else kind(p), t.user + t.system,
                                   t.children_user + t.children_system)
                except psutil.Error:
                    continue

    threading.Thread(target=poll, daemon=True).start()
    t0 = time.perf_counter()
    code = chaos_campaign.main(args)
    stop.set()
    wall = time.perf_counter() - t0
    by: collections.Counter = collections.Counter()
    for k, own, _children in seen.values():
        by[k] += own  # ffmpeg processes are polled themselves (their parents' children_* would count them twice)
    me_ru = resource.getrusage(resource.RUSAGE_SELF)
    by["bench process (emulators, checks)"] = me_ru.ru_utime + me_ru.ru_stime
    total = sum(by.values())
    print(f"\n== chaos campaign {' '.join(args)}: wall {wall:.1f} s, CPU {total:.1f} s (polled every 0.3 s), "
          f"load average {os.getloadavg()[0]:.1f} ==")
    for k, v in by.most_common():
        print(f"  {v:7.1f} s  {k}")
    for path in sorted(Path(prefix).parent.glob("worker-*.txt")):
        print(f"\n-- {path.name} --\n{path.read_text()}")
    raise SystemExit(code)


def main() -> None:
    """CLI entry point (see the module docstring)."""
    if len(sys.argv) < 2 or sys.argv[1] not in ("make", "chaos"):
        raise SystemExit(__doc__)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(REPO))
    (profile_make if sys.argv[1] == "make" else profile_chaos)(sys.argv[2:])


if __name__ == "__main__":
    main()
