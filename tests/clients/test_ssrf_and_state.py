"""SSRF guard (pre-resolution and connected peer), error/log redaction, job-ledger integrity."""

from __future__ import annotations

import http.server
import logging
import threading

import httpx
import pytest

from reelflow.clients._http import check_media_url, check_peer, is_public_address, parse_hosts
from reelflow.clients.errors import MediaRejected
from reelflow.clients.runware.adapter import JobLedger, RunwareClipGenerator, _unsigned
from reelflow.core.errors import CorruptStateError
from reelflow.core.models import ClipRequest
from reelflow.core.redaction import install_log_redaction, redact, register_secret
from tests.emulators import runware_app

HOSTS = parse_hosts("", [".runware.ai", "cdn.example.com"])

#: (url, address the host resolves to) → must be refused without allow_private.
REFUSED = [
    ("https://vm.runware.ai/a.mp4", "127.0.0.1"),
    ("https://vm.runware.ai/a.mp4", "10.1.2.3"),
    ("https://vm.runware.ai/a.mp4", "172.16.0.9"),
    ("https://vm.runware.ai/a.mp4", "192.168.1.1"),
    ("https://vm.runware.ai/a.mp4", "100.64.0.1"),          # shared address space (CGNAT)
    ("https://vm.runware.ai/a.mp4", "169.254.169.254"),     # cloud metadata
    ("https://vm.runware.ai/a.mp4", "0.0.0.0"),
    ("https://vm.runware.ai/a.mp4", "224.0.0.1"),
    ("https://vm.runware.ai/a.mp4", "192.0.2.10"),          # documentation
    ("https://vm.runware.ai/a.mp4", "198.18.0.1"),          # benchmarking
    ("https://vm.runware.ai/a.mp4", "::1"),
    ("https://vm.runware.ai/a.mp4", "fe80::1"),
    ("https://vm.runware.ai/a.mp4", "fd12:3456::1"),
    ("https://vm.runware.ai/a.mp4", "::ffff:127.0.0.1"),    # IPv4-mapped loopback
    ("https://vm.runware.ai/a.mp4", "2002:7f00:1::1"),      # 6to4-wrapped 127.0.0.1
    ("https://vm.runware.ai/a.mp4", "2002:a9fe:a9fe::1"),   # 6to4-wrapped 169.254.169.254
    ("https://vm.runware.ai/a.mp4", "2001:0:4136:e378:8000:63bf:80ff:fffe"),  # Teredo, client 127.0.0.1
    ("https://vm.runware.ai/a.mp4", "64:ff9b::a9fe:a9fe"),  # NAT64-wrapped metadata address
    ("https://vm.runware.ai/a.mp4", "2001:db8::1"),
    ("https://vm.runware.ai:8443/a.mp4", "8.8.8.8"),        # public, but not port 443
    ("https://vm.runware.ai:22/a.mp4", "8.8.8.8"),
    ("http://vm.runware.ai/a.mp4", "8.8.8.8"),              # not https
    ("https://user:pw@vm.runware.ai/a.mp4", "8.8.8.8"),     # credentials in URL
    ("https://evil.example.org/a.mp4", "8.8.8.8"),          # host not on the allow-list
    ("https://runware.ai.evil.org/a.mp4", "8.8.8.8"),
    ("https://127.0.0.1/a.mp4", None),                      # literal IPs
    ("https://[::1]/a.mp4", None),
    ("https://[::ffff:169.254.169.254]/a.mp4", None),
]
ALLOWED = [
    ("https://vm.runware.ai/a.mp4", "8.8.8.8"),
    ("https://vm.runware.ai:443/a.mp4", "2606:4700:4700::1111"),
    ("https://cdn.example.com/a.mp4", "1.1.1.1"),
]


def _resolver(addr):
    async def resolve(host: str) -> list[str]:
        return [addr]
    return resolve


