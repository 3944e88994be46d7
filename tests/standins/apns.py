"""A local HTTP/2 server standing in for APNs (the ``h2`` library over TLS).

It listens on 127.0.0.1 (a free port) with a server certificate from its own test CA
(``ca_pem``: what the client is told to trust through ``REGULARS_APNS_CA_FILE``),
optionally demands a client certificate issued under ``client_ca`` (certificate
authentication), records every request (method, path, headers, body, the client
certificate's subject) and answers each with the next scripted reply (200 by default).
"""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.events
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Received:
    """One request as the stand-in saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_subject: dict[str, str] = field(default_factory=dict)
    connection: int = 0  # 1 for the first connection accepted, 2 for the next...


@dataclass(frozen=True)
class Scripted:
    status: int = 200
    body: dict[str, Any] | None = None


def server_certificate(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a certificate for 127.0.0.1 / localhost signed by it: (ca, cert, key)."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "APNs stand-in test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False),
                         critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    paths = folder / "apns-ca.pem", folder / "apns-server.pem", folder / "apns-server-key.pem"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(cert.public_bytes(pem))
    paths[2].write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


class ApnsStandIn:
    """Start with :meth:`start` (or as a context manager); ``url`` is its base URL."""

    def __init__(self, folder: Path, client_ca: list[Path] | None = None) -> None:
        self.ca_pem, cert, key = server_certificate(folder)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert, key)
        self.context.set_alpn_protocols(["h2"])
        if client_ca:
            self.context.verify_mode = ssl.CERT_REQUIRED
            for path in client_ca:
                self.context.load_verify_locations(cafile=str(path))
        self.received: list[Received] = []
        self.handshake_errors: list[str] = []
        self.replies: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._connections = 0

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._listener.getsockname()[1]}"

    def reply(self, status: int, body: dict[str, Any] | None = None) -> None:
        """Answer the next request (after those already scripted) with this."""
        self.replies.append(Scripted(status, body))

    def start(self) -> ApnsStandIn:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def __enter__(self) -> ApnsStandIn:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._connections += 1
            thread = threading.Thread(target=self._serve, args=(raw, self._connections),
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, raw: socket.socket, number: int) -> None:
        raw.settimeout(5)
        try:
            sock = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as error:
            self.handshake_errors.append(str(error))
            raw.close()
            return
        with sock:
            subject = _subject(sock.getpeercert())
            conn = h2.connection.H2Connection(h2.config.H2Configuration(
                client_side=False, header_encoding="utf-8"))
            conn.initiate_connection()
            sock.sendall(conn.data_to_send())
            streams: dict[int, Received] = {}
            sock.settimeout(0.2)
            while not self._stop.is_set():
                try:
                    data = sock.recv(65536)
                except TimeoutError:
                    continue
                except (ssl.SSLError, OSError):
                    return
                if not data:
                    return
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        headers = {str(k): str(v) for k, v in event.headers or []}
                        streams[event.stream_id] = Received(
                            headers.get(":method", ""), headers.get(":path", ""), headers,
                            b"", subject, number)
                    elif isinstance(event, h2.events.DataReceived):
                        streams[event.stream_id].body += event.data or b""
                        conn.acknowledge_received_data(event.flow_controlled_length,
                                                       event.stream_id)
                    elif isinstance(event, h2.events.StreamEnded):
                        self._answer(conn, event.stream_id, streams.pop(event.stream_id))
                    elif isinstance(event, h2.events.ConnectionTerminated):
                        sock.sendall(conn.data_to_send())
                        return
                sock.sendall(conn.data_to_send())

    def _answer(self, conn: h2.connection.H2Connection, stream_id: int,
                request: Received) -> None:
        with self._lock:
            self.received.append(request)
            scripted = self.replies.popleft() if self.replies else Scripted()
        body = json.dumps(scripted.body).encode() if scripted.body is not None else b""
        headers = [(":status", str(scripted.status)), ("apns-id", str(uuid.uuid4()).upper())]
        if body:
            headers += [("content-type", "application/json"),
                        ("content-length", str(len(body)))]
        conn.send_headers(stream_id, headers, end_stream=not body)
        if body:
            conn.send_data(stream_id, body, end_stream=True)


def _subject(peer: Any) -> dict[str, str]:
    """The client certificate's subject as {attribute: value} ({} without one)."""
    found: dict[str, str] = {}
    for rdn in (peer or {}).get("subject", ()):
        for name, value in rdn:
            found[name] = value
    return found
