"""Raster images (TIFF, JPEG, PNG, GIF, BMP): the structure read and every frame decoded in full
with Pillow; a truncated or corrupt image fails, a decoder Pillow lacks is "not validated"."""

from __future__ import annotations

import warnings

from ...i18n import N_
from . import Validation, ValidatorPolicy, invalid, not_validated, valid

MAX_PIXELS = 400_000_000  # larger images are not decoded (the worker's memory cap)
MAX_FRAMES = 10_000


def tool() -> str:
    import PIL

    return f"Pillow {PIL.__version__}"


def validate(path: str, policy: ValidatorPolicy, **_) -> Validation:
    try:
        from PIL import Image, ImageFile
    except ImportError:
        return not_validated("Pillow", N_("Pillow is not available"))
    name = tool()
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    notes: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with Image.open(path) as im:
                im.verify()  # structure: chunk CRCs, headers
            with Image.open(path) as im:
                size, mode, fmt = im.size, im.mode, im.format
                frames = 0
                while True:
                    im.load()  # decodes every pixel of the frame
                    frames += 1
                    if frames >= MAX_FRAMES:
                        break
                    try:
                        im.seek(im.tell() + 1)
                    except EOFError:
                        break
        notes = [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)]
    except Image.DecompressionBombError as e:
        return not_validated(name, N_("larger than the decoding limit ({error})").format(error=e))
    except OSError as e:
        text = str(e)
        if "decoder" in text and "not available" in text:
            return not_validated(name, N_("no decoder for its compression ({error})").format(
                error=text))  # fmt: skip
        return invalid(name, [text])
    except (SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError) as e:
        return invalid(name, [f"{type(e).__name__}: {e}"])
    return valid(
        name,
        N_("{format} {width}×{height} {mode}, {frames} frame(s) decoded in full").format(
            format=fmt, width=size[0], height=size[1], mode=mode, frames=frames
        ),
        notes,
    )
