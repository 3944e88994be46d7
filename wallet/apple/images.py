"""The pass's images, cut from the business's logo with Pillow: icon (29×29 pt), logo
(at most 160×50 pt) and strip (375×123 pt, behind the balance), each at @1x, @2x and
@3x. Without a logo a clean default is drawn: the business's initials on the theme
colour.

Rendering a set takes 0.1-0.3 s, so sets are kept in memory per logo (by the SHA-256
of its bytes; per initials for the default) with their SHA-1s and zip entries ready:
building a pass then costs no image work at all.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from wallet.apple.zipper import Entry, entry

THEME = (11, 93, 59)  # #0b5d3b, the app's green
WHITE = (255, 255, 255)
SCALES = (1, 2, 3)
ICON = (29, 29)
LOGO = (160, 50)
STRIP = (375, 123)
CACHE_SIZE = 64  # sets kept (a set is ~100-200 KB)
_FONTS = (  # bold sans faces with Cyrillic, where distributions put them
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/usr/share/fonts/liberation-sans/LiberationSans-Bold.ttf",
    "/System/Library/Fonts/Supplemental/Arial Bold.ttf",
    "/Library/Fonts/Arial Bold.ttf",
)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class PassImages:
    """PNG files by name in the pass (``icon.png``, ``logo@2x.png``...), their SHA-1s
    for the manifest, and their zip entries (PNG is stored: it is compressed already)."""

    files: Mapping[str, bytes]
    sha1: Mapping[str, str]
    entries: tuple[Entry, ...]


_cache: OrderedDict[tuple[str, str], PassImages] = OrderedDict()
_lock = threading.Lock()


def images_for(logo_png: bytes | None, business_name: str) -> PassImages:
    """The image set for a business: from its logo, or the default with its initials."""
    key = (("logo", hashlib.sha256(logo_png).hexdigest()) if logo_png
           else ("initials", initials(business_name)))
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    made = _render(logo_png, key[1])
    with _lock:
        _cache[key] = made
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return made


def initials(name: str) -> str:
    """Up to two initials: of the capitalised words ("Гараж на Лесной" -> "ГЛ")."""
    words = re.findall(r"\w+", name)
    picked = [w for w in words if w[0].isupper() or w[0].isdigit()] or words
    return "".join(w[0] for w in picked[:2]).upper() or "?"


def _render(logo_png: bytes | None, initials_text: str) -> PassImages:
    files: dict[str, bytes] = {}
    logo = None
    if logo_png:
        with Image.open(io.BytesIO(logo_png)) as opened:
            logo = opened.convert("RGBA")
    for scale in SCALES:
        suffix = "" if scale == 1 else f"@{scale}x"
        if logo is not None:
            images = (_logo_icon(logo, scale), _logo_logo(logo, scale),
                      _logo_strip(logo, scale))
        else:
            images = (_initials_icon(initials_text, scale), _initials_logo(initials_text, scale),
                      _initials_strip(initials_text, scale))
        for name, image in zip(("icon", "logo", "strip"), images, strict=True):
            out = io.BytesIO()
            image.save(out, "PNG")
            files[f"{name}{suffix}.png"] = out.getvalue()
    return PassImages(files, {name: hashlib.sha1(data).hexdigest()
                              for name, data in files.items()},
                      tuple(entry(name, data, deflate=False) for name, data in files.items()))


def _px(size: tuple[int, int], scale: int) -> tuple[int, int]:
    return size[0] * scale, size[1] * scale


def _fit(image: Image.Image, box: tuple[int, int]) -> Image.Image:
    """The image scaled (up or down) to fit inside ``box``, aspect kept."""
    ratio = min(box[0] / image.width, box[1] / image.height)
    size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _plate(logo: Image.Image, box: tuple[int, int], pad: int, radius: int) -> Image.Image:
    """The logo on a white rounded plate that fits ``box`` (readable on the green)."""
    inner = _fit(logo, (box[0] - 2 * pad, box[1] - 2 * pad))
    plate = Image.new("RGBA", (inner.width + 2 * pad, inner.height + 2 * pad), (0, 0, 0, 0))
    ImageDraw.Draw(plate).rounded_rectangle((0, 0, plate.width - 1, plate.height - 1),
                                            radius=radius, fill=(*WHITE, 255))
    plate.alpha_composite(inner, (pad, pad))
    return plate


def _logo_icon(logo: Image.Image, scale: int) -> Image.Image:
    size = _px(ICON, scale)
    icon = Image.new("RGBA", size, (*WHITE, 255))
    inner = _fit(logo, (round(size[0] * 0.84), round(size[1] * 0.84)))
    icon.alpha_composite(inner, ((size[0] - inner.width) // 2, (size[1] - inner.height) // 2))
    return icon.convert("RGB")


def _logo_logo(logo: Image.Image, scale: int) -> Image.Image:
    return _plate(logo, _px(LOGO, scale), pad=4 * scale, radius=8 * scale)


def _gradient(size: tuple[int, int]) -> Image.Image:
    """The theme green, lighter at the top: the strip's background."""
    light = tuple(round(c + (255 - c) * 0.16) for c in THEME)
    mask = Image.linear_gradient("L").resize(size)
    top = Image.new("RGBA", size, (*light, 255))
    return Image.composite(Image.new("RGBA", size, (*THEME, 255)), top, mask)


