"""Footage (real photos and clips) for ``photo`` scenes, used only above its own threshold.

The library is a folder with a ``footage.json`` manifest (``processors.clip_renderer.load_footage``:
id, path, kind, description, licence, credit); ReelFlow ships a small CC0/PD one in
``reelflow/assets/footage`` and ``reelflow make --footage DIR`` points at the user's own. A scene
text is matched to the descriptions with the MiniLM encoder; a best cosine under
:data:`FOOTAGE_THRESHOLD` means "no footage" (the scene stays a drawn scene).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from reelflow.processors.clip_renderer import FootageItem, load_footage

#: Cosine between scene text and a footage description at or above which the footage is shown.
FOOTAGE_THRESHOLD = 0.55


class FootageLibrary:
    """Footage items of one folder and their description vectors.

    Raises:
        AssetError: the manifest is missing/invalid, a file is missing or a licence not renderable.
    """

    def __init__(self, folder: Path | str, embed: Callable[[list[str]], np.ndarray],
                 threshold: float = FOOTAGE_THRESHOLD) -> None:
        self.folder = Path(folder)
        self.items = load_footage(self.folder)
        self._embed = embed
        self.threshold = threshold
        self._emb: np.ndarray | None = None

    def _vectors(self) -> np.ndarray:
        if self._emb is None:
            e = np.asarray(self._embed([it.description for it in self.items]), np.float32)
            self._emb = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
        return self._emb

    def best(self, text: str, exclude: set[str] | None = None) -> tuple[FootageItem, float] | None:
        """The best item for ``text`` and its cosine, or ``None`` when under the threshold."""
        q = np.asarray(self._embed([text]), np.float32)[0]
        q = q / max(float(np.linalg.norm(q)), 1e-12)
        sims = self._vectors() @ q
        for i in np.argsort(-sims):
            it = self.items[int(i)]
            if exclude and it.id in exclude:
                continue
            if float(sims[i]) < self.threshold:
                return None
            return FootageItem(**{**it.model_dump(), "path": str(self.folder / it.path)}), float(sims[i])
        return None
