"""S3 ``Storage`` backend on boto3 (AWS S3 or any S3-compatible server: SeaweedFS, MinIO, R2).

Selected with ``REELFLOW_STORAGE__URI=s3://bucket/prefix`` (see :mod:`core.storage_factory`).
Credentials, region and endpoint come from boto3's standard chain: ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN`` / ``AWS_PROFILE`` / ``AWS_REGION`` and
``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_S3``) for a non-AWS server. When an endpoint URL is
set, path-style addressing is used (what self-hosted servers expect).

Atomic publish (per object) — *temp key, verify, server-side copy, delete temp*:

1. the file is uploaded to ``<prefix>/.reelflow-tmp/<uuid>-<name>`` (multipart above
   ``multipart_threshold_mb``; boto3's transfer manager aborts the multipart upload on failure,
   so a failed upload leaves no parts behind), with ``Content-Type`` and the file's SHA-256 in
   object metadata (``x-amz-meta-sha256``);
2. the temp object's size is checked against the local file;
3. it is copied server-side onto the final key (``CopyObject``, or ``UploadPartCopy`` for big
   objects — the final key appears only when the copy completes, so a reader never sees a
   partial object under its final name, and an existing object stays intact until then);
4. the temp object is deleted (also on any failure after step 1).

Per video, :meth:`S3Storage.publish_dir` publishes every file and writes ``manifest.json``
**last**, so consumers that wait for the manifest never see an incomplete set. A crash between
steps can leave objects under ``.reelflow-tmp/`` only: add a bucket lifecycle rule expiring that
prefix after a day.

Errors: bad credentials → :class:`~core.errors.ConfigurationError` naming ``AWS_ACCESS_KEY_ID``
/``AWS_SECRET_ACCESS_KEY``; missing bucket → ``ConfigurationError`` naming
``REELFLOW_STORAGE__URI``; endpoint unreachable → ``ConfigurationError`` naming
``AWS_ENDPOINT_URL``; checksum mismatch on download → :class:`~core.errors.ProcessingError`.

Source: boto3 S3 transfer manager (``TransferConfig``, ``upload_file``, ``copy``),
https://boto3.amazonaws.com/v1/documentation/api/latest/guide/s3.html ; S3 ``CopyObject``
semantics https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html .
"""

from __future__ import annotations

import json
import mimetypes
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from reelflow.core.errors import ConfigurationError, InputError, ProcessingError
from reelflow.core.storage import atomic_path, sha256_file

MB = 1024 * 1024
TMP_DIR = ".reelflow-tmp"

_AUTH_CODES = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "InvalidToken",
    "ExpiredToken",
    "InvalidClientTokenId",
    "AuthorizationHeaderMalformed",
    "403",
    "Forbidden",
}
_MISSING_BUCKET_CODES = {"NoSuchBucket", "404", "NotFound"}

