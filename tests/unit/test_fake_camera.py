"""The fake camera's .y4m files: a valid YUV4MPEG2 stream whose frames show the QR asked for."""

from pathlib import Path

import pytest

from tests.browser import fake_camera
from tests.browser.fake_camera import blank_y4m, write_y4m

CARD = "123456786"
ROTATING = "R1.123456786.59847840.ITYCH4TSBW"
FINDER = [
    [True] * 7,
    [True, False, False, False, False, False, True],
    [True, False, True, True, True, False, True],
    [True, False, True, True, True, False, True],
    [True, False, True, True, True, False, True],
    [True, False, False, False, False, False, True],
    [True] * 7,
]


def read_y4m(path: Path) -> tuple[bytes, list[bytes]]:
    """The header line and the raw frames (marker stripped), checking the layout on the way."""
    data = path.read_bytes()
    header, _, rest = data.partition(b"\n")
    fields = dict((f[:1], f[1:]) for f in header.split(b" ")[1:])
    size = (int(fields[b"W"]), int(fields[b"H"]))
    step = len(b"FRAME\n") + fake_camera.frame_bytes(size)
    assert len(rest) % step == 0
    frames = []
    for start in range(0, len(rest), step):
        assert rest[start : start + 6] == b"FRAME\n"
        frames.append(rest[start + 6 : start + step])
    return header + b"\n", frames


def sample_modules(
    luma: bytes, size: tuple[int, int], qr_pixels: int, count: int
) -> list[list[bool]]:
    """Read the module grid back from a Y plane: the pixel at the centre of each module."""
    width = size[0]
    left, top = fake_camera.qr_origin(size, qr_pixels)
    pitch = qr_pixels / count
    grid = []
    for r in range(count):
        y = top + int((r + 0.5) * pitch)
        row = []
        for c in range(count):
            value = luma[y * width + left + int((c + 0.5) * pitch)]
            assert value in (0, 255)
            row.append(value == 0)
        grid.append(row)
    return grid


def test_header_and_size(tmp_path: Path) -> None:
    path = write_y4m(tmp_path / "card.y4m", CARD, frames=3)
    header = b"YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg\n"
    assert path.read_bytes().startswith(header)
    frame = 640 * 480 + 2 * 320 * 240
    assert path.stat().st_size == len(header) + 3 * (len(b"FRAME\n") + frame)
    _, frames = read_y4m(path)
    assert len(frames) == 3
    assert frames[0] == frames[1] == frames[2]
    assert set(frames[0][640 * 480 :]) == {128}  # neutral chroma: black and white only


def test_odd_size_rounds_chroma_up(tmp_path: Path) -> None:
    path = write_y4m(tmp_path / "odd.y4m", CARD, frames=1, size=(321, 241), qr_pixels=200)
    header, frames = read_y4m(path)
    assert header == b"YUV4MPEG2 W321 H241 F30:1 Ip A1:1 C420jpeg\n"
    assert len(frames[0]) == 321 * 241 + 2 * 161 * 121


@pytest.mark.parametrize(("text", "modules"), [(CARD, 21), (ROTATING, 25)])
def test_first_frame_shows_the_qr_of_the_text(tmp_path: Path, text: str, modules: int) -> None:
    size, qr_pixels = (640, 480), 300
    _, frames = read_y4m(write_y4m(tmp_path / "qr.y4m", text, frames=1))
    luma = frames[0][: size[0] * size[1]]
    expected = fake_camera.qr_modules(text)
    count = len(expected)
    assert count == modules + 2 * fake_camera.QUIET_ZONE_MODULES  # versions 1 and 2

    grid = sample_modules(luma, size, qr_pixels, count)
    assert grid == expected
    assert grid != fake_camera.qr_modules(text + "0")

    # It is a QR: finder patterns in three corners inside a white quiet zone.
    q, n = fake_camera.QUIET_ZONE_MODULES, modules
    symbol = [row[q : q + n] for row in grid[q : q + n]]
    assert [row[:7] for row in symbol[:7]] == FINDER  # top left
    assert [row[-7:] for row in symbol[:7]] == FINDER  # top right
    assert [row[:7] for row in symbol[-7:]] == FINDER  # bottom left
    assert not any(any(row[:q]) or any(row[-q:]) for row in grid)
    assert not any(any(row) for row in grid[:q] + grid[-q:])


def test_qr_is_centred_and_sized() -> None:
    size, qr_pixels = (640, 480), 300
    luma = fake_camera.luma_plane(CARD, size, qr_pixels)
    width = size[0]
    dark = [i for i, v in enumerate(luma) if v == 0]
    rows = {i // width for i in dark}
    cols = {i % width for i in dark}
    left, top = fake_camera.qr_origin(size, qr_pixels)
    assert (left, top) == (170, 90)
    count = len(fake_camera.qr_modules(CARD))
    # The dark modules span the symbol: from the end of the quiet zone to its start again.
    quiet = -(-fake_camera.QUIET_ZONE_MODULES * qr_pixels // count)
    assert min(cols) == left + quiet and min(rows) == top + quiet
    assert max(cols) < left + qr_pixels - quiet + 1
    assert max(rows) < top + qr_pixels - quiet + 1
    assert set(luma) == {0, 255}


def test_blank_camera_shows_nothing(tmp_path: Path) -> None:
    path = blank_y4m(tmp_path / "blank.y4m", frames=2)
    _, frames = read_y4m(path)
    assert len(frames) == 2
    assert set(frames[0][: 640 * 480]) == {255}
    assert set(frames[0][640 * 480 :]) == {128}


def test_rejects_impossible_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="frames"):
        write_y4m(tmp_path / "x.y4m", CARD, frames=0)
    with pytest.raises(ValueError, match="qr_pixels"):
        write_y4m(tmp_path / "x.y4m", CARD, qr_pixels=481)
