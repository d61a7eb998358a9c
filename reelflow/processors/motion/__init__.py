"""Motion-design renderer: on-topic, good-looking scenes with no keys and no footage.

- :mod:`.assets` — vendored Fluent Emoji 3D (MIT) with emojibase labels/tags; MiniLM matching of
  scene text to assets (+ a small hand-written map for abstract ideas); under the threshold a
  scene gets typography only.
- :mod:`.design` — what each scene shows (:class:`.design.SceneDesign`): ``VisualSpec`` kind
  (derived from the narration while a planner leaves it default), headline, emphasis word,
  matched assets with scores and licences, footage for photo scenes.
- :mod:`.palette` / :mod:`.layout` — one palette per video (``--brand-color`` or the tone) and
  safe-zone layouts for 9:16, 16:9 and 1:1 with a caption band clear of the content.
- :mod:`.render` — frame drawing (Pillow + numpy) of kinetic, hero, stat, list, photo and
  end-card scenes; frames are piped straight into the final x264 encode
  (:func:`processors.assembly.encode_motion`).
- :mod:`.footage` — the user's (or the shipped) footage library, used above its own threshold.
"""
