"""Developer tool: rebuild ``reelflow/assets/emoji3d/`` and the motion fonts from upstream packages.

Not needed at set-up or run time (the output is committed). Fetch the sources with the npm and
apt clients into a scratch folder, then run this script with that folder::

    mkdir -p /tmp/vendor && cd /tmp/vendor
    npm pack @lobehub/fluent-emoji-3d@1.1.0 emojibase-data@17.0.0
    for f in *.tgz; do mkdir -p "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done
    apt-get download fonts-league-spartan fonts-inter && for d in *.deb; do dpkg-deb -x "$d" deb_x; done
    python scripts/vendor_motion_assets.py /tmp/vendor

Curation (brand safety, one family): Fluent Emoji 3D only; no flags, keycaps, letters, religious
or zodiac symbols, no skin-tone variants (the default yellow only), no weapons, tobacco, alcohol,
drugs, death, body-fluid or innuendo emoji (see ``BLOCKED``). Images are the upstream 256 px WebP files, unchanged.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

from PIL import Image

EMOJI_PKG = "@lobehub/fluent-emoji-3d@1.1.0"
TAGS_PKG = "emojibase-data@17.0.0"
LICENCE = "MIT"

#: emojibase groups/subgroups left out (ids from emojibase-data meta/groups.json).
SKIP_GROUPS = {2, 9}  # component, flags
SKIP_SUBGROUPS = {30, 52, 86, 87, 89, 91, 94, 95, 96}  # family, place-religious, religion, zodiac, gender, punctuation, keycap, alphanum, geometric
#: Words that exclude an emoji when they appear in its label (not brand-safe, or innuendo).
BLOCKED = (
    "middle finger", "pistol", "bomb", "dagger", "kitchen knife", "sword", "axe", "bow and arrow", "shield",
    "skull", "coffin", "urn", "headstone", "cigarette", "smoking", "syringe", "pill", "drop of blood",
    "eggplant", "peach", "poo", "vomit", "symbols on mouth", "beer", "wine", "cocktail", "tropical drink",
    "tumbler", "popping cork", "sake", "champagne", "clinking glasses", "ogre", "goblin", "devil",
    "imp", "nose", "tongue", "lips", "biting lip", "drooling", "face with steam", "bikini", "lipstick",
    "kiss mark", "pregnant", "pouting", "angry", "enraged", "police", "prison", "chains",
    "hole", "no one under", "mouse trap", "cockroach", "mosquito", "microbe", "lady beetle",
    "broken", "exploding head", "nauseated", "sneezing", "hot face", "cold face", "woozy", "dizzy face",
    "face with head-bandage", "zombie", "vampire", "clown",
    "fight cloud", "collision", "anger symbol", "hundred points", "speaking head", "silhouette",
    "japanese", "love hotel", "slot machine", "crossed-out eyes", "nazar amulet", "hamsa", "wedding", "bride", "genie", "troll", "merperson", "mermaid", "merman",
)


_BLOCKED_RE = re.compile(r"\b(" + "|".join(re.escape(b) for b in BLOCKED) + r")s?\b", re.IGNORECASE)


def _file_for(hexcode: str, files: set[str]) -> str | None:
    h = hexcode.lower()
    for cand in (h, h + "-fe0f", h.replace("-fe0f", "")):
        if cand in files:
            return cand
    return None


def main(src: Path) -> None:
    repo = Path(__file__).resolve().parent.parent
    out = repo / "reelflow" / "assets" / "emoji3d"
    assets = src / "lobehub-fluent-emoji-3d-1.1.0" / "package" / "assets"
    data = json.loads((src / "emojibase-data-17.0.0" / "package" / "en" / "data.json").read_text())
    groups = json.loads((src / "emojibase-data-17.0.0" / "package" / "meta" / "groups.json").read_text())
    files = {p.stem for p in assets.glob("*.webp")}
    if out.exists():
        shutil.rmtree(out)
    (out / "images").mkdir(parents=True)
    items = []
    for e in data:
        if e.get("group") is None or e["group"] in SKIP_GROUPS or e.get("subgroup") in SKIP_SUBGROUPS:
            continue
        label = e["label"]
        if _BLOCKED_RE.search(label) or ":" in label:  # ":" = variants ("x: facing right")
            continue
        stem = _file_for(e["hexcode"], files)
        if stem is None:
            continue
        with Image.open(assets / f"{stem}.webp") as im:
            if max(im.size) > 320 or im.mode != "RGBA":
                raise SystemExit(f"unexpected image {stem}: {im.size} {im.mode}")
        shutil.copyfile(assets / f"{stem}.webp", out / "images" / f"{stem}.webp")  # upstream bytes, unchanged
        items.append({
            "id": f"emoji3d/{stem}",
            "file": f"images/{stem}.webp",
            "label": label,
            "tags": [t for t in e.get("tags", []) if t.lower() != label.lower()],
            "category": groups["subgroups"][str(e["subgroup"])],
            "emoji": e["emoji"],
            "licence": LICENCE,
            "source": EMOJI_PKG,
            "tags_source": TAGS_PKG,
        })
    manifest = {
        "family": "fluent-emoji-3d",
        "description": "Microsoft Fluent Emoji, 3D style, 256 px WebP with alpha (curated, brand-safe subset).",
        "licence": LICENCE,
        "source": EMOJI_PKG,
        "upstream": "https://github.com/microsoft/fluentui-emoji",
        "items": items,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    fonts = repo / "reelflow" / "assets" / "fonts"
    deb = src / "deb_x" / "usr" / "share" / "fonts" / "opentype"
    for rel in ("league-spartan/LeagueSpartan-Bold.otf", "league-spartan/LeagueSpartan-Black.otf",
                "inter/Inter-Bold.otf", "inter/Inter-ExtraBold.otf", "inter/Inter-Black.otf"):
        shutil.copyfile(deb / rel, fonts / Path(rel).name)
    print(f"{len(items)} emoji written to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