def _logo_strip(logo: Image.Image, scale: int) -> Image.Image:
    size = _px(STRIP, scale)
    strip = _gradient(size)
    plate = _plate(logo, (size[0] // 3, round(size[1] * 0.6)), pad=6 * scale,
                   radius=12 * scale)
    strip.alpha_composite(plate, (size[0] - plate.width - 16 * scale,
                                  (size[1] - plate.height) // 2))
    return strip.convert("RGB")


def _initials_icon(text: str, scale: int) -> Image.Image:
    size = _px(ICON, scale)
    icon = Image.new("RGBA", size, (*THEME, 255))
    _letters(icon, text, (*WHITE, 255), size[1] * 0.5)
    return icon.convert("RGB")


def _initials_logo(text: str, scale: int) -> Image.Image:
    side = LOGO[1] * scale
    badge = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    ImageDraw.Draw(badge).rounded_rectangle((0, 0, side - 1, side - 1), radius=10 * scale,
                                            fill=(*WHITE, 255))
    _letters(badge, text, (*THEME, 255), side * 0.46)
    return badge


def _initials_strip(text: str, scale: int) -> Image.Image:
    size = _px(STRIP, scale)
    strip = _gradient(size)
    side = round(size[1] * 0.8)
    mark = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    _letters(mark, text, (*WHITE, 40), side * 0.6)
    strip.alpha_composite(mark, (size[0] - side - 12 * scale, (size[1] - side) // 2))
    return strip.convert("RGB")


def _letters(image: Image.Image, text: str, fill: tuple[int, ...], height: float) -> None:
    """``text`` centred on ``image``; a ring with a tick when no font has its letters."""
    font = _font(text, round(height))
    draw = ImageDraw.Draw(image)
    cx, cy = image.width / 2, image.height / 2
    if font is not None:
        draw.text((cx, cy), text, font=font, fill=fill, anchor="mm")
        return
    r, w = min(cx, cy) * 0.7, max(1, round(min(cx, cy) * 0.12))
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=fill, width=w)
    draw.line([(cx - r * 0.45, cy), (cx - r * 0.1, cy + r * 0.35), (cx + r * 0.5, cy - r * 0.3)],
              fill=fill, width=w, joint="curve")


@cache
def _font_file() -> str | None:
    return next((path for path in _FONTS if Path(path).is_file()), None)


def _font(text: str, size: int) -> Font | None:
    """A bold face at ``size`` px that has every letter of ``text``, or None."""
    path = _font_file()
    if path is not None:
        return ImageFont.truetype(path, size)
    font = ImageFont.load_default(size=size)  # Pillow's own face: Latin letters only
    missing = _glyph(font, "\uffff", size)  # what it draws for a letter it lacks
    return font if all(_glyph(font, ch, size) != missing for ch in text) else None


def _glyph(font: Font, char: str, size: int) -> bytes:
    canvas = Image.new("L", (size * 2, size * 2), 0)
    ImageDraw.Draw(canvas).text((0, 0), char, font=font, fill=255)
    return canvas.tobytes()
