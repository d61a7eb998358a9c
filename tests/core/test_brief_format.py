"""The format a brief's words ask for becomes the video's format unless a field says otherwise."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from reelflow.core.brief_format import stated_format
from reelflow.core.models import Aspect, Brief, Platform


@pytest.mark.parametrize(("text", "duration", "aspect", "platform"), [
    ("15-second TikTok ad for the Zephyr electric toothbrush: 30-day battery, 3 cleaning modes.", 15, None, "tiktok"),
    ("45-second landscape explainer for Ledgerly, an invoicing app: send invoices in 30 seconds.", 45, "16:9", None),
    ("20-second Instagram reel for Bloom & Brew, a coffee shop: oat lattes, free wifi.", 20, None, "reels"),
    ("A 15 s vertical promo for Kiln pottery classes, all levels welcome.", 15, "9:16", None),
    ("YouTube pre-roll for FlowFix plumbers, 20 seconds long: out in an hour, day or night.", 20, "16:9", "youtube"),
    ("Square post for Ember Pizza, one-minute cut: wood-fired pizza every night.", 60, "1:1", None),
    ("Make it for YouTube Shorts, 1:1: our new running shorts breathe on hot days.", None, "1:1", "shorts"),
    # a product's own numbers are not the video's length; product words are not platforms
    ("Launch video for the Volta V2 electric scooter: folds in 3 seconds, top speed 25 km/h.", None, None, None),
    ("Ad for our new running shorts and a fishing reel that casts in 2 seconds.", None, None, None),
    # a pasted video description names YouTube as where it was uploaded, not as the platform
    ("Toyota Super Bowl commercial: subscribe to our YouTube channel, or watch it on YouTube.", None, None, None),
    ("30-second TikTok for CityLoop bike-share's new e-bike fleet.", 30, None, "tiktok"),
    ("Make it for Instagram: our oat lattes, fresh every morning.", None, None, "reels"),
])
def test_stated_format_reads_only_the_videos_format(text, duration, aspect, platform) -> None:
    said = stated_format(text)
    assert (said.duration_s, said.aspect, said.platform) == (duration, aspect, platform)


def test_brief_takes_the_texts_format_when_fields_are_unset() -> None:
    b = Brief(text="45-second landscape explainer for Ledgerly, the invoicing app for freelancers.")
    assert (b.duration_s, b.aspect, b.size) == (45, Aspect.LANDSCAPE, (1920, 1080))
    # a round trip (Prefect parameters, plan.json) keeps it
    assert Brief.model_validate(b.model_dump(mode="json")).duration_s == 45


def test_given_fields_win_over_the_text() -> None:
    b = Brief(text="15-second vertical TikTok ad for Harbor Bakery sourdough.", duration_s=30, platform="reels",
              aspect="1:1")
    assert (b.duration_s, b.aspect, b.platform) == (30, Aspect.SQUARE, Platform.REELS)


def test_a_length_out_of_range_is_refused_naming_the_fix() -> None:
    with pytest.raises(ValidationError, match=r"asks for a 120 s video.*--duration"):
        Brief(text="2-minute video for our bakery: fresh bread every morning.")
    assert Brief(text="2-minute video for our bakery: fresh bread.", duration_s=60).duration_s == 60


def test_an_empty_form_field_is_filled_from_the_text() -> None:
    """The Prefect UI form and brief files leave a field empty (null): the text decides, else the default."""
    b = Brief.model_validate({"text": "15-second TikTok ad for Harbor Bakery sourdough.", "duration_s": None,
                              "aspect": None, "platform": None})
    assert (b.duration_s, b.aspect, b.platform) == (15, Aspect.VERTICAL, Platform.TIKTOK)
    assert Brief(text="Ad for Harbor Bakery sourdough: crackly crust.").duration_s == 30
    schema = Brief.model_json_schema()["properties"]["duration_s"]
    assert schema["default"] is None  # the deployment form shows it empty, not a 30 that would win over the text