mimetypes.add_type("video/mp4", ".mp4")
mimetypes.add_type("text/vtt", ".vtt")
mimetypes.add_type("application/x-subrip", ".srt")
mimetypes.add_type("text/x-ssa", ".ass")


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/some/prefix`` into ``("bucket", "some/prefix")``.

    Raises:
        InputError: the URI is not ``s3://bucket[/prefix]``.
    """
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise InputError(
            f"storage URI {uri!r} is not an S3 URI",
            hint="set REELFLOW_STORAGE__URI=s3://bucket/prefix (prefix optional)",
        )
    return parsed.netloc, parsed.path.strip("/")


def guess_content_type(path: Path | str) -> str:
    """Content type from the file extension (``application/octet-stream`` when unknown)."""
    ctype, _ = mimetypes.guess_type(str(path))
    return ctype or "application/octet-stream"


@dataclass(frozen=True)
class StoredObject:
    """What the bucket says about one object: ``key`` is relative to the storage prefix."""

    key: str
    uri: str
    size: int
    etag: str
    sha256: str | None
    content_type: str | None


class S3Storage:
    """``core.ports.Storage`` on S3 / an S3-compatible server.

    Args:
        bucket: bucket name (must exist; ReelFlow never creates buckets).
        prefix: key prefix inside the bucket ("" = bucket root).
        client: a boto3 S3 client; built from the standard AWS environment when None.
        endpoint_url: S3 endpoint for a non-AWS server (default: ``AWS_ENDPOINT_URL_S3`` /
            ``AWS_ENDPOINT_URL`` from the environment, read by boto3).
        multipart_threshold_mb: files at least this big (MiB) upload in parts of the same size.

    Raises:
        ConfigurationError: from operations, when credentials/bucket/endpoint are wrong.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        client: Any | None = None,
        endpoint_url: str | None = None,
        multipart_threshold_mb: int = 16,
    ) -> None:
        from boto3.s3.transfer import TransferConfig

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        self._client = client or self._make_client(self.endpoint_url)
        chunk = max(5, int(multipart_threshold_mb)) * MB
        self.transfer_config = TransferConfig(multipart_threshold=chunk, multipart_chunksize=chunk)
        self._checked = False

    @classmethod
    def from_uri(cls, uri: str, **kwargs: Any) -> S3Storage:
        """Build from ``s3://bucket/prefix`` (other arguments as in the constructor)."""
        bucket, prefix = parse_s3_uri(uri)
        return cls(bucket, prefix, **kwargs)

    @staticmethod
    def _make_client(endpoint_url: str | None) -> Any:
        import boto3
        from botocore.config import Config

        config = Config(
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            retries={"mode": "standard", "max_attempts": 4},
            connect_timeout=10,
            read_timeout=120,
        )
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        return boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)

    # ----------------------------------------------------------------- keys and URIs
    def full_key(self, key: str) -> str:
        """Bucket key of ``key`` (prefix joined)."""
        key = key.lstrip("/")
        if not key or any(part in ("..", "") for part in key.split("/")):
            raise InputError(f"invalid storage key {key!r}", hint="use a relative key like 'campaign/video.mp4'")
        return f"{self.prefix}/{key}" if self.prefix else key

    def uri(self, key: str) -> str:
        """``s3://bucket/prefix/key``."""
        return f"s3://{self.bucket}/{self.full_key(key)}"

    # ----------------------------------------------------------------- error mapping
    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

        try:
            try:
                yield
            except S3UploadFailedError as exc:
                # The transfer manager wraps the ClientError (and aborts any multipart upload).
                cause = exc.__cause__ or exc.__context__
                if isinstance(cause, ClientError | EndpointConnectionError | NoCredentialsError):
                    raise cause from exc
                raise ProcessingError(f"S3 {action} failed: {exc}") from exc
        except NoCredentialsError as exc:
            raise ConfigurationError(
                f"S3 {action} failed: no AWS credentials found",
                hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)",
            ) from exc
        except EndpointConnectionError as exc:
            raise ConfigurationError(
                f"S3 {action} failed: cannot reach the S3 endpoint {self.endpoint_url or 'AWS'}",
                hint="check AWS_ENDPOINT_URL (and that the S3 server is running)",
            ) from exc
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code = str(err.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in _AUTH_CODES or status == 403:
                raise ConfigurationError(
                    f"S3 {action} on s3://{self.bucket}/{self.prefix} was refused ({code or status}): "
                    "the credentials are wrong or lack permission",
                    hint="check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_ENDPOINT_URL for a non-AWS server)",
                ) from exc
            if code in _MISSING_BUCKET_CODES and action == "bucket check":
                raise ConfigurationError(
                    f"S3 bucket {self.bucket!r} does not exist at {self.endpoint_url or 'AWS'}",
                    hint="create it, or fix the bucket in REELFLOW_STORAGE__URI=s3://bucket/prefix",
                ) from exc
            raise ProcessingError(f"S3 {action} failed: {code} {err.get('Message', '')}".strip()) from exc

    def check(self) -> None:
        """Verify once that the bucket exists and the credentials are accepted (``HeadBucket``).

        Raises:
            ConfigurationError: wrong credentials, missing bucket or unreachable endpoint.
        """
        if self._checked:
            return
        with self._errors("bucket check"):
            self._client.head_bucket(Bucket=self.bucket)
        self._checked = True

    # ----------------------------------------------------------------- publish
    def publish(
        self,
        local_path: Path,
        key: str,
        content_type: str | None = None,
        *,
        overwrite: bool = True,
    ) -> str:
        """Upload ``local_path`` to ``key`` atomically (temp key → verify → copy → delete temp).

        Args:
            local_path: the finished local file.
            key: destination key relative to the prefix (``"camp/a/video.mp4"``).
            content_type: MIME type; guessed from the extension when None.
            overwrite: False → refuse to replace an existing object whose SHA-256 differs
                (an identical object is left as is). Checked with ``HeadObject`` just before the
                copy: not a lock, two concurrent writers can still race.

        Returns:
            ``s3://bucket/prefix/key``.

        Raises:
            InputError: ``local_path`` is missing, or the key exists and ``overwrite`` is False.
            ConfigurationError: wrong credentials / bucket / endpoint (nothing is left behind).
            ProcessingError: the upload or copy failed for another reason.
        """
        local_path = Path(local_path)
        if not local_path.is_file():
            raise InputError(f"cannot publish {local_path}: no such file", hint="publish a finished output file")
        self.check()
        final_key = self.full_key(key)
        digest = sha256_file(local_path)
        size = local_path.stat().st_size
        ctype = content_type or guess_content_type(local_path)
        if not overwrite:
            existing = self._head(final_key)
            if existing is not None:
                if existing.get("Metadata", {}).get("sha256") == digest:
                    return self.uri(key)
                raise InputError(
                    f"{self.uri(key)} already exists with different content",
                    hint="publish under another key, or allow overwriting",
                )
        tmp_key = self.full_key(f"{TMP_DIR}/{uuid.uuid4().hex}-{local_path.name}")
        extra = {"ContentType": ctype, "Metadata": {"sha256": digest, "source-name": local_path.name[:200]}}
        try:
            with self._errors("upload"):
                self._client.upload_file(
                    str(local_path), self.bucket, tmp_key, ExtraArgs=extra, Config=self.transfer_config
                )
            with self._errors("upload check"):
                head = self._client.head_object(Bucket=self.bucket, Key=tmp_key)
            if int(head["ContentLength"]) != size or head.get("Metadata", {}).get("sha256") != digest:
                raise ProcessingError(
                    f"S3 upload of {local_path.name} is incomplete ({head['ContentLength']} of {size} bytes)"
                )
            with self._errors("copy to final key"):
                self._client.copy(
                    {"Bucket": self.bucket, "Key": tmp_key},
                    self.bucket,
                    final_key,
                    ExtraArgs={"ContentType": ctype, "Metadata": extra["Metadata"], "MetadataDirective": "REPLACE"},
                    Config=self.transfer_config,
                )
        finally:
            self._delete_quietly(tmp_key)
        return self.uri(key)

    def publish_dir(self, local_dir: Path, key_prefix: str, *, manifest_name: str = "manifest.json") -> str:
        """Publish every file of ``local_dir`` under ``key_prefix``, then ``manifest.json`` last.

        The manifest lists ``{"files": {relative name: {"uri", "sha256", "size"}}}``; it is
        written only after every file is in place, so its presence means the set is complete.

        Returns:
            URI of the manifest.

        Raises:
            InputError: ``local_dir`` is not a folder. Others as :meth:`publish`.
        """
        local_dir = Path(local_dir)
        if not local_dir.is_dir():
            raise InputError(f"cannot publish {local_dir}: not a folder")
        files: dict[str, dict[str, Any]] = {}
        for path in sorted(p for p in local_dir.rglob("*") if p.is_file() and not p.name.startswith(".")):
            rel = path.relative_to(local_dir).as_posix()
            if rel == manifest_name:
                continue
            uri = self.publish(path, f"{key_prefix.strip('/')}/{rel}")
            files[rel] = {"uri": uri, "sha256": sha256_file(path), "size": path.stat().st_size}
        with atomic_path(local_dir / f".{manifest_name}") as tmp:
            tmp.write_text(json.dumps({"files": files}, indent=2) + "\n", encoding="utf-8")
            return self.publish(tmp, f"{key_prefix.strip('/')}/{manifest_name}", content_type="application/json")

    # ----------------------------------------------------------------- read side
    def _head(self, full_key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            return self._client.head_object(Bucket=self.bucket, Key=full_key)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in {"404", "NoSuchKey", "NotFound"}:
                return None
            with self._errors("head"):
                raise

    def stat(self, key: str) -> StoredObject | None:
        """Describe ``key`` (None when it does not exist)."""
        self.check()
        head = self._head(self.full_key(key))
        if head is None:
            return None
        return StoredObject(
            key=key,
            uri=self.uri(key),
            size=int(head["ContentLength"]),
            etag=str(head.get("ETag", "")).strip('"'),
            sha256=head.get("Metadata", {}).get("sha256"),
            content_type=head.get("ContentType"),
        )

    def exists(self, key: str) -> bool:
        """True when ``key`` exists."""
        return self.stat(key) is not None

    def list(self, prefix: str = "", *, include_temp: bool = False) -> list[str]:
        """Keys (relative to the storage prefix) under ``prefix``, sorted.

        Objects under ``.reelflow-tmp/`` (uploads in flight) are hidden unless ``include_temp``.
        """
        self.check()
        base = self.full_key(prefix) if prefix else self.prefix
        list_prefix = f"{base}/" if base and not base.endswith("/") else base
        strip = f"{self.prefix}/" if self.prefix else ""
        keys: list[str] = []
        with self._errors("list"):
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=list_prefix):
                for obj in page.get("Contents", []):
                    rel = obj["Key"][len(strip):] if obj["Key"].startswith(strip) else obj["Key"]
                    if include_temp or not rel.startswith(f"{TMP_DIR}/"):
                        keys.append(rel)
        return sorted(keys)

    def download(self, key: str, dest: Path | str, *, verify: bool = True) -> Path:
        """Download ``key`` to ``dest`` atomically; check its SHA-256 against the metadata.

        Raises:
            InputError: the key does not exist.
            ProcessingError: the downloaded bytes do not match the stored ``sha256``.
        """
        info = self.stat(key)
        if info is None:
            raise InputError(f"{self.uri(key)} does not exist", hint="list the storage to see published keys")
        with atomic_path(dest) as tmp:
            with self._errors("download"):
                self._client.download_file(self.bucket, self.full_key(key), str(tmp), Config=self.transfer_config)
            if verify and info.sha256 and sha256_file(tmp) != info.sha256:
                raise ProcessingError(f"checksum mismatch downloading {self.uri(key)}")
        return Path(dest)

    def delete(self, key: str) -> None:
        """Delete ``key`` (no error when missing)."""
        self.check()
        with self._errors("delete"):
            self._client.delete_object(Bucket=self.bucket, Key=self.full_key(key))

    def _delete_quietly(self, full_key: str) -> None:
        try:
            self._client.delete_object(Bucket=self.bucket, Key=full_key)
        except Exception:  # noqa: BLE001 - best-effort cleanup of a temp object
            pass
