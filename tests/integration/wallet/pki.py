"""A test PKI standing in for Apple's: a root CA, a "WWDR" intermediate, and pass-type
certificates it signs (pass type id in the subject's UID, team id in OU, as Apple
issues them), written as PEM files. Used by the wallet tests and the pkpass benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

PASS_TYPE_ID = "pass.test.regulars.loyalty"
TEAM_ID = "A1B2C3D4E5"
KEY_PASSWORD = "correct horse battery"
APPLE_PASS_TYPE_EKU = ObjectIdentifier("1.2.840.113635.100.4.14")


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str, *extra: x509.NameAttribute) -> x509.Name:
    return x509.Name([*extra, x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Regulars Test PKI"),
                      x509.NameAttribute(NameOID.COUNTRY_NAME, "RU")])


def _ca(subject: x509.Name, key: rsa.RSAPrivateKey, issuer: x509.Name,
        issuer_key: rsa.RSAPrivateKey, path_length: int | None, now: datetime
        ) -> x509.Certificate:
    return (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(issuer).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length),
                           critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(issuer_key, hashes.SHA256()))


@dataclass(frozen=True)
class PKI:
    """The PEM files (and the objects behind them) of one test PKI."""

    folder: Path
    root_pem: Path
    wwdr_pem: Path
    cert_pem: Path  # the pass-type certificate
    key_pem: Path  # its private key, unencrypted
    encrypted_key_pem: Path  # the same key, encrypted with KEY_PASSWORD
    wwdr: x509.Certificate
    wwdr_key: rsa.RSAPrivateKey
    key: rsa.RSAPrivateKey
    pass_type_id: str = PASS_TYPE_ID
    team_id: str = TEAM_ID

    def issue(self, name: str, *, uid: str | None = None, team_id: str | None = None,
              key: rsa.RSAPrivateKey | None = None, not_before: datetime | None = None,
              not_after: datetime | None = None) -> Path:
        """Another pass-type certificate from the stand-in WWDR, written as ``name``.pem
        (wrong identifiers, other keys and validity periods for the problem tests)."""
        now = datetime.now(UTC)
        cert = pass_certificate(
            uid or self.pass_type_id, team_id or self.team_id, (key or self.key),
            self.wwdr, self.wwdr_key, not_before or now - timedelta(days=1),
            not_after or now + timedelta(days=365))
        path = self.folder / f"{name}.pem"
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return path


def pass_certificate(uid: str, team_id: str, key: rsa.RSAPrivateKey,
                     wwdr: x509.Certificate, wwdr_key: rsa.RSAPrivateKey,
                     not_before: datetime, not_after: datetime) -> x509.Certificate:
    """A certificate shaped like Apple's "Pass Type ID" ones."""
    subject = x509.Name([
        x509.NameAttribute(NameOID.USER_ID, uid),
        x509.NameAttribute(NameOID.COMMON_NAME, f"Pass Type ID: {uid}"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, team_id),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Regulars Test Shop"),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "RU"),
    ])
    return (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(wwdr.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH,
                                                  APPLE_PASS_TYPE_EKU]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                wwdr_key.public_key()), critical=False)
            .sign(wwdr_key, hashes.SHA256()))


def make_pki(folder: Path, pass_type_id: str = PASS_TYPE_ID, team_id: str = TEAM_ID) -> PKI:
    """Root CA -> stand-in WWDR -> pass certificate, as PEM files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    root_key, wwdr_key, key = new_key(), new_key(), new_key()
    root_name = _name("Regulars Test Root CA")
    root = _ca(root_name, root_key, root_name, root_key, None, now)
    wwdr_name = _name("Stand-in Apple Worldwide Developer Relations CA",
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "G4"))
    wwdr = _ca(wwdr_name, wwdr_key, root.subject, root_key, 0, now)
    cert = pass_certificate(pass_type_id, team_id, key, wwdr, wwdr_key,
                            now - timedelta(days=1), now + timedelta(days=365))
    pem = serialization.Encoding.PEM
    paths = {name: folder / f"{name}.pem" for name in
             ("root", "wwdr", "pass-cert", "pass-key", "pass-key-encrypted")}
    paths["root"].write_bytes(root.public_bytes(pem))
    paths["wwdr"].write_bytes(wwdr.public_bytes(pem))
    paths["pass-cert"].write_bytes(cert.public_bytes(pem))
    paths["pass-key"].write_bytes(key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    paths["pass-key-encrypted"].write_bytes(key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(KEY_PASSWORD.encode())))
    return PKI(folder=folder, root_pem=paths["root"], wwdr_pem=paths["wwdr"],
               cert_pem=paths["pass-cert"], key_pem=paths["pass-key"],
               encrypted_key_pem=paths["pass-key-encrypted"], wwdr=wwdr, wwdr_key=wwdr_key,
               key=key, pass_type_id=pass_type_id, team_id=team_id)


def extra_for(pki: PKI) -> dict[str, str]:
    """The ``REGULARS_APPLE_*`` settings (without the prefix) pointing at ``pki``."""
    return {
        "APPLE_PASS_TYPE_ID": pki.pass_type_id,
        "APPLE_TEAM_ID": pki.team_id,
        "APPLE_PASS_CERT": str(pki.cert_pem),
        "APPLE_PASS_KEY": str(pki.key_pem),
        "APPLE_WWDR_CERT": str(pki.wwdr_pem),
    }
