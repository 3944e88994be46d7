"""Checks of a .pkpass the way an iPhone makes them, for any test that gets one:
``check_pass(data, folder, pki)`` unzips into ``folder`` (made; not the app's instance
folder) and asserts keys, identifiers, manifest hashes, images, strings files and the
signature (``openssl cms -verify`` against the test root); returns pass.json."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import pkcs7
from PIL import Image

from tests.integration.wallet.pki import PKI
from wallet.apple import images

SCALES = {1: "", 2: "@2x", 3: "@3x"}
REQUIRED = ("formatVersion", "passTypeIdentifier", "serialNumber", "teamIdentifier",
            "organizationName", "description")


def openssl_verify(folder: Path, root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER",
         "-in", str(folder / "signature"), "-content", str(folder / "manifest.json"),
         "-CAfile", str(root), "-purpose", "any", "-noout"],
        capture_output=True, text=True, timeout=30, check=False)


def unpack(data: bytes, folder: Path) -> Path:
    folder.mkdir(parents=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        archive.extractall(folder)
    return folder


def check_pass(data: bytes, folder: Path, pki: PKI) -> dict[str, Any]:
    """Everything an iPhone checks before it accepts a pass; returns pass.json."""
    unpack(data, folder)
    names = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    document = json.loads((folder / "pass.json").read_text(encoding="utf-8"))
    for key in REQUIRED:
        assert document[key], key
    assert document["formatVersion"] == 1
    assert document["passTypeIdentifier"] == pki.pass_type_id
    assert document["teamIdentifier"] == pki.team_id
    assert "storeCard" in document
    # The manifest names every file but itself and the signature, with the right SHA-1.
    manifest = json.loads((folder / "manifest.json").read_bytes())
    assert sorted(manifest) == sorted(set(names) - {"manifest.json", "signature"})
    for name, digest in manifest.items():
        assert hashlib.sha1((folder / name).read_bytes()).hexdigest() == digest, name
    # Images at every scale, of the sizes Apple asks for.
    for kind, (width, height), exact in (("icon", images.ICON, True),
                                         ("logo", images.LOGO, False),
                                         ("strip", images.STRIP, True)):
        sizes = {}
        for scale, suffix in SCALES.items():
            with Image.open(folder / f"{kind}{suffix}.png") as image:
                assert image.format == "PNG"
                sizes[scale] = image.size
            w, h = sizes[scale]
            if exact:
                assert (w, h) == (width * scale, height * scale), kind
            else:
                assert w <= width * scale and h <= height * scale, kind
        assert sizes[3][1] == 3 * sizes[1][1] and sizes[2][1] == 2 * sizes[1][1], kind
    # The two strings files: UTF-16 with a byte-order mark, every key pass.json uses.
    used = {f[k] for group in document["storeCard"].values() for f in group
            for k in ("label", "changeMessage") if k in f}
    for lang in ("ru", "en"):
        raw = (folder / f"{lang}.lproj" / "pass.strings").read_bytes()
        assert raw[:2] == b"\xff\xfe"
        text = raw[2:].decode("utf-16-le")
        for key in used:
            assert f'"{key}" = "' in text, (lang, key)
    # The signature: detached, verifies against the test root, carries the WWDR
    # intermediate, SHA-256 and a signing time.
    result = openssl_verify(folder, pki.root_pem)
    assert result.returncode == 0, result.stderr
    embedded = pkcs7.load_der_pkcs7_certificates((folder / "signature").read_bytes())
    subjects = {cert.subject for cert in embedded}
    assert pki.wwdr.subject in subjects and len(embedded) == 2
    printed = subprocess.run(
        ["openssl", "cms", "-cmsout", "-print", "-inform", "DER",
         "-in", str(folder / "signature")],
        capture_output=True, text=True, timeout=30, check=True).stdout
    assert "signingTime" in printed and "sha256" in printed
    assert "eContent: <ABSENT>" in printed  # detached
    return dict(document)
