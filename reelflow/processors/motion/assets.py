"""Vendored motion-design assets (Fluent Emoji 3D) and text → asset matching.

The library is ``reelflow/assets/emoji3d/manifest.json`` (built by
``scripts/vendor_motion_assets.py`` from npm ``@lobehub/fluent-emoji-3d@1.1.0`` with labels and
tags from ``emojibase-data@17.0.0``; MIT, see ``reelflow/assets/THIRD_PARTY_LICENSES.md``).

Matching (:meth:`AssetLibrary.match`): each asset is described as ``"<label>: <tags>"`` and
embedded once with the shipped MiniLM encoder (:mod:`processors.embeddings`; vectors cached on
disk keyed by the encoder revision and the manifest). A scene's queries (its keywords, headline
and narration) are embedded and scored by cosine similarity; a query word that *is* an asset's
label or one of its tags adds :data:`LEXICAL_BONUS`; abstract ideas with no literal picture
("odds", "journey", "save time", "community") go through :data:`CONCEPTS`, a small hand-written
map to concrete assets. Anything under :data:`MATCH_THRESHOLD` is not shown: the scene falls back
to typography, never to a random picture.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reelflow.core.errors import AssetError
from reelflow.core.storage import atomic_path

#: Licences a vendored graphic may carry (SPDX ids, lower case).
ALLOWED_LICENCES = frozenset({"mit", "apache-2.0", "cc0-1.0", "cc-by-4.0", "ofl-1.1"})
#: Cosine (plus bonuses) at or above which an asset is shown.
MATCH_THRESHOLD = 0.46
#: Added when a query word equals the asset's label or one of its tags.
LEXICAL_BONUS = 0.08
#: Added to the score of an asset picked through :data:`CONCEPTS` (first of its list; later ones
#: get 0.02 less each), and the least such an asset scores.
CONCEPT_BONUS = 0.14
CONCEPT_FLOOR = 0.5
#: Holidays and occasions an emoji can stand for (emojibase tags/labels). An asset that carries
#: one (jack-o-lantern: halloween; Christmas tree, Santa Claus: christmas) loses
#: :data:`OCCASION_PENALTY` unless the video's text names that occasion: a "lantern festival" gets
#: the paper lantern, not a Halloween pumpkin; "decorate the tree" in a Christmas ad still gets
#: the Christmas tree.
OCCASIONS: dict[str, str] = {
    "halloween": r"halloween|spooky|trick[- ]or[- ]treat|jack[- ]o[- ]lanterns?|costume party",
    "christmas": r"christmas|xmas|santa|festive season|yuletide|noel",
    "xmas": r"christmas|xmas|santa|festive season|yuletide|noel",
    "santa": r"christmas|xmas|santa",
    "valentine": r"valentines?|valentine'?s|romance|romantic|date night|anniversary",
    "easter": r"easter",
    "hanukkah": r"hanukkah|chanukah",
    "diwali": r"diwali",
    "thanksgiving": r"thanksgiving",
}
OCCASION_PENALTY = 0.12

Encoder = Callable[[list[str]], np.ndarray]

#: Abstract ideas → asset labels (emojibase English labels). Keys are regular expressions
#: matched on word boundaries, case-insensitively, against the scene's text.
CONCEPTS: dict[str, tuple[str, ...]] = {
    r"odds|chance|luck(y)?|lottery|gamble|bet": ("game die", "four leaf clover", "shooting star"),
    r"journey|adventure|travel(s|ling)?|explore|path": ("world map", "compass", "airplane"),
    r"save(s)? (time|hours)|in minutes|instant(ly)?|speed": ("stopwatch", "high voltage", "rocket"),
    r"schedul\w*|deadline|on time|hours": ("alarm clock", "hourglass done", "calendar"),
    r"community|together|teamwork|neighbou?rs?|friendship": ("people hugging", "handshake", "heart hands"),
    r"win(s|ning|ner)?|victory|champion(s|ship)?|gold medal|podium|first place": ("trophy", "1st place medal", "sports medal"),
    r"medal(s)?": ("1st place medal", "sports medal", "military medal"),
    r"growth|grow your|increase|scale up|progress": ("chart increasing", "seedling", "rocket"),
    r"money|savings|price|cost|cheap|affordable|budget|deal|discount": ("money bag", "dollar banknote", "coin"),
    r"pay(ment)?s?|checkout|credit card": ("credit card", "money with wings"),
    r"love|care|caring|kind(ness)?": ("red heart", "smiling face with hearts", "heart with ribbon"),
    r"idea|creative|creativity|innovat\w*|smart": ("light bulb", "sparkles", "brain"),
    r"secure|security|safe(ty)?|privacy|protect(ed|ion)?": ("locked", "key"),
    r"goal(s)?|target|focus|aim": ("bullseye",),
    r"launch(es|ing)?|introducing|debut|start-?up": ("rocket", "sparkles", "party popper"),
    r"celebrat\w*|party|birthday|anniversary": ("party popper", "confetti ball", "balloon"),
    r"delivery|deliver(ed|s)?|shipping": ("delivery truck", "package", "house"),
    r"sustainab\w*|eco|planet|climate|recycl\w*": ("globe showing europe-africa", "seedling", "recycling symbol"),
    r"wellness|wellbeing|fitness|workout(s)?": ("red heart", "flexed biceps", "green salad"),
    r"sleep|rest|relax(ing|ed)?|calm": ("sleeping face", "bed", "crescent moon"),
    r"mountain(s)?|ski(ing|er|ers)?|slope(s)?|alpine|snow": ("snow-capped mountain", "skier", "snowflake"),
    r"dream(s)?|imagine|hope": ("sparkles", "rainbow", "shooting star"),
    r"strong|strength|power(ful)?|resilien\w*|tough": ("flexed biceps", "high voltage", "mechanical arm"),
    r"learn(ing)?|study|school|course|skill(s)?|language": ("books", "graduation cap", "open book"),
    r"music|song|playlist|sound|listen": ("musical notes", "headphone", "studio microphone"),
    r"phone|app|download|mobile": ("mobile phone", "link"),
    r"home|house|family": ("house", "house with garden", "teddy bear"),
    r"city|urban|commute|downtown": ("cityscape", "bicycle", "metro"),
    r"drive(s|r|rs)?|driving|road trip|hybrid|sedan|suv": ("automobile", "sport utility vehicle", "motorway"),
    r"morning|sunrise|wake": ("sunrise", "hot beverage", "alarm clock"),
    r"gift|present|reward": ("wrapped gift", "ribbon"),
    r"five-star|premium|top-rated|award-winning": ("star", "glowing star", "gem stone"),
    r"data|analytics|stats|report": ("bar chart", "chart increasing"),
    r"email|message|chat|inbox": ("envelope", "speech balloon"),
    r"global|world(wide)?|international": ("globe with meridians", "world map"),
    r"energy|electric|battery|charge": ("high voltage", "battery"),
    r"solar|renewable|sunshine": ("sun", "high voltage", "sun with face"),
    r"fresh|natural|organic": ("seedling", "herb", "sparkles"),
    r"childhood|young|grew up|kid": ("child", "teddy bear", "baby bottle"),
    r"athlete(s)?|race|run(ning|ner)?": ("person running", "sports medal", "running shoe"),
    r"coffee|espresso|latte|brew": ("hot beverage",),
    r"meal(s)?|dinner|lunch|hungry": ("fork and knife with plate", "shallow pan of food", "green salad"),
    r"donat\w*|charity|give|giving|support": ("handshake", "heart hands", "red heart"),
}

_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")
_STOP = frozenset(
    "a an the and or but of to in on at for with from by as is are was were be been being it its this that these "
    "those your you our we us my me i he she they them their his her not no yes so than then too very just can "
    "will would could should may might must do does did done has have had get gets got into over under up down out "
    "off about more most less all any each every some such only own same other new now here there when where who "
    "what which how why one two also even ever still yet back make makes made take takes way ways "
    # actions and terms of an offer name nothing to show ("Skip any week." matched a skier, "No strings
    # attached." a violin): the line's things are matched, not its verbs
    "skip skips pause cancel try book order join start stop pick choose enjoy discover visit call shop grab "
    "download sign register donate support meet find strings attached anytime today".split()
)


#: Feelings a line mentions to soothe them ("gentle care for nervous patients"): never what its
#: scene shows, unless the line asks about the problem ("Tired of waiting?").
NEGATIVE_FEELING = re.compile(r"\b(?:nervous|anxious|anxiety|scared|afraid|fear(?:ful)?|worried|worry|stress(?:ed|ful)?|"
                              r"sad|angry|lonely|tired|bored|pain(?:ful)?|sick|neglect(?:ed)?)\b", re.I)


@dataclass(frozen=True)
class Asset:
    """One vendored graphic (a row of the manifest)."""

    id: str
    path: Path
    label: str
    tags: tuple[str, ...]
    category: str
    licence: str
    source: str

    @property
    def text(self) -> str:
        """What is embedded for matching: ``"<label>: <tags>"``."""
        return f"{self.label}: {', '.join(self.tags)}" if self.tags else self.label


@dataclass(frozen=True)
class AssetMatch:
    """An asset chosen for a query, with its score (cosine + bonuses) and how it was found."""

    asset: Asset
    score: float
    via: str = "embedding"  # "embedding" | "concept"

    def record(self) -> dict[str, object]:
        """JSON-able summary for metadata (id, label, score, licence, source)."""
        return {"id": self.asset.id, "label": self.asset.label, "score": round(self.score, 3),
                "via": self.via, "licence": self.asset.licence, "source": self.asset.source}


def content_words(text: str) -> list[str]:
    """Lower-case words of ``text`` without stop words, in order, de-duplicated."""
    seen: list[str] = []
    for w in _WORD.findall(text.lower()):
        w = w.strip("'-")
        if len(w) >= 3 and w not in _STOP and w not in seen:
            seen.append(w)
    return seen


def load_manifest(root: Path | str) -> list[Asset]:
    """Read and check ``root/manifest.json``.

    Raises:
        AssetError: the manifest is missing or invalid, an entry's file is missing, or an
            entry's licence is not in :data:`ALLOWED_LICENCES` (the message names the entry).
    """
    root = Path(root)
    manifest = root / "manifest.json"
    hint = "restore reelflow/assets/ from the repository (git checkout -- reelflow/assets), or fix the manifest"
    try:
        raw = json.loads(manifest.read_text(encoding="utf-8"))
        rows = raw["items"]
    except FileNotFoundError as exc:
        raise AssetError(f"asset manifest not found: {manifest}", hint=hint) from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AssetError(f"asset manifest {manifest} is invalid: {exc}", hint=hint) from exc
    out: list[Asset] = []
    for row in rows:
        try:
            asset = Asset(
                id=str(row["id"]), path=root / str(row["file"]), label=str(row["label"]),
                tags=tuple(str(t) for t in row.get("tags", [])), category=str(row.get("category", "")),
                licence=str(row["licence"]), source=str(row["source"]),
            )
        except (KeyError, TypeError) as exc:
            raise AssetError(f"asset manifest {manifest} has an invalid entry {row!r}: missing {exc}", hint=hint) from exc
        if asset.licence.strip().lower() not in ALLOWED_LICENCES:
            raise AssetError(
                f"asset {asset.id!r} in {manifest} has licence {asset.licence!r}, which is not allowed",
                hint=f"use only assets under {', '.join(sorted(ALLOWED_LICENCES))}, or remove the entry",
            )
        if not asset.path.is_file():
            raise AssetError(f"asset {asset.id!r} listed in {manifest} is missing its file {asset.path}", hint=hint)
        out.append(asset)
    if not out:
        raise AssetError(f"asset manifest {manifest} lists no items", hint=hint)
    return out


class AssetLibrary:
    """Vendored assets plus their text embeddings; matches scene text to assets.

    Args:
        root: folder holding ``manifest.json`` and the files it lists.
        embed: text encoder ``list[str] -> float32 [n, d]`` (rows L2-normalised), e.g.
            :func:`processors.embeddings.encode`.
        cache_dir: where asset vectors are cached (``assets-emb-<key>.npz``); ``None`` = memory only.
        revision: encoder identity, part of the cache key.

    Raises:
        AssetError: see :func:`load_manifest`.
    """

    def __init__(self, root: Path | str, embed: Encoder, *, cache_dir: Path | str | None = None,
                 revision: str = "all-MiniLM-L6-v2") -> None:
        self.root = Path(root)
        self.assets = load_manifest(self.root)
        self._embed = embed
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.revision = revision
        self._lock = threading.Lock()
        self._emb: np.ndarray | None = None
        self.by_label = {a.label.lower(): a for a in self.assets}
        self._index = {a.id: i for i, a in enumerate(self.assets)}
        self._lexicon: dict[str, set[int]] = {}
        for i, a in enumerate(self.assets):
            for w in {a.label.lower(), *(t.lower() for t in a.tags)}:
                self._lexicon.setdefault(w, set()).add(i)
        self._occasions: dict[int, list[re.Pattern[str]]] = {}
        for i, a in enumerate(self.assets):
            words = {a.label.lower(), *(t.lower() for t in a.tags)} | set(re.findall(r"[a-z]+", a.label.lower()))
            rxs = [re.compile(rf"\b(?:{OCCASIONS[w]})\b", re.IGNORECASE) for w in sorted(words) if w in OCCASIONS]
            if rxs:
                self._occasions[i] = rxs
        self._concepts = [(re.compile(rf"\b(?:{k})\b", re.IGNORECASE),
                           [self.by_label[x.lower()] for x in v if x.lower() in self.by_label]) for k, v in CONCEPTS.items()]

    def names_an_asset(self, word: str) -> bool:
        """Whether ``word`` (or its singular) is some asset's label or tag ("lanterns" → yes)."""
        w = word.lower()
        return w in self._lexicon or (w.endswith("s") and w[:-1] in self._lexicon)

    def _encode(self, texts: list[str]) -> np.ndarray:
        emb = np.asarray(self._embed(texts), dtype=np.float32)
        return emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)

    def embeddings(self) -> np.ndarray:
        """Asset vectors, float32 ``[n_assets, d]`` (computed once, cached on disk)."""
        with self._lock:
            if self._emb is not None:
                return self._emb
            texts = [a.text for a in self.assets]
            key = hashlib.sha256(json.dumps([self.revision, texts]).encode()).hexdigest()[:16]
            path = self.cache_dir / f"assets-emb-{key}.npz" if self.cache_dir else None
            emb = None
            if path is not None and path.is_file():
                try:
                    with np.load(path) as npz:
                        emb = npz["embeddings"].astype(np.float32)
                    if emb.shape[0] != len(texts):
                        emb = None
                except (OSError, ValueError, KeyError):
                    emb = None
            if emb is None:
                emb = self._encode(texts)
                if path is not None:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
                        np.savez(fh, embeddings=emb.astype(np.float16))
            self._emb = emb
            return emb

    def scores(self, keywords: Sequence[str], context: str) -> np.ndarray:
        """Score of every asset for a scene, float ``[n_assets]``.

        ``0.6 · max_k(w_k · cos(keyword_k, asset)) + 0.4 · cos(context, asset)`` plus
        :data:`LEXICAL_BONUS` where a keyword is the asset's label or one of its tags. A keyword's
        weight ``w_k`` is its centrality, ``0.55 + 0.45 · cos(keyword, context) / max``, so a
        passing word ("door" in "coffee delivered to your door") counts less than the subject.
        """
        keywords = [k for k in keywords if k and k.strip()]
        texts = [context or " ".join(keywords), *keywords]
        if not texts[0].strip():
            return np.zeros(len(self.assets), dtype=np.float32)
        q = self._encode(texts)
        sims = q @ self.embeddings().T  # [1 + k, n]
        score = 0.4 * sims[0]
        if keywords:
            central = q[1:] @ q[0]
            w = 0.55 + 0.45 * np.clip(central, 0, None) / max(float(central.max()), 1e-6)
            score = score + 0.6 * (sims[1:] * w[:, None]).max(axis=0)
        else:
            score = score / 0.4
        bonus = np.zeros_like(score)
        words = [w for k in keywords for w in content_words(k)] + content_words(context)
        for n in (2, 1):  # "ice cream", then single words (and their singular)
            for i in range(len(words) - n + 1):
                term = " ".join(words[i : i + n])
                for t in {term, term[:-1] if term.endswith("s") else term}:
                    for j in self._lexicon.get(t, ()):
                        bonus[j] = LEXICAL_BONUS
        return score + bonus

    def match(self, keywords: Sequence[str], context: str, *, k: int = 3,
              exclude: set[str] | frozenset[str] = frozenset(), threshold: float = MATCH_THRESHOLD,
              occasion_text: str | None = None) -> list[AssetMatch]:
        """The best ``k`` assets for a scene, best first, each at or above ``threshold``.

        Args:
            keywords: what to show (``VisualSpec.keywords``, or content words of the line).
            context: the scene's words (headline + narration); also searched for :data:`CONCEPTS`.
            k: how many to return at most.
            exclude: asset ids not to return (already used in the video).
            threshold: minimum score; nothing under it is returned (typography fallback).
            occasion_text: the text that may name a holiday (the whole video's lines; default
                ``context``): an asset tied to an occasion it does not name loses
                :data:`OCCASION_PENALTY`.

        Returns:
            Up to ``k`` :class:`AssetMatch`, possibly empty.
        """
        scores = self.scores(keywords, context)
        text = " ".join([context, *keywords])
        said = text if occasion_text is None else f"{text} {occasion_text}"
        for i, rxs in self._occasions.items():
            if not any(rx.search(said) for rx in rxs):
                scores[i] -= OCCASION_PENALTY
        found: dict[str, AssetMatch] = {}
        for rx, assets in self._concepts:
            if rx.search(text):
                for rank, a in enumerate(assets):
                    s = max(CONCEPT_FLOOR, float(scores[self._index[a.id]]) + CONCEPT_BONUS) - 0.02 * rank
                    if a.id not in exclude and (a.id not in found or found[a.id].score < s):
                        found[a.id] = AssetMatch(a, s, "concept")
        for i in np.argsort(-scores)[: k + len(exclude) + 8]:
            a = self.assets[int(i)]
            s = float(scores[i])
            if a.id in exclude or s < threshold:
                continue
            if a.id not in found or found[a.id].score < s:
                found[a.id] = AssetMatch(a, s, "embedding")
        ranked = sorted(found.values(), key=lambda m: -m.score)
        return [m for m in ranked if m.score >= threshold][:k]


_LIBS: dict[tuple[str, str], AssetLibrary] = {}
_LIBS_LOCK = threading.Lock()


def default_library(assets_dir: Path | str, cache_dir: Path | str | None = None) -> AssetLibrary:
    """The process-wide library of ``assets_dir/emoji3d`` with the shipped MiniLM encoder.

    Raises:
        AssetError: the manifest or one of its files is missing, or a licence is not allowed.
    """
    from reelflow.processors import embeddings

    root = Path(assets_dir) / "emoji3d"
    with _LIBS_LOCK:
        key = (str(root), str(cache_dir))
        lib = _LIBS.get(key)
        if lib is None:
            enc = embeddings.get_encoder()
            lib = AssetLibrary(root, lambda t: enc.encode(t), cache_dir=cache_dir, revision=enc.revision)
            _LIBS[key] = lib
        return lib
