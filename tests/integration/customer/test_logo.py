"""The business's logo: set from a real image, refused when not one, shown on the card."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image

from webapp.domain.errors import InvalidInput
from webapp.services.business import logos


def image_bytes(fmt: str, size: tuple[int, int] = (1200, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (11, 93, 59)).save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_logo_is_stored_as_a_png_that_fits_512(app: Any, shop: SimpleNamespace,
                                                  fmt: str) -> None:
    logo = logos.set_logo(app.test_session(), shop.id, image_bytes(fmt))
    assert (logo.width, logo.height) == (512, 256)
    with Image.open(io.BytesIO(logo.png)) as stored:
        assert stored.format == "PNG" and stored.size == (512, 256)


@pytest.mark.parametrize("data", [b"", b"GIF89a not really", b"\x89PNG\r\n\x1a\n broken",
                                  b"x" * (logos.MAX_BYTES + 1)])
def test_anything_else_is_refused_and_nothing_is_stored(app: Any, shop: SimpleNamespace,
                                                        data: bytes) -> None:
    with pytest.raises(InvalidInput):
        logos.set_logo(app.test_session(), shop.id, data)
    assert logos.logo_of(app.test_session(), shop.id) is None


def test_a_gif_is_refused_though_pillow_reads_it(app: Any, shop: SimpleNamespace) -> None:
    with pytest.raises(InvalidInput):
        logos.set_logo(app.test_session(), shop.id, image_bytes("GIF"))


def test_the_card_shows_the_logo_and_its_url_serves_it(app: Any, shop: SimpleNamespace,
                                                      ivan: Any) -> None:
    assert 'class="logo"' not in ivan.get(f"/c/{shop.id}/").get_data(as_text=True)
    assert app.test_client().get(f"/c/{shop.id}/logo.png").status_code == 404
    logos.set_logo(app.test_session(), shop.id, image_bytes("PNG", (64, 64)))
    page = ivan.get(f"/c/{shop.id}/").get_data(as_text=True)
    assert f'src="/c/{shop.id}/logo.png?v=' in page
    with app.test_client().get(f"/c/{shop.id}/logo.png") as served:
        assert served.mimetype == "image/png" and served.data.startswith(b"\x89PNG")


def test_the_cli_sets_a_logo(app: Any, shop: SimpleNamespace, tmp_path: Any) -> None:
    path = tmp_path / "logo.jpg"
    path.write_bytes(image_bytes("JPEG"))
    result = app.test_cli_runner().invoke(args=["business-logo", "--business", str(shop.id),
                                                str(path)])
    assert result.exit_code == 0, result.output
    assert "512×256 PNG" in result.output
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    refused = app.test_cli_runner().invoke(args=["business-logo", "--business", str(shop.id),
                                                 str(bad)])
    assert refused.exit_code != 0 and "не изображение PNG, JPEG или WebP" in refused.output
