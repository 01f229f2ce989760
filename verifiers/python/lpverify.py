#!/usr/bin/env python3
"""An independent verifier of liveproof evidence bundles, written from docs/evidence-format.md.

It shares no code with liveproof: Python 3.9+, the standard library, and `cryptography`
(Ed25519) from PyPI. The timestamp check uses `openssl ts -verify`.

    python3 lpverify.py BUNDLE.zip [--key HEX]... [--trust FILE] [--tsa-cert PEM] [--json]

Exit codes: 0 verified, 5 not verified, 6 intact but signed by a key not trusted.
"""

import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

STATEMENT_DOMAIN = "liveproof/statement/v2"
MANIFEST_DOMAIN = "liveproof/manifest/v1"
TREE_HEAD_DOMAIN = "liveproof/tree-head/v1"
SEGMENT_DOMAIN = "liveproof/segment/v1"
GAP_DOMAIN = "liveproof/gap/v1"
COMMENT_DOMAIN = "liveproof/comment/v1"
LOG_ENTRY_DOMAIN = "liveproof/log-entry/v1"
CUSTODY_DOMAIN = "liveproof/custody/v1"
FORMAT = "liveproof/bundle/v2"
SPAN_FORMAT = "liveproof/span/v1"
SPAN_DOMAIN = "liveproof/span/v1"

MAX_MEMBERS = 32
MAX_SMALL = 16 << 20
MAX_SMALL_TOTAL = 48 << 20
MAX_CLIP = 2 << 30
MAX_RECORDING = 64 << 30
MAX_RATIO = 100
NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
HEX128 = re.compile(r"^[0-9a-f]{128}$")
PART = re.compile(r"^part-[0-9]{1,3}\.zip$")


class Bad(Exception):
    """A structure is not as the format says."""


def sha256(b):
    return hashlib.sha256(b).digest()


def dm(domain, message):
    return domain.encode("ascii") + b"\x00" + message


def ed25519_ok(public, domain, message, signature):
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, dm(domain, message))
        return True
    except (InvalidSignature, ValueError):
        return False


def u64(n):
    return struct.pack(">Q", n)


def lstr(s):
    b = s.encode("utf-8")
    return struct.pack(">I", len(b)) + b


# --- §2 the container ------------------------------------------------------------------------

