"""Local media and ML work (no Prefect imports).

Importing any processor sets Pillow's decompression-bomb limit explicitly
(:func:`core.limits.apply_pil_limits`), so an image of hostile dimensions is refused with
``PIL.Image.DecompressionBombError`` instead of exhausting memory.
"""

from reelflow.core.limits import apply_pil_limits as _apply_pil_limits

_apply_pil_limits()
