"""Serve all four emulators on 127.0.0.1: ``python -m tests.emulators --port 8790``.

Prints the environment variables that point ReelFlow at them (see ``tests/emulators/__init__.py``).
"""

from __future__ import annotations

import argparse

from tests.emulators import DEFAULT_KEYS, base_urls, combined_app


def main() -> None:
    """Parse flags and run uvicorn in the foreground (Ctrl-C stops it)."""
    import uvicorn

    ap = argparse.ArgumentParser(prog="python -m tests.emulators", description=__doc__)
    ap.add_argument("--port", type=int, default=8790)
    ap.add_argument("--hume-key", default=DEFAULT_KEYS["HUME_API_KEY"])
    ap.add_argument("--runware-key", default=DEFAULT_KEYS["RUNWARE_API_KEY"])
    ap.add_argument("--openai-key", default=DEFAULT_KEYS["OPENAI_API_KEY"])
    ap.add_argument("--spotify-id", default=DEFAULT_KEYS["SPOTIFY_CLIENT_ID"])
    ap.add_argument("--spotify-secret", default=DEFAULT_KEYS["SPOTIFY_CLIENT_SECRET"])
    ap.add_argument("--log-level", default="warning")
    a = ap.parse_args()
    keys = {"HUME_API_KEY": a.hume_key, "RUNWARE_API_KEY": a.runware_key, "OPENAI_API_KEY": a.openai_key,
            "SPOTIFY_CLIENT_ID": a.spotify_id, "SPOTIFY_CLIENT_SECRET": a.spotify_secret}
    env = {**keys, **base_urls(f"http://127.0.0.1:{a.port}"), "REELFLOW_MEDIA_HOSTS": "127.0.0.1",
           "REELFLOW_ALLOW_PRIVATE_MEDIA": "true"}
    print("ReelFlow service emulators; point ReelFlow at them with:")
    for k, v in env.items():
        print(f"  export {k}={v}")
    uvicorn.run(combined_app(keys), host="127.0.0.1", port=a.port, log_level=a.log_level, lifespan="off")


if __name__ == "__main__":
    main()
