"""The local C2PA signing identity: an ES256 CA and a signer certificate it issues.

c2pa refuses a self-signed leaf, so `atlas keys init` makes two certificates: a CA (kept in the
home, its key readable by the owner only) and a signer that is not a CA, with the key usages c2pa
checks. A file signed with it validates as trusted when the reader is given the CA as trust anchor.
Users may configure their own certificate chain, key and trust anchor instead (config `[signing]`).
"""

import datetime
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlas.core.atomic import write_atomic
from atlas.core.catalogue.home import Home
from atlas.core.errors import AtlasError, BadInput

CA_CERT, CA_KEY = "atlas-ca.pem", "atlas-ca.key"
SIGNER_CHAIN, SIGNER_KEY = "signer-chain.pem", "signer.key"
VALID_DAYS = 3650
MAX_COMMON_NAME = 64  # X.509's upper bound on a common name (RFC 5280)
DOCUMENT_SIGNING = "1.3.6.1.5.5.7.3.36"  # id-kp-documentSigning (RFC 9336), one of the EKUs c2pa accepts


@dataclass(frozen=True)
class Identity:
    """What signing and verifying need: the signer's chain and key, and the CA that is trusted."""

    chain_pem: bytes  # signer first, then its CA
    key_pem: bytes
    trust_anchor_pem: bytes | None
    source: str  # where it came from, for messages
    # What the signer puts in every manifest besides the record (config `[c2pa]`, see c2pa_options).
    tsa_url: str | None = None  # RFC 3161 time-stamp authority; None: no time-stamp
    training_mining: str | None = None  # credentials.TRAINING_CHOICES; None: "allowed"
    training_constraint: str | None = None  # what a "constrained" choice means


