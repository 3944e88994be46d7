"""A fake camera for Chromium: YUV4MPEG2 files that show a QR code (or nothing).

Chromium started with ``--use-fake-ui-for-media-stream --use-fake-device-for-media-stream
--use-file-for-fake-video-capture=FILE.y4m`` returns this video from ``getUserMedia``
(looping it), so a page's scanner can be tested end to end without a camera.

The frames are pure black and white, so no image library is needed: in the full-range
(JPEG) YCbCr of ``C420jpeg`` a grey level is its own luma and both chroma values are 128.
The QR (its quiet zone of four modules included) is scaled to ``qr_pixels`` square with
nearest-neighbour sampling and centred on a white frame.
"""

from __future__ import annotations

from pathlib import Path

import qrcode

WHITE = 255
BLACK = 0
NEUTRAL_CHROMA = 128
QUIET_ZONE_MODULES = 4


def y4m_header(size: tuple[int, int], fps: int = 30) -> bytes:
    width, height = size
    return f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii")


def chroma_size(size: tuple[int, int]) -> tuple[int, int]:
    """The size of each 4:2:0 chroma plane (half each way, rounded up)."""
    width, height = size
    return (width + 1) // 2, (height + 1) // 2


def frame_bytes(size: tuple[int, int]) -> int:
    """Bytes of one frame after its ``FRAME\\n`` marker: Y plane plus Cb and Cr planes."""
    cw, ch = chroma_size(size)
    return size[0] * size[1] + 2 * cw * ch


def qr_modules(text: str) -> list[list[bool]]:
    """The module matrix (True = dark) of ``text``, quiet zone included, as ``qrcode`` makes it."""
    qr = qrcode.QRCode(border=QUIET_ZONE_MODULES, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    return [list(row) for row in qr.get_matrix()]


def qr_origin(size: tuple[int, int], qr_pixels: int) -> tuple[int, int]:
    """The top-left pixel of the QR square centred on a frame of ``size``."""
    return (size[0] - qr_pixels) // 2, (size[1] - qr_pixels) // 2


def luma_plane(text: str | None, size: tuple[int, int] = (640, 480), qr_pixels: int = 300) -> bytes:
    """The Y plane (row-major, one byte a pixel) of a white frame with the QR of ``text``."""
    width, height = size
    if text is None:
        return bytes([WHITE]) * (width * height)
    if not 21 <= qr_pixels <= min(width, height):
        raise ValueError(f"qr_pixels must be between 21 and {min(width, height)}")
    modules = qr_modules(text)
    count = len(modules)
    left, top = qr_origin(size, qr_pixels)
    # Nearest-neighbour scaling: pixel i of the QR square shows module i * count // qr_pixels.
    column_module = [i * count // qr_pixels for i in range(qr_pixels)]
    module_rows = [bytes(BLACK if row[m] else WHITE for m in column_module) for row in modules]
    margin_left = bytes([WHITE]) * left
    margin_right = bytes([WHITE]) * (width - left - qr_pixels)
    blank_row = bytes([WHITE]) * width
    rows = [blank_row] * top
    rows += [
        margin_left + module_rows[i * count // qr_pixels] + margin_right for i in range(qr_pixels)
    ]
    rows += [blank_row] * (height - top - qr_pixels)
    return b"".join(rows)


def _write(path: Path, luma: bytes, frames: int, size: tuple[int, int]) -> Path:
    if frames < 1:
        raise ValueError("frames must be at least 1")
    cw, ch = chroma_size(size)
    frame = b"FRAME\n" + luma + bytes([NEUTRAL_CHROMA]) * (2 * cw * ch)
    path = Path(path)
    with path.open("wb") as out:
        out.write(y4m_header(size))
        for _ in range(frames):
            out.write(frame)
    return path


def write_y4m(
    path: Path,
    text: str,
    frames: int = 30,
    size: tuple[int, int] = (640, 480),
    qr_pixels: int = 300,
) -> Path:
    """Write a YUV4MPEG2 (C420jpeg) video of ``frames`` identical frames showing the QR of
    ``text`` (``qr_pixels`` square, quiet zone included) centred on white; return ``path``."""
    return _write(path, luma_plane(text, size, qr_pixels), frames, size)


def blank_y4m(path: Path, frames: int = 30, size: tuple[int, int] = (640, 480)) -> Path:
    """Write a YUV4MPEG2 video of a plain white scene: a camera that sees no QR."""
    return _write(path, luma_plane(None, size), frames, size)
