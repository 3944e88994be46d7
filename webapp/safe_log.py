"""Log lines without secrets: gunicorn's access and error logs as ``regulars serve`` writes them.

Some links are capabilities: the texted wallet link carries its token in the query string
(``/c/<id>/wallet/<serial>?d=…&t=…``), a staff invitation in the path
(``/b/<id>/staff/invite/<token>``), and Apple's devices name themselves in PassKit paths
(``/wallet/apple/v1/devices/<device_id>/…``; listing a device's updated passes takes no
other credential). Whoever reads the logs (a support engineer, a log shipper, a backup)
must not be able to use them. So a request target is logged as its path only (query
strings are dropped: they carry the wallet token, searched phone numbers, ``next``
addresses), and the secret path segments are replaced by :data:`REDACTED`.
``tests/integration/test_access_log.py`` checks every argument of the URL map is either
listed here or known to be public.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from gunicorn.glogging import Logger

REDACTED = "[secret]"
# Matched on the decoded path with slashes merged, as the router sees it, so no other
# spelling of the same path (``%69nvite``, ``staff//invite``) escapes. An invitation's
# path ends with its token: everything after ``invite/`` goes.
_SECRET_SEGMENT = re.compile(r"(/staff/invite/).+|(/wallet/apple/v1/devices/)[^/]+")
_PATH_SAFE = "/:@!$&'()*+,;=-._~"  # RFC 3986 pchar, so a logged path stays one token
# A URL (scheme://host, then maybe a path) or a bare absolute path in free text.
_IN_TEXT = re.compile(r"(?P<origin>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/?#\"'<>]+)(?P<path>"
                      r"[/?#][^\s\"'<>]*)?|(?<![\w/])(?P<bare>/[^\s\"'<>]*)")


def safe_target(target: str) -> str:
    """A request target as the logs may show it: the path only (no query string, no
    fragment), with secret segments replaced."""
    path = target.split("#", 1)[0].split("?", 1)[0]
    if "://" in path:  # the absolute form a proxy may send: keep only its path
        path = urlsplit(path).path
    path = quote(re.sub(r"/{2,}", "/", unquote(path)), safe=_PATH_SAFE)
    return _SECRET_SEGMENT.sub(lambda found: (found.group(1) or found.group(2)) + REDACTED,
                               path) or "/"


def safe_url(url: str) -> str:
    """A full URL (a Referer) as the logs may show it: scheme, host and safe path."""
    if not url or url == "-":
        return "-"
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]  # never a user:password@
    origin = f"{parts.scheme}://{host}" if parts.scheme and host else ""
    return origin + safe_target(parts.path if origin else url)


def redact(text: str) -> str:
    """Free text (an error message) with every URL and path in it made safe."""
    def clean(found: re.Match[str]) -> str:
        if found.group("bare"):
            return safe_target(found.group("bare"))
        if found.group("path"):
            return safe_url(found.group(0))
        return safe_url(found.group(0)).removesuffix("/")  # a bare origin stays bare

    return _IN_TEXT.sub(clean, text)


class SafeLogger(Logger):
    """gunicorn's logger, writing request targets and Referers without secrets.

    Only the standard atoms are offered to the access log format, so no header or
    environ atom (``{authorization}i``, ``{query_string}e``) can bring a secret back.
    """

    KEPT = ("h", "l", "t", "s", "m", "H", "b", "B", "a", "T", "D", "M", "L", "p")

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any],
              request_time: Any) -> dict[str, Any]:
        every = super().atoms(resp, req, environ, request_time)
        atoms = {name: every[name] for name in self.KEPT}
        path = safe_target(environ.get("RAW_URI") or environ.get("PATH_INFO") or "/")
        atoms.update(u="-", U=path, q="", f=safe_url(environ.get("HTTP_REFERER", "-")),
                     r=f"{atoms['m']} {path} {atoms['H']}")
        return atoms

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        # The error log names requests too ("Error handling request GET /…?t=…", a bad
        # request line): every record is made safe before any handler writes it.
        self.error_log.addFilter(_REDACT)


class _Redacting(logging.Filter):
    """Replaces a record's message by its safe form (see :func:`redact`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = _safe(record.msg, record.args or ()), ()
        return True


_REDACT = _Redacting()


def _safe(msg: Any, args: Any) -> str:
    try:
        text = str(msg) % args if args else str(msg)
    except (TypeError, ValueError):  # a malformed call still gets logged, made safe
        text = f"{msg} {args!r}"
    return redact(text)