def _name(common_name: str, organisation: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def create_identity(folder: Path, owner: str = "atlas user", force: bool = False) -> dict[str, Path]:
    """Write a new CA and signer into `folder`; refuses to replace existing keys unless `force`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

    longest = MAX_COMMON_NAME - len("atlas local CA ()")
    if not owner.strip() or len(owner) > longest:
        raise BadInput(f"owner {owner[:80]!r}: give a name of 1 to {longest} characters "
                       f"(certificates hold at most {MAX_COMMON_NAME} in a common name)")
    paths = {name: folder / name for name in IDENTITY_FILES}
    if not force and any(p.exists() for p in paths.values()):
        damage = problems(folder)
        state = f"a damaged signing identity ({'; '.join(damage)})" if damage else "a signing identity"
        raise BadInput(f"{folder} already holds {state}; use --force to replace it "
                       "(files signed with the old one will no longer verify as trusted)")
    private_folder(folder)
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    until = now + datetime.timedelta(days=VALID_DAYS)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"atlas local CA ({owner})", "atlas")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(until)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer = (x509.CertificateBuilder().subject_name(_name(f"atlas signer ({owner})", "atlas"))
              .issuer_name(ca_name).public_key(signer_key.public_key())
              .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(until)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                           data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                           crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION,
                                                    ObjectIdentifier(DOCUMENT_SIGNING)]), critical=False)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))

    def pem(cert) -> bytes:
        return cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(key) -> bytes:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    # Keys readable by the owner only; certificates are public.
    write_atomic(paths[CA_CERT], pem(ca), mode=0o644)
    write_atomic(paths[CA_KEY], key_pem(ca_key), mode=0o600)
    write_atomic(paths[SIGNER_CHAIN], pem(signer) + pem(ca), mode=0o644)
    write_atomic(paths[SIGNER_KEY], key_pem(signer_key), mode=0o600)
    return paths


IDENTITY_FILES = (CA_CERT, CA_KEY, SIGNER_CHAIN, SIGNER_KEY)


def private_folder(folder: Path) -> None:
    """Make `folder` (if needed) readable by its owner only, whatever the umask."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)


def problems(folder: Path) -> list[str]:
    """What is wrong with the identity `atlas keys init` made in `folder` (empty when none is there
    or it is whole): missing, empty or unreadable files, a key that does not match its certificate,
    a signer its CA did not issue, keys others can read."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization

    paths = {name: folder / name for name in IDENTITY_FILES}
    if not any(p.exists() for p in paths.values()):
        return []
    found: list[str] = []
    loaded: dict[str, Any] = {}  # certificate lists and private keys
    for name, path in paths.items():
        if not path.is_file():
            found.append(f"{name} is missing")
            continue
        data = path.read_bytes()
        if not data.strip():
            found.append(f"{name} is empty")
            continue
        try:
            loaded[name] = (serialization.load_pem_private_key(data, password=None) if name.endswith(".key")
                            else x509.load_pem_x509_certificates(data))
        except (ValueError, TypeError):
            found.append(f"{name} is not a PEM {'key' if name.endswith('.key') else 'certificate'}")
            continue
        if name.endswith(".key") and path.stat().st_mode & 0o077:
            found.append(f"{name} can be read by others (mode {path.stat().st_mode & 0o777:o}, should be 600)")

    def public(key) -> bytes:
        return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    chain, ca = loaded.get(SIGNER_CHAIN), loaded.get(CA_CERT)
    if chain and SIGNER_KEY in loaded and public(chain[0].public_key()) != public(loaded[SIGNER_KEY].public_key()):
        found.append(f"{SIGNER_KEY} does not belong to the certificate in {SIGNER_CHAIN}")
    if ca and CA_KEY in loaded and public(ca[0].public_key()) != public(loaded[CA_KEY].public_key()):
        found.append(f"{CA_KEY} does not belong to {CA_CERT}")
    if chain and ca:
        try:
            chain[0].verify_directly_issued_by(ca[0])
        except (ValueError, TypeError, InvalidSignature) as exc:
            found.append(f"the signer in {SIGNER_CHAIN} was not issued by {CA_CERT} ({type(exc).__name__})")
    return found


def _read(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise BadInput(f"signing {what} {path}: cannot read it: {exc.strerror}") from None


def signing_config(home: Home) -> dict:
    return home.config().get("signing", {})


def c2pa_options(home: Home) -> dict:
    """Config `[c2pa]` as Identity fields: the time-stamp authority and the training-and-mining
    choice (schemas/config.schema.json checks their values; no time-stamp unless a URL is given)."""
    conf = home.config().get("c2pa", {})
    return {"tsa_url": conf.get("tsa_url") or None, "training_mining": conf.get("training_mining"),
            "training_constraint": conf.get("training_mining_constraint")}


def identity(home: Home) -> Identity | None:
    """The identity to sign with: configured files, else the one `atlas keys init` made, else None."""
    conf = signing_config(home)
    if conf.get("certificate") or conf.get("key"):
        if not (conf.get("certificate") and conf.get("key")):
            raise BadInput(f"{home.config_path}: [signing] needs both certificate and key")
        anchor = conf.get("trust_anchor")
        return Identity(_read(conf["certificate"], "certificate"), _read(conf["key"], "key"),
                        _read(anchor, "trust anchor") if anchor else None, str(home.config_path),
                        **c2pa_options(home))
    folder = home.keys
    if (folder / SIGNER_CHAIN).exists() and (folder / SIGNER_KEY).exists():
        anchor = folder / CA_CERT
        return Identity((folder / SIGNER_CHAIN).read_bytes(), (folder / SIGNER_KEY).read_bytes(),
                        anchor.read_bytes() if anchor.exists() else None, str(folder), **c2pa_options(home))
    return None


def trust_anchor(home: Home) -> bytes | None:
    """The CA certificate(s) trusted when verifying: configured, else atlas's own CA."""
    conf = signing_config(home)
    if conf.get("trust_anchor"):
        return _read(conf["trust_anchor"], "trust anchor")
    ca = home.keys / CA_CERT
    return ca.read_bytes() if ca.exists() else None


def signing_identity(home: Home) -> Identity | None:
    """The identity finish_pass signs with, or None when signing is off.

    Signing is on when an identity exists, unless config says `enabled = false`; `enabled = true`
    without an identity is an error rather than a silently unsigned render.
    """
    enabled = signing_config(home).get("enabled")
    if enabled is False:
        return None
    found = identity(home)
    if found is None and enabled:
        raise AtlasError("signing is enabled in config but there is no signing identity: "
                         "run `atlas keys init` or set [signing] certificate and key")
    return found
