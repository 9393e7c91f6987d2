"""Signed checkpoints of the audit log (pure): Ed25519 keys, signed notes, the checkpoint body.

The formats are C2SP's, so that anyone can check a checkpoint without our code:
- a signed note (c2sp.org/signed-note): the text, a blank line, one line per signature
  `— <key name> <base64(key ID || Ed25519 signature of the text)>`,
  key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4];
- a checkpoint (c2sp.org/tlog-checkpoint): the origin, the log size in decimal, then in base64 the
  hash of entry #size (the chain head goes where a tlog has its Merkle root), then extension lines;
- key files as golang.org/x/mod/sumdb/note writes them:
  `PRIVATE+KEY+<name>+<key ID hex>+<base64(0x01 || seed)>` and `<name>+<key ID hex>+<base64(0x01 || key)>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from workflow.errors import IntegrityFailure, InvalidInput

ED25519 = b"\x01"
DASH = "\u2014"
_BAD_NAME = re.compile(r"[\s+]")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def check_name(name: str) -> str:
    if not name or _BAD_NAME.search(name) or any(ord(c) < 0x20 for c in name):
        raise InvalidInput(f"名称 '{name}' 无效：不能为空，不能含空白或 + (a note name has no spaces or '+')")
    return name


@dataclass(frozen=True)
class Verifier:
    name: str
    key: bytes  # the 32-byte Ed25519 public key

    @property
    def key_id(self) -> bytes:
        return hashlib.sha256(self.name.encode() + b"\n" + ED25519 + self.key).digest()[:4]

    def line(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{_b64(ED25519 + self.key)}"

    def verifies(self, text: str, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.key).verify(signature, text.encode())
            return True
        except InvalidSignature:
            return False


@dataclass(frozen=True)
class Signer:
    name: str
    seed: bytes  # the 32-byte Ed25519 private key

    def verifier(self) -> Verifier:
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key()
        return Verifier(self.name, public.public_bytes(Encoding.Raw, PublicFormat.Raw))

    def line(self) -> str:
        return f"PRIVATE+KEY+{self.name}+{self.verifier().key_id.hex()}+{_b64(ED25519 + self.seed)}"

    def signature(self, text: str) -> str:
        sig = Ed25519PrivateKey.from_private_bytes(self.seed).sign(text.encode())
        return f"{DASH} {self.name} {_b64(self.verifier().key_id + sig)}"


def generate(name: str) -> Signer:
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    raw = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return Signer(check_name(name), raw)


def _key_parts(text: str, source: str, private: bool) -> tuple[str, bytes]:
    text = text.strip()
    if private:
        if not text.startswith("PRIVATE+KEY+"):
            raise InvalidInput(f"{source} 不是检查点私钥（应以 PRIVATE+KEY+ 开头；not a private key file）")
        text = text.removeprefix("PRIVATE+KEY+")
    parts = text.split("+", 2)  # name + key ID + base64, which may itself hold a '+'
    try:
        name, key_id, raw = parts
        blob = _unb64(raw)
        int(key_id, 16)
    except ValueError:
        raise InvalidInput(f"{source} 不是 campaign audit keygen 生成的密钥文件 (malformed key file)") from None
    if len(blob) != 33 or blob[:1] != ED25519 or len(key_id) != 8:
        raise InvalidInput(f"{source} 不是 Ed25519 密钥 (not an Ed25519 note key)")
    return check_name(name), blob[1:]


def read_signer(text: str, source: str) -> Signer:
    name, seed = _key_parts(text, source, True)
    return Signer(name, seed)


def read_verifier(text: str, source: str) -> Verifier:
    if text.strip().startswith("PRIVATE+KEY+"):
        raise InvalidInput(f"{source} 是私钥，--pubkey 应给公钥文件 KEYFILE.pub (a private key given as public)")
    name, key = _key_parts(text, source, False)
    v = Verifier(name, key)
    if v.key_id.hex() != text.strip().split("+")[1]:
        raise InvalidInput(f"{source} 的密钥编号与公钥不符 (key ID mismatch)")
    return v


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    sig: bytes


def split(note: str, source: str) -> tuple[str, list[Signature]]:
    """The note's text (with its final newline) and its signature lines."""
    bad = IntegrityFailure(f"检查点文件 {source} 不是有效的签名文本 (malformed signed note)")
    if any(ord(c) < 0x20 and c != "\n" for c in note) or not note.endswith("\n"):
        raise bad
    text, sep, tail = note.rpartition("\n\n")
    if not sep or not text:
        raise bad
    sigs = []
    for line in tail[:-1].split("\n"):
        dash, _, rest = line.partition(" ")
        name, _, blob = rest.partition(" ")
        try:
            raw = _unb64(blob)
        except (ValueError, binascii.Error):
            raise bad from None
        if dash != DASH or not name or len(raw) < 5:
            raise bad
        sigs.append(Signature(name, raw[:4], raw[4:]))
    return text + "\n", sigs


def signed_by(note: str, known: list[Verifier], source: str, *, require: bool = True) -> tuple[str, list[str]]:
    """The text and the names of the known keys that signed it. A known key whose signature fails,
    or (when `require`) no known key at all, is an integrity failure; unknown keys are ignored."""
    text, sigs = split(note, source)
    names = []
    for s in sigs:
        for v in known:
            if (v.name, v.key_id) == (s.name, s.key_id):
                if not v.verifies(text, s.sig):
                    raise IntegrityFailure(f"检查点 {source} 的签名无效（{s.name}）：文件被改动或伪造 "
                                           "(bad signature)")
                names.append(s.name)
    if not names and require:
        raise IntegrityFailure(f"检查点 {source} 没有已知公钥的签名（已知：{', '.join(v.name for v in known)}）"
                               "(no signature by a known key)")
    return text, names


def cosign(note: str, signer: Signer, source: str) -> tuple[str, bool]:
    """The note with `signer`'s signature added; False when it already carries it."""
    text, sigs = split(note, source)
    me = signer.verifier()
    if any((s.name, s.key_id) == (me.name, me.key_id) for s in sigs):
        return note, False
    return note + signer.signature(text) + "\n", True


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    head: str  # hex, as the chain stores it
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = (self.origin, str(self.size), _b64(bytes.fromhex(self.head)), *self.extensions)
        return "".join(f"{line}\n" for line in lines)

    def note(self, signer: Signer) -> str:
        return f"{self.text()}\n{signer.signature(self.text())}\n"


def parse(text: str, source: str) -> Checkpoint:
    lines = text.split("\n")[:-1]
    try:
        origin, size, head, *ext = lines
        raw = _unb64(head)
        if not size.isdigit() or (size != "0" and size.startswith("0")) or len(raw) != 32 or not origin:
            raise ValueError(size)
    except (ValueError, binascii.Error):
        raise IntegrityFailure(f"检查点文件 {source} 不是审计检查点（origin、条数、哈希三行）"
                               "(malformed checkpoint)") from None
    return Checkpoint(origin, int(size), raw.hex(), tuple(ext))