async def test_ssrf_guard_refuses_every_non_public_target():
    refused = 0
    for url, addr in REFUSED:
        hosts = HOSTS + ["127.0.0.1", "::1", "::ffff:169.254.169.254"] if addr is None else HOSTS
        with pytest.raises(MediaRejected):
            await check_media_url(url, hosts, resolver=_resolver(addr) if addr else None)
        refused += 1
    for url, addr in ALLOWED:
        await check_media_url(url, HOSTS, resolver=_resolver(addr))
    assert refused == len(REFUSED) == 28
    print(f"SSRF cases refused: {refused} of {len(REFUSED)}; allowed public: {len(ALLOWED)}")


def test_public_address_unwraps_tunnels():
    assert is_public_address("8.8.8.8") and is_public_address("2606:4700::1111")
    assert not is_public_address("2002:0a00:0001::1")  # 6to4 of 10.0.0.1
    assert not is_public_address("not-an-ip")


class _Quiet(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server API
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", "4")
        self.end_headers()
        self.wfile.write(b"\x00\x00\x00\x00")

    def log_message(self, *args):  # noqa: D102
        pass


async def test_connected_peer_is_checked_after_name_resolution():
    """DNS rebinding: the pre-check saw a public address, the connection went to loopback."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/a.mp4"
        async with httpx.AsyncClient() as http_client:
            response = await http_client.send(http_client.build_request("GET", url), stream=True)
            try:
                with pytest.raises(MediaRejected, match="connected to 127.0.0.1"):
                    check_peer(response, service="runware")
                check_peer(response, allow_private=True)  # emulators/gateways: explicit opt-in
            finally:
                await response.aclose()
    finally:
        server.shutdown()


def test_secrets_are_redacted_in_errors_and_every_log_record(caplog):
    secret = "rw-live-4f7c2a9e1b"
    register_secret(secret)
    install_log_redaction()
    assert secret not in redact(f"Invalid key {secret} (Bearer abcdef123456)")
    log = logging.getLogger("reelflow.test")
    with caplog.at_level(logging.INFO):
        log.info("calling with key %s", secret)
        try:
            raise RuntimeError(f"server echoed {secret}")
        except RuntimeError:
            log.exception("failed")
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert secret not in text and "***" in text


def test_corrupt_job_ledger_is_a_typed_error_and_is_kept(tmp_path):
    path = tmp_path / "runware-jobs.json"
    path.write_text('{"abc": [{"task_uuid": "1", "status": "submit')  # torn write
    with pytest.raises(CorruptStateError) as err:
        JobLedger(path).current_or_new("abc")
    assert str(path) in err.value.message and "never resets" in err.value.hint
    assert path.read_text().endswith('"submit')  # not reset
    path.write_text("[1, 2]")
    with pytest.raises(CorruptStateError, match="layout"):
        JobLedger(path).jobs("abc")


def test_signed_media_urls_are_not_stored():
    signed = "https://vm.runware.ai/v/abc.mp4?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA&token=t0k"
    assert _unsigned(signed) == "https://vm.runware.ai/v/abc.mp4"
    assert _unsigned("https://u:p@h.example/x.mp4#frag") == "https://h.example/x.mp4"


async def test_ledger_after_a_real_job_holds_no_media_url_query(clock, policy, tmp_path):
    app = runware_app.create_app("rw-key-123456")
    app.emu.configure({"media_base_url": "http://runware.test"})
    gen = RunwareClipGenerator("rw-key-123456", "http://runware.test/v1", model="klingai:1@1",
                               ledger_path=tmp_path / "ledger.json", media_hosts=["runware.test"],
                               allow_private_media=True, poll_initial_s=1, transport=httpx.ASGITransport(app),
                               clock=clock, policy=policy)
    req = ClipRequest(scene_index=0, prompt="sunrise over a track", duration_s=3, width=360, height=640, fps=30, seed=3)
    await gen.generate(req, tmp_path / "s0.mp4")
    job = JobLedger(tmp_path / "ledger.json").jobs(gen.task_for(req)[1])[0]
    assert job["status"] == "success" and "video_url" not in job and "?" not in job["video"]
    assert "rw-key-123456" not in (tmp_path / "ledger.json").read_text()