def check_layout(raw):
    """Returns [(name, method, compressed, size)] if the zip is laid out unambiguously."""
    u16 = lambda i: struct.unpack_from("<H", raw, i)[0]
    u32 = lambda i: struct.unpack_from("<I", raw, i)[0]
    u64le = lambda i: struct.unpack_from("<Q", raw, i)[0]
    n = len(raw)
    if n < 22:
        raise Bad("too short to be a zip file")
    end = n - 22
    if u32(end) != 0x06054B50:
        raise Bad("the file does not end with an end record without comment")
    if u16(end + 20) != 0:
        raise Bad("the end record has a comment")
    if u16(end + 4) != 0 or u16(end + 6) != 0 or u16(end + 8) != u16(end + 10):
        raise Bad("multi-disk archive")
    count, cd_size, cd_off = u16(end + 10), u32(end + 12), u32(end + 16)
    cd_end = end
    if count == 0xFFFF or cd_size == 0xFFFFFFFF or cd_off == 0xFFFFFFFF:
        loc = end - 20
        if loc < 56 or u32(loc) != 0x07064B50 or u32(loc + 4) != 0 or u32(loc + 16) != 1:
            raise Bad("Zip64 locator missing")
        rec = u64le(loc + 8)
        if rec + 56 != loc or u32(rec) != 0x06064B50 or u64le(rec + 4) != 44:
            raise Bad("Zip64 end record malformed")
        if u32(rec + 16) != 0 or u32(rec + 20) != 0 or u64le(rec + 24) != u64le(rec + 32):
            raise Bad("multi-disk archive")
        count, cd_size, cd_off = u64le(rec + 32), u64le(rec + 40), u64le(rec + 48)
        cd_end = rec
    if count == 0 or count > MAX_MEMBERS:
        raise Bad("%d members; a bundle has 1 to %d" % (count, MAX_MEMBERS))
    if cd_off + cd_size != cd_end:
        raise Bad("bytes between the central directory and the end record")
    members, seen, spans = [], set(), []
    i = cd_off
    for k in range(count):
        if i + 46 > cd_end or u32(i) != 0x02014B50:
            raise Bad("central entry %d malformed" % k)
        flags, method, crc = u16(i + 8), u16(i + 10), u32(i + 16)
        comp, size = u32(i + 20), u32(i + 24)
        nl, xl, cl = u16(i + 28), u16(i + 30), u16(i + 32)
        disk, local = u16(i + 34), u32(i + 42)
        name_b = raw[i + 46:i + 46 + nl]
        extra = raw[i + 46 + nl:i + 46 + nl + xl]
        if cl != 0 or disk != 0:
            raise Bad("central entry %d has a comment or another disk" % k)
        # Zip64 extra field: the values marked 0xFFFFFFFF, in order.
        j = 0
        while j + 4 <= len(extra):
            hid, hl = struct.unpack_from("<HH", extra, j)
            if hid == 0x0001:
                vals = list(struct.unpack_from("<%dQ" % (hl // 8), extra, j + 4))
                if size == 0xFFFFFFFF:
                    size = vals.pop(0)
                if comp == 0xFFFFFFFF:
                    comp = vals.pop(0)
                if local == 0xFFFFFFFF:
                    local = vals.pop(0)
            j += 4 + hl
        if j != len(extra) or 0xFFFFFFFF in (size, comp, local):
            raise Bad("central entry %d: extra fields malformed" % k)
        try:
            name = name_b.decode("utf-8")
        except UnicodeDecodeError:
            raise Bad("a member name is not UTF-8")
        if name.lower() in seen:
            raise Bad("member %s appears twice" % name)
        seen.add(name.lower())
        if flags & 0x1 or flags & 0x8:
            raise Bad("member %s is encrypted or has a data descriptor" % name)
        if method == 0 and size != comp:
            raise Bad("stored member %s has two sizes" % name)
        if method == 8 and size > max(comp * MAX_RATIO, 64 << 10):
            raise Bad("member %s inflates past %d:1" % (name, MAX_RATIO))
        if method not in (0, 8):
            raise Bad("member %s uses method %d" % (name, method))
        if local + 30 > n or u32(local) != 0x04034B50:
            raise Bad("member %s has no local header" % name)
        lflags, lmethod, lcrc = u16(local + 6), u16(local + 8), u32(local + 14)
        lcomp, lsize, lnl, lxl = u32(local + 18), u32(local + 22), u16(local + 26), u16(local + 28)
        if raw[local + 30:local + 30 + lnl] != name_b or (lflags, lmethod, lcrc) != (flags, method, crc):
            raise Bad("member %s: local header disagrees with the central directory" % name)
        if (lcomp, lsize) not in ((comp, size), (0xFFFFFFFF, 0xFFFFFFFF)):
            raise Bad("member %s: local sizes disagree" % name)
        start, stop = local, local + 30 + lnl + lxl + comp
        spans.append((start, stop))
        members.append((name, method, comp, size))
        i += 46 + nl + xl + cl
    if i != cd_end:
        raise Bad("the central directory holds more than its entries")
    at = 0
    for start, stop in sorted(spans):
        if start != at:
            raise Bad("members overlap, or bytes are hidden before or between them")
        at = stop
    if at != cd_off:
        raise Bad("bytes hidden before the central directory")
    return members


def read_members(path):
    """(small members' bytes by name, every member's SHA-256 hex by name); big members (the
    clip, the recording) are hashed as they stream, never held in memory."""
    with open(path, "rb") as f:
        raw = f.read()
    declared = check_layout(raw)
    small_total = 0
    for name, _, _, size in declared:
        if not NAME.match(name) or name.startswith(".") or ".." in name:
            raise Bad("member name %r is not allowed" % name)
        if name.startswith("recording."):
            limit = MAX_RECORDING
        elif name.endswith(".flac"):
            limit = MAX_CLIP
        else:
            limit = MAX_SMALL
            small_total += size
        if size > limit:
            raise Bad("member %s is larger than %d bytes" % (name, limit))
    if small_total > MAX_SMALL_TOTAL:
        raise Bad("metadata members too large")
    z = zipfile.ZipFile(path)
    small, hashes = {}, {}
    for name, _, _, size in declared:
        big = name.startswith("recording.") or name.endswith(".flac")
        h, n, kept = hashlib.sha256(), 0, []
        with z.open(name) as f:
            while True:
                chunk = f.read(min(1 << 20, size + 1 - n))
                if not chunk:
                    break
                n += len(chunk)
                h.update(chunk)
                if not big:
                    kept.append(chunk)
                if n > size:
                    break
        if n != size:
            raise Bad("member %s does not inflate to its declared size" % name)
        hashes[name] = h.hexdigest()
        if not big:
            small[name] = b"".join(kept)
    return small, hashes


# --- strict JSON -----------------------------------------------------------------------------

def is_int(v):
    return type(v) is int and 0 <= v < 2 ** 63


def is_hex(v):
    return isinstance(v, str) and HEX64.match(v) is not None


def strict(obj, spec, what, optional=()):
    """obj must be a dict with exactly spec's keys (optional ones may be absent), each valid."""
    if not isinstance(obj, dict):
        raise Bad("%s is not an object" % what)
    extra = set(obj) - set(spec)
    if extra:
        raise Bad("%s has unknown field(s) %s" % (what, sorted(extra)))
    for k, ok in spec.items():
        if k not in obj:
            if k in optional:
                continue
            raise Bad("%s lacks %s" % (what, k))
        if not ok(obj[k]):
            raise Bad("%s.%s is not valid" % (what, k))
    return obj


def parse_json(b, what):
    try:
        return json.loads(b.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise Bad("%s is not JSON: %s" % (what, e))


def file_ref(v):
    try:
        strict(v, {"file": lambda x: isinstance(x, str), "sha256": is_hex}, "member reference")
        return True
    except Bad:
        return False


def clip_ref(v):
    if v is None:
        return True
    try:
        strict(v, {"file": lambda x: isinstance(x, str), "sha256": is_hex,
                   "from_ms": is_int, "to_ms": is_int}, "clip")
        return True
    except Bad:
        return False


STATEMENT = {
    "format": lambda v: v == FORMAT, "session": lambda v: isinstance(v, str),
    "created_at": lambda v: isinstance(v, str), "from_ms": is_int, "to_ms": is_int,
    "first_index": is_int, "last_index": is_int, "transcript_root": is_hex, "clip": clip_ref,
    "members": lambda v: isinstance(v, list) and all(file_ref(x) for x in v),
}
SIGNATURE = {"algorithm": lambda v: v == "ed25519", "domain": lambda v: isinstance(v, str),
             "public_key": is_hex, "signature": lambda v: isinstance(v, str)}


def proof_list(v):
    return isinstance(v, list) and all(is_hex(x) for x in v)


def segment_ok(v):
    try:
        strict(v, {"index": is_int, "start_ms": is_int, "end_ms": is_int,
                   "text": lambda x: isinstance(x, str), "proof": proof_list}, "segment")
        return True
    except Bad:
        return False


def gap_ok(v):
    try:
        strict(v, {"index": is_int, "start_ms": is_int, "end_ms": is_int,
                   "reason": lambda x: isinstance(x, str), "proof": proof_list}, "gap")
        return True
    except Bad:
        return False


EXCERPT = {
    "session": lambda v: isinstance(v, str), "transcript_root": is_hex, "segment_count": is_int,
    "segments": lambda v: isinstance(v, list) and all(segment_ok(x) for x in v),
    "claims": lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
    "gap_count": is_int, "gaps": lambda v: isinstance(v, list) and all(gap_ok(x) for x in v),
}


def tree_head_ok(v):
    try:
        strict(v, {"size": is_int, "root": is_hex, "timestamp": lambda x: isinstance(x, str),
                   "public_key": is_hex, "signature": lambda x: isinstance(x, str)}, "tree_head")
        return True
    except Bad:
        return False


LOG = {"session": lambda v: isinstance(v, str), "manifest_sha256": is_hex, "index": is_int,
       "proof": proof_list, "tree_head": tree_head_ok}


# --- §6 Merkle trees -------------------------------------------------------------------------

def leaf_hash(d):
    return sha256(b"\x00" + d)


def node_hash(l, r):
    return sha256(b"\x01" + l + r)


def included(leaf, index, size, proof, root):
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def segment_leaf(session, s):
    return leaf_hash(SEGMENT_DOMAIN.encode() + b"\x00" + lstr(session) + u64(s["index"])
                     + u64(s["start_ms"]) + u64(s["end_ms"]) + lstr(s["text"]))


def gap_leaf(session, g):
    return leaf_hash(GAP_DOMAIN.encode() + b"\x00" + lstr(session) + u64(g["index"])
                     + u64(g["start_ms"]) + u64(g["end_ms"]) + lstr(g["reason"]))


def comment_leaf(session, c):
    return leaf_hash(COMMENT_DOMAIN.encode() + b"\x00" + lstr(session) + u64(c["index"])
                     + u64(c["t_ms"]) + lstr(c["kind"]) + lstr(c["user"] or "") + lstr(c["text"]))


def check_comments(b, manifest, st):
    """comments.json: every comment proven against the manifest's comments root, in order,
    within the statement's range."""
    text = lambda v: isinstance(v, str)
    ex = strict(parse_json(b, "comments.json"),
                {"session": text, "root": is_hex, "count": is_int, "comments": lambda v: isinstance(v, list)},
                "comments")
    sealed = manifest.get("comments")
    if not isinstance(sealed, dict) or not is_hex(sealed.get("root")) or not is_int(sealed.get("count")):
        raise Bad("the manifest seals no live comments")
    if ex["session"] != manifest["session"] or ex["root"] != sealed["root"] or ex["count"] != sealed["count"]:
        raise Bad("the comments are not the ones this manifest seals")
    root, last = bytes.fromhex(sealed["root"]), -1
    for c in ex["comments"]:
        strict(c, {"index": is_int, "t_ms": is_int, "kind": text,
                   "user": lambda v: v is None or isinstance(v, str), "text": text,
                   "proof": proof_list}, "comment")
        if c["index"] <= last or not st["from_ms"] <= c["t_ms"] <= st["to_ms"]:
            raise Bad("comment %d is out of order or outside the range" % c["index"])
        last = c["index"]
        if not included(comment_leaf(manifest["session"], c), c["index"], ex["count"],
                        [bytes.fromhex(x) for x in c["proof"]], root):
            raise Bad("comment %d does not reach the sealed root" % c["index"])


def tree_head_message(h):
    return u64(h["size"]) + bytes.fromhex(h["root"]) + h["timestamp"].encode("ascii")


# --- §7 checkpoints and witnesses (C2SP signed-note, tlog-checkpoint, tlog-cosignature) ------

def raw_ed25519_ok(public, message, signature):
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def note_key_id(name, kind, public):
    return sha256(name.encode() + b"\n" + bytes([kind]) + public)[:4]


def b64(text):
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Bad("not base64: %r" % text)


def parse_note(text):
    body, sep, sigs = text.partition("\n\n")
    if not sep or not sigs.endswith("\n"):
        raise Bad("not a signed note")
    lines = sigs[:-1].split("\n")
    if not 1 <= len(lines) <= 64:
        raise Bad("a signed note has 1 to 64 signature lines")
    out = []
    for line in lines:
        if not line.startswith("\u2014 ") or " " not in line[2:]:
            raise Bad("not a signature line: %r" % line)
        name, enc = line[2:].rsplit(" ", 1)
        raw = b64(enc)
        if not name or any(c.isspace() for c in name) or len(raw) < 5:
            raise Bad("not a signature line: %r" % line)
        out.append((name, raw[:4], raw[4:]))
    body += "\n"
    parts = body.split("\n")
    if len(parts) < 4:
        raise Bad("a checkpoint has an origin, a size and a root line")
    origin, size, root = parts[0], parts[1], b64(parts[2])
    if not size.isdigit() or (size.startswith("0") and size != "0") or len(root) != 32:
        raise Bad("malformed checkpoint")
    return body, origin, int(size), root, out


def vkey(text):
    name, kid, enc = text.strip().split("+", 2)
    raw = b64(enc)
    if len(raw) != 33 or raw[0] != 4 or bytes.fromhex(kid) != note_key_id(name, 4, raw[1:]):
        raise Bad("not a witness verifier key: %r" % text)
    return name, raw[1:]


def check_witnessed(b, key, session, manifest_bytes, witnesses):
    w = strict(parse_json(b, "witnessed.json"),
               {"checkpoint": lambda v: isinstance(v, str), "index": is_int, "proof": proof_list},
               "witnessed")
    body, origin, size, root, sigs = parse_note(w["checkpoint"])
    if origin != "liveproof/" + sha256(key).hex()[:16] or not any(
            n == origin and kid == note_key_id(origin, 1, key) and raw_ed25519_ok(key, body.encode(), sig)
            for n, kid, sig in sigs):
        raise Bad("the witnessed checkpoint is not signed by the bundle's key as its log")
    entry = LOG_ENTRY_DOMAIN.encode() + b"\x00" + lstr(session) + sha256(manifest_bytes)
    if not included(leaf_hash(entry), w["index"], size, [bytes.fromhex(x) for x in w["proof"]], root):
        raise Bad("the manifest is not in the witnessed checkpoint")
    return [name for name, public in witnesses if check_cosigned(body, sigs, name, public)]


def check_cosigned(body, sigs, name, public):
    """Whether `sigs` hold a valid cosignature/v1 of `body` by witness `name` with `public`."""
    for n, kid, sig in sigs:
        if n == name and kid == note_key_id(name, 4, public) and len(sig) == 72:
            t = int.from_bytes(sig[:8], "big")
            msg = ("cosignature/v1\ntime %d\n" % t).encode() + body.encode()
            if raw_ed25519_ok(public, msg, sig[8:]):
                return True
    return False


CUSTODY_EVENT = {
    "format": lambda v: v == "liveproof/custody/v1", "event": lambda v: isinstance(v, str),
    "session": lambda v: isinstance(v, str), "at": lambda v: isinstance(v, str),
    "by": lambda v: isinstance(v, str), "detail": lambda v: isinstance(v, str),
    "key": lambda v: isinstance(v, str), "new_key": lambda v: isinstance(v, str),
}


def check_custody(b, head, session):
    chain = strict(parse_json(b, "custody.json"), {"entries": lambda v: isinstance(v, list)}, "custody")
    if head is None:
        raise Bad("no tree head to check the custody chain against")
    events = []
    for e in chain["entries"]:
        strict(e, {"index": is_int, "event": lambda v: isinstance(v, str), "proof": proof_list}, "custody entry")
        ev = strict(parse_json(e["event"].encode(), "custody event"), CUSTODY_EVENT, "custody event",
                    optional=("key", "new_key"))
        if ev["session"] not in (session, ""):
            raise Bad("a custody event of another session")
        data = (CUSTODY_DOMAIN.encode() + b"\x00" + lstr(ev["session"]) + sha256(e["event"].encode()))
        if not included(leaf_hash(data), e["index"], head["size"], [bytes.fromhex(x) for x in e["proof"]],
                        bytes.fromhex(head["root"])):
            raise Bad("custody entry %d is not in the log" % e["index"])
        events.append(ev)
    return events


MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def tsa_time_utc(text):
    """OpenSSL's `Nov 26 12:00:00 2026 GMT` as `2026-11-26T12:00:00`."""
    p = text.split()
    if len(p) != 5 or p[4] != "GMT" or p[0] not in MONTHS:
        return None
    return "%s-%02d-%02dT%s" % (p[3], MONTHS.index(p[0]) + 1, int(p[1]), p[2].split(".")[0])


# --- §9 verification -------------------------------------------------------------------------

def signature_ok(sig_bytes, domain, key, message):
    sig = strict(parse_json(sig_bytes, "signature"), SIGNATURE, "signature")
    if sig["domain"] != domain or sig["public_key"] != key.hex():
        return False
    try:
        raw = bytes.fromhex(sig["signature"])
    except ValueError:
        return False
    return len(raw) == 64 and ed25519_ok(key, domain, message, raw)


class Checks:
    """The checks made so far, and the verdict they give."""

    def __init__(self):
        self.checks = []

    def add(self, name, ok, detail=""):
        self.checks.append({"name": name, "ok": bool(ok), "detail": detail})
        return ok

    def result(self, signer):
        checks = self.checks
        ok = bool(checks) and all(c["ok"] for c in checks)
        intact = bool(checks) and all(c["ok"] or c["name"] == "key.trusted" for c in checks)
        status = "verified" if ok else ("unknown_signer" if intact and signer else "not_verified")
        return {"ok": ok, "status": status, "signer": signer, "checks": checks,
                "failed": [c["name"] for c in checks if not c["ok"]]}


def key_of(text, trusted, add):
    """(key bytes, signer) from public_key.txt's text; adds key.trusted or public_key."""
    text = text.decode("utf-8", "replace").strip()
    if HEX64.match(text.lower()):
        key = bytes.fromhex(text)
        name = trusted.get(key)
        add("key.trusted", name is not None)
        return key, {"fingerprint": sha256(key).hex()[:16], "public_key": key.hex(),
                     "trusted": name is not None, "name": name}
    add("public_key", False, "public_key.txt is not a key")
    return bytes(32), None


def is_span(path):
    try:
        with open(path, "rb") as f:
            return any(d[0] == "span.json" for d in check_layout(f.read()))
    except (Bad, OSError, struct.error):
        return False


SPAN_PART = {"file": lambda v: isinstance(v, str), "sha256": is_hex,
             "session": lambda v: isinstance(v, str), "offset_ms": is_int, "from_ms": is_int,
             "to_ms": is_int}


def read_span(path, tmp):
    """span.json, span.sig and public_key.txt by name, and the stored parts extracted to tmp:
    {name: (path, sha256 hex)}."""
    with open(path, "rb") as f:
        declared = check_layout(f.read())
    for name, method, _, size in declared:
        if PART.match(name):
            if method != 0:
                raise Bad("member %s is compressed; the parts of a broadcast bundle are stored" % name)
            if size > MAX_RECORDING + MAX_CLIP:
                raise Bad("member %s is larger than %d bytes" % (name, MAX_RECORDING + MAX_CLIP))
        elif name in ("span.json", "span.sig", "public_key.txt"):
            if size > MAX_SMALL:
                raise Bad("member %s is larger than %d bytes" % (name, MAX_SMALL))
        else:
            raise Bad("member %r does not belong in a broadcast bundle" % name)
    z = zipfile.ZipFile(path)
    small, parts = {}, {}
    for name, _, _, size in declared:
        h, n = hashlib.sha256(), 0
        out = open(os.path.join(tmp, name), "wb") if PART.match(name) else None
        kept = []
        with z.open(name) as f:
            while n <= size:
                chunk = f.read(min(1 << 20, size + 1 - n))
                if not chunk:
                    break
                n += len(chunk)
                h.update(chunk)
                if out:
                    out.write(chunk)
                else:
                    kept.append(chunk)
        if out:
            out.close()
        if n != size:
            raise Bad("member %s does not inflate to its declared size" % name)
        if out:
            parts[name] = (os.path.join(tmp, name), h.hexdigest())
        else:
            small[name] = b"".join(kept)
    return small, parts


def verify_span(path, trusted, tsa_cert, witnesses, revoked):
    """A broadcast bundle (docs/evidence-format.md §9): the signed span.json, then every
    part-N.zip as a whole bundle (checks named part-N.*), then the timeline tying them."""
    c = Checks()
    add = c.add
    with tempfile.TemporaryDirectory() as tmp:
        try:
            small, parts = read_span(path, tmp)
        except (Bad, OSError, zipfile.BadZipFile, struct.error, zlib.error) as e:
            add("bundle.read", False, str(e))
            return c.result(None)
        add("bundle.read", True, "%d parts" % len(parts))
        key, signer = key_of(small.get("public_key.txt", b""), trusted, add)
        try:
            st = strict(parse_json(small.get("span.json", b""), "span.json"), {
                "format": lambda v: v == SPAN_FORMAT, "broadcast": lambda v: isinstance(v, str),
                "created_at": lambda v: isinstance(v, str), "from_ms": is_int, "to_ms": is_int,
                "parts": lambda v: isinstance(v, list) and all(
                    isinstance(x, dict) and strict(x, SPAN_PART, "part") for x in v),
            }, "span")
        except Bad as e:
            add("span.signature", False, str(e))
            return c.result(signer)
        add("span.signature", signature_ok(small.get("span.sig", b""), SPAN_DOMAIN, key, small["span.json"]))
        listed = [p["file"] for p in st["parts"]]
        add("span.members", bool(listed)
            and listed == ["part-%d.zip" % (i + 1) for i in range(len(listed))]
            and set(listed) == set(parts)
            and all(parts[p["file"]][1] == p["sha256"] for p in st["parts"]))
        reads = []
        for p in st["parts"]:
            prefix = p["file"][:-len(".zip")]
            if p["file"] not in parts:
                reads.append(None)
                continue
            part_path = parts[p["file"]][0]
            v = verify(part_path, trusted, tsa_cert, witnesses, revoked, allow_span=False)
            for k in v["checks"]:
                if k["name"] != "key.trusted":
                    add(prefix + "." + k["name"], k["ok"], k["detail"])
            add(prefix + ".key", v["signer"] is not None and v["signer"]["public_key"] == key.hex())
            try:
                pm, _ = read_members(part_path)
                pst = parse_json(pm["statement.json"], "statement.json")
                man = parse_json(pm["manifest.json"], "manifest.json")
                add(prefix + ".range", pst["session"] == p["session"] == man["session"]
                    and (pst["from_ms"], pst["to_ms"]) == (p["from_ms"], p["to_ms"]))
                md = man.get("metadata") or {}
                reads.append((man["duration_ms"], md.get("platform"), md.get("room")))
            except (Bad, KeyError, TypeError, OSError, zipfile.BadZipFile, struct.error, zlib.error):
                add(prefix + ".range", False, "the part cannot be read")
                reads.append(None)
        add("span.timeline", span_timeline_ok(st, reads))
        got = [r for r in reads if r is not None]
        add("span.room", bool(got) and all(r[1:] == got[0][1:] for r in got))
    return c.result(signer)


def span_timeline_ok(st, reads):
    """Parts in time order, not overlapping by more than a second, each quoting exactly what
    the broadcast range cuts from its segment; no session twice."""
    if st["to_ms"] <= st["from_ms"] or len({p["session"] for p in st["parts"]}) != len(st["parts"]):
        return False
    prev_end = None
    for p, r in zip(st["parts"], reads):
        if r is None or not is_int(r[0]):
            return False
        o, end = p["offset_ms"], p["offset_ms"] + r[0]
        if prev_end is not None and o + 1000 < prev_end:
            return False
        prev_end = end
        if o >= st["to_ms"] or end <= st["from_ms"]:
            return False
        if (p["from_ms"], p["to_ms"]) != (max(st["from_ms"], o) - o, min(st["to_ms"], end) - o):
            return False
    return True


# --- §12 tombstones ---------------------------------------------------------------------------

def is_tombstone(path):
    try:
        with open(path, "rb") as f:
            return f.read(64).lstrip().startswith(b"{")
    except OSError:
        return False


TOMBSTONE = {"format": lambda v: v == "liveproof/tombstone/v1", "session": lambda v: isinstance(v, str),
             "recording_sha256": is_hex, "manifest_sha256": is_hex, "reason": lambda v: isinstance(v, str),
             "archived": lambda v: isinstance(v, dict), "deletion": lambda v: isinstance(v, dict)}


def verify_tombstone(path, trusted):
    """A deleted session's tombstone: both log entries (manifest, deletion) under one signed head."""
    c = Checks()
    add, result = c.add, c.result
    try:
        with open(path, "rb") as f:
            raw = f.read((1 << 20) + 1)
        if len(raw) > 1 << 20:
            raise Bad("larger than a tombstone can be")
        t = strict(parse_json(raw, "tombstone"), TOMBSTONE, "tombstone")
        inc = strict(t["archived"], LOG, "archived")
        dl = strict(t["deletion"], {"index": is_int, "event": lambda v: isinstance(v, str), "proof": proof_list},
                    "deletion")
    except (Bad, OSError, ValueError) as e:
        add("tombstone.read", False, str(e))
        return result(None)
    add("tombstone.read", True)
    head = inc["tree_head"]
    key = bytes.fromhex(head["public_key"])
    name = trusted.get(key)
    add("key.trusted", name is not None)
    signer = {"fingerprint": sha256(key).hex()[:16], "public_key": key.hex(), "trusted": name is not None,
              "name": name}
    sig = bytes.fromhex(head["signature"]) if is_hex(head["signature"]) or HEX128.match(head["signature"]) else b""
    add("tombstone.head", len(sig) == 64 and ed25519_ok(key, TREE_HEAD_DOMAIN, tree_head_message(head), sig))
    root, size = bytes.fromhex(head["root"]), head["size"]
    entry = LOG_ENTRY_DOMAIN.encode() + b"\x00" + lstr(t["session"]) + bytes.fromhex(t["manifest_sha256"])
    add("tombstone.archived", inc["session"] == t["session"] and inc["manifest_sha256"] == t["manifest_sha256"]
        and included(leaf_hash(entry), inc["index"], size, [bytes.fromhex(x) for x in inc["proof"]], root))
    try:
        ev = strict(parse_json(dl["event"].encode(), "deletion event"), CUSTODY_EVENT, "deletion event",
                    optional=("key", "new_key"))
        detail = ("deleted the original recording %s, its transcript and derived files (manifest %s): %s"
                  % (t["recording_sha256"], t["manifest_sha256"], t["reason"]))
        data = CUSTODY_DOMAIN.encode() + b"\x00" + lstr(ev["session"]) + sha256(dl["event"].encode())
        ok = (ev["event"] == "deleted" and ev["session"] == t["session"] and ev["detail"] == detail
              and dl["index"] > inc["index"]
              and included(leaf_hash(data), dl["index"], size, [bytes.fromhex(x) for x in dl["proof"]], root))
        add("tombstone.deletion", ok)
    except (Bad, ValueError) as e:
        add("tombstone.deletion", False, str(e))
    return result(signer)


def verify(path, trusted, tsa_cert=None, witnesses=(), revoked=None, allow_span=True):
    revoked = revoked or {}
    if allow_span and is_tombstone(path):
        return verify_tombstone(path, trusted)
    if allow_span and is_span(path):
        return verify_span(path, trusted, tsa_cert, witnesses, revoked)
    c = Checks()
    add, result = c.add, c.result

    try:
        m, hashes = read_members(path)
    except (Bad, OSError, zipfile.BadZipFile, struct.error, zlib.error) as e:
        add("bundle.read", False, str(e))
        return result(None)
    add("bundle.read", True, "%d members" % len(hashes))

    # Step 2: the key and whose it is.
    key, signer = key_of(m.get("public_key.txt", b""), trusted, add)

    # Step 3: the statement, strictly, signed over its exact bytes.
    if "bundle.json" in m or "statement.json" not in m:
        add("bundle.signature", False, "no v2 statement")
        return result(signer)
    try:
        st = strict(parse_json(m["statement.json"], "statement.json"), STATEMENT, "statement")
        signed = signature_ok(m.get("statement.sig", b""), STATEMENT_DOMAIN, key, m["statement.json"])
    except Bad as e:
        add("bundle.signature", False, str(e))
        return result(signer)
    add("bundle.signature", signed)

    # Step 4: every member listed, with its hash.
    listed = {r["file"]: r["sha256"] for r in st["members"]}
    if st["clip"] is not None:
        listed.setdefault(st["clip"]["file"], st["clip"]["sha256"])
    for name in sorted(hashes):
        if name in ("statement.json", "statement.sig"):
            continue
        add("member " + name, listed.get(name) == hashes[name])
    for name in listed:
        if name not in hashes:
            add("member " + name, False, "missing")

    # Step 5: the manifest.
    manifest_bytes = m.get("manifest.json", b"")
    try:
        manifest = parse_json(manifest_bytes, "manifest.json")
        if not isinstance(manifest, dict):
            raise Bad("manifest.json is not an object")
        msig = signature_ok(m.get("manifest.sig", b""), MANIFEST_DOMAIN, key, manifest_bytes)
        text = lambda v: isinstance(v, str)
        for k, ok in (("session", text), ("transcript_root", text), ("recording_sha256", text),
                      ("recording_size", is_int), ("segment_count", is_int),
                      ("duration_ms", is_int), ("model", text), ("ingested_at", text)):
            if not ok(manifest.get(k)):
                raise Bad("manifest.%s is missing or invalid" % k)
        if not is_int(manifest.get("gap_count", 0)):
            raise Bad("manifest.gap_count is invalid")
    except Bad as e:
        add("manifest.signature", False, str(e))
        return result(signer)
    add("manifest.signature", msig)

    # Steps 6-9: the excerpt.
    try:
        ex = strict(parse_json(m.get("excerpt.json", b"null"), "excerpt.json"), EXCERPT, "excerpt",
                    optional=("gap_count", "gaps"))
    except Bad as e:
        add("excerpt.segments", False, str(e))
        return result(signer)
    session = manifest["session"]
    add("excerpt.session", ex["session"] == session and st["session"] == session
        and ex["transcript_root"] == manifest["transcript_root"] == st["transcript_root"])
    # A root that is not a hash proves nothing: no proof reaches it.
    root = bytes.fromhex(manifest["transcript_root"]) if is_hex(manifest["transcript_root"]) else bytes(32)
    gap_count = ex.get("gap_count", 0)
    size = ex["segment_count"] + gap_count
    proofs_ok = bool(ex["segments"])
    for s in ex["segments"]:
        p = [bytes.fromhex(x) for x in s["proof"]]
        proofs_ok &= included(segment_leaf(session, s), s["index"], size, p, root)
    for g in ex.get("gaps", []):
        p = [bytes.fromhex(x) for x in g["proof"]]
        proofs_ok &= g["index"] < gap_count and included(
            gap_leaf(session, g), ex["segment_count"] + g["index"], size, p, root)
    proofs_ok &= ex["segment_count"] == manifest["segment_count"] \
        and gap_count == manifest.get("gap_count", 0)
    add("excerpt.proofs", proofs_ok)
    indices = [s["index"] for s in ex["segments"]]
    add("excerpt.complete", indices == list(range(st["first_index"], st["last_index"] + 1)))
    clip = st["clip"]
    if clip is not None and ex["segments"]:
        first, last = ex["segments"][0], ex["segments"][-1]
        end = min(last["end_ms"], manifest["duration_ms"])
        add("clip.range", clip["from_ms"] <= first["start_ms"] and clip["to_ms"] >= end
            and clip["from_ms"] < clip["to_ms"])

    # Step 9b: the live comments of the range.
    if "comments.json" in m:
        try:
            check_comments(m["comments.json"], manifest, st)
            add("comments", True)
        except (Bad, ValueError) as e:
            add("comments", False, str(e))

    # Step 10: the log.
    try:
        inc = strict(parse_json(m.get("log.json", b"null"), "log.json"), LOG, "log")
        head = inc["tree_head"]
        entry = (LOG_ENTRY_DOMAIN.encode() + b"\x00" + lstr(inc["session"])
                 + bytes.fromhex(inc["manifest_sha256"]))
        head_sig = bytes.fromhex(head["signature"])
        ok = (inc["manifest_sha256"] == sha256(manifest_bytes).hex()
              and inc["session"] == session and head["public_key"] == key.hex()
              and len(head_sig) == 64
              and ed25519_ok(key, TREE_HEAD_DOMAIN, tree_head_message(head), head_sig)
              and included(leaf_hash(entry), inc["index"], head["size"],
                           [bytes.fromhex(x) for x in inc["proof"]], bytes.fromhex(head["root"])))
        add("log.inclusion", ok)
    except (Bad, ValueError) as e:
        add("log.inclusion", False, str(e))
        inc = None

    # Step 10b: witnesses.
    if "witnessed.json" in m:
        try:
            names = check_witnessed(m["witnessed.json"], key, session, manifest_bytes, witnesses)
            add("log.witnessed", not witnesses or bool(names), ", ".join(names))
        except (Bad, ValueError) as e:
            add("log.witnessed", False, str(e))
    elif witnesses:
        add("log.witnessed", False, "no cosigned checkpoint in the bundle")

    # Step 10c: the chain of custody.
    if "custody.json" in m:
        try:
            check_custody(m["custody.json"], inc["tree_head"] if inc else None, session)
            add("custody", True)
        except (Bad, ValueError) as e:
            add("custody", False, str(e))

    # Step 11: the timestamps: the tree head's, and the recording's.
    head_time = None
    if "timestamp.tsr" in m:
        digest = sha256(dm(TREE_HEAD_DOMAIN, tree_head_message(inc["tree_head"]))) if inc else None
        ok = digest is not None and timestamp_ok(m, m["timestamp.tsr"], digest, tsa_cert)
        add("timestamp", ok)
        if ok:
            head_time = token_time(m["timestamp.tsr"])
    elif tsa_cert is not None:
        add("timestamp", False, "a TSA certificate was given but the bundle has no token")
    if "recording-timestamp.tsr" in m:
        digest = bytes.fromhex(manifest["recording_sha256"]) if is_hex(manifest["recording_sha256"]) else None
        add("timestamp.recording", digest is not None
            and timestamp_ok(m, m["recording-timestamp.tsr"], digest, tsa_cert))

    # Step 12: the recording inside.
    for name in sorted(hashes):
        if name.startswith("recording."):
            add("recording.included", hashes[name] == manifest["recording_sha256"])
    # A revoked key counts only for what a trusted time shows existed before.
    if key in revoked:
        t = tsa_time_utc(head_time) if head_time else None
        add("key.revoked", t is not None and t < revoked[key][:19])
    return result(signer)


def token_time(token):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "t.tsr")
        with open(p, "wb") as f:
            f.write(token)
        r = subprocess.run(["openssl", "ts", "-reply", "-text", "-in", p], capture_output=True, text=True)
        for line in r.stdout.splitlines():
            if line.startswith("Time stamp: "):
                return line[len("Time stamp: "):].strip()
    return None


def timestamp_ok(m, token, digest, tsa_cert):
    """RFC 3161: the token's imprint is `digest`, and its signer chains to the certificate the
    user trusts (any certificate of the chain), or else to the bundle's tsa.pem."""
    with tempfile.TemporaryDirectory() as d:
        tsr = os.path.join(d, "t.tsr")
        with open(tsr, "wb") as f:
            f.write(token)
        carried = None
        if "tsa.pem" in m:
            carried = os.path.join(d, "tsa.pem")
            with open(carried, "wb") as f:
                f.write(m["tsa.pem"])
        cmd = ["openssl", "ts", "-verify", "-partial_chain", "-in", tsr, "-digest", digest.hex()]
        if tsa_cert is not None:
            cmd += ["-CAfile", tsa_cert] + (["-untrusted", carried] if carried else [])
        elif carried is not None:
            cmd += ["-CAfile", carried]
        else:
            return False
        r = subprocess.run(cmd, capture_output=True, text=True)
        return r.returncode == 0 and "Verification: OK" in r.stdout + r.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundle")
    ap.add_argument("--key", action="append", default=[], help="a trusted key (hex, ed25519: prefix allowed)")
    ap.add_argument("--trust", help="a file of trusted keys, `KEY NAME` per line")
    ap.add_argument("--tsa-cert", help="the TSA certificate (chain) you trust, PEM")
    ap.add_argument("--witness", action="append", default=[], help="a trusted witness vkey (NAME+KEYID+BASE64)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    trusted = {}
    for k in a.key:
        trusted[bytes.fromhex(k.strip().removeprefix("ed25519:"))] = "the key you gave"
    revoked = {}
    if a.trust:
        for line in open(a.trust, encoding="utf-8"):
            line = line.strip()
            if line.startswith("revoked "):
                parts = line.split(None, 3)
                revoked[bytes.fromhex(parts[1].removeprefix("ed25519:"))] = parts[2]
            elif line and not line.startswith("#"):
                k, name = line.split(None, 1)
                trusted[bytes.fromhex(k.removeprefix("ed25519:"))] = name.strip()
    v = verify(a.bundle, trusted, a.tsa_cert, [vkey(w) for w in a.witness], revoked)
    if a.json:
        print(json.dumps(v, ensure_ascii=False, indent=2))
    else:
        for c in v["checks"]:
            print("PASS" if c["ok"] else "FAIL", c["name"], c["detail"])
        print(v["status"].upper().replace("_", " "))
    sys.exit({"verified": 0, "unknown_signer": 6}.get(v["status"], 5))


if __name__ == "__main__":
    main()
