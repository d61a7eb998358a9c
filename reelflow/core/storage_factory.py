"""Choose the ``Storage`` backend from settings: local folder (default) or S3.

``settings.storage.uri``:

- ``""`` (default) → :class:`core.storage.LocalStorage` rooted at ``settings.paths.outputs_dir``;
- ``file:///abs/path`` or a plain path → ``LocalStorage`` rooted there;
- ``s3://bucket/prefix`` → :class:`core.storage_s3.S3Storage` (credentials/endpoint from the
  standard ``AWS_*`` variables; ``AWS_ENDPOINT_URL`` for SeaweedFS/MinIO/R2).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from reelflow.core.errors import ConfigurationError
from reelflow.core.ports import Storage
from reelflow.core.settings import Settings
from reelflow.core.storage import LocalStorage


def make_storage(settings: Settings) -> Storage:
    """Return the ``Storage`` backend configured by ``settings.storage.uri``.

    No network I/O happens here; an S3 backend checks its bucket and credentials on first use.

    Raises:
        ConfigurationError: the URI scheme is not empty, a path, ``file://`` or ``s3://``
            (names ``REELFLOW_STORAGE__URI``).
    """
    uri = (settings.storage.uri or "").strip()
    if not uri:
        return LocalStorage(settings.paths.outputs_dir)
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        from reelflow.core.storage_s3 import S3Storage

        if not parsed.netloc:
            raise ConfigurationError(
                f"REELFLOW_STORAGE__URI={uri!r} has no bucket",
                hint="use s3://bucket/prefix",
            )
        return S3Storage.from_uri(uri, multipart_threshold_mb=settings.storage.multipart_threshold_mb)
    if parsed.scheme == "file":
        return LocalStorage(Path(unquote(parsed.path)))
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and uri[1:3] in (":\\", ":/")):  # plain or Windows path
        return LocalStorage(Path(uri).expanduser())
    raise ConfigurationError(
        f"REELFLOW_STORAGE__URI={uri!r} has an unsupported scheme {parsed.scheme!r}",
        hint="use an empty value (local outputs folder), a folder path, file:///path or s3://bucket/prefix",
    )
