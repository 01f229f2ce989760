#!/usr/bin/env python3
"""Checks lpverify's encodings against the published vectors (tests/vectors/seal.json).

    python3 check_vectors.py PATH/TO/seal.json      (prints "ok", exits 1 on a mismatch)
"""

import json
import sys

import lpverify as lp


def main():
    v = json.load(open(sys.argv[1], encoding="utf-8"))
    leaves = [bytes.fromhex(h) for h in v["leaf_hashes"]]
    for i, h in enumerate(leaves):
        assert lp.leaf_hash(("leaf %d" % i).encode()) == h, "leaf %d" % i
    for c in v["inclusion"]:
        proof = [bytes.fromhex(p) for p in c["proof"]]
        root = bytes.fromhex(next(r["root"] for r in v["roots"] if r["size"] == c["size"]))
        assert lp.included(leaves[c["index"]], c["index"], c["size"], proof, root), c
    s = v["segment"]
    assert lp.segment_leaf(s["session"], s).hex() == s["leaf_hash"], "segment"
    g = v["gap"]
    assert lp.gap_leaf(g["session"], g).hex() == g["leaf_hash"], "gap"
    e = v["log_entry"]
    assert lp.sha256(e["manifest"].encode()).hex() == e["manifest_sha256"]
    enc = (lp.LOG_ENTRY_DOMAIN.encode() + b"\x00" + lp.lstr(e["session"])
           + bytes.fromhex(e["manifest_sha256"]))
    assert enc.hex() == e["encoding"] and lp.leaf_hash(enc).hex() == e["leaf_hash"], "log entry"
    t = v["tree_head"]
    head = t["head"]
    msg = lp.tree_head_message(head)
    assert msg.hex() == t["message"], "tree head message"
    assert lp.ed25519_ok(bytes.fromhex(head["public_key"]), lp.TREE_HEAD_DOMAIN, msg,
                         bytes.fromhex(head["signature"])), "tree head signature"
    assert lp.sha256(lp.dm(lp.TREE_HEAD_DOMAIN, msg)).hex() == t["timestamped_digest"]
    st = v["statement"]
    sig = st["statement_sig"]
    assert lp.signature_ok(json.dumps(sig).encode(), lp.STATEMENT_DOMAIN,
                           bytes.fromhex(sig["public_key"]), st["file"].encode()), "statement"
    c = v["custody_entry"]
    enc = (lp.CUSTODY_DOMAIN.encode() + b"\x00" + lp.lstr(c["session"]) + lp.sha256(c["event"].encode()))
    assert enc.hex() == c["encoding"] and lp.leaf_hash(enc).hex() == c["leaf_hash"], "custody entry"
    cp = v["checkpoint"]
    body, origin, size, root, sigs = lp.parse_note(cp["note"])
    log_key = bytes.fromhex(v["tree_head"]["head"]["public_key"])
    assert origin == "liveproof/" + lp.sha256(log_key).hex()[:16], "origin"
    assert any(n == origin and kid == lp.note_key_id(origin, 1, log_key)
               and lp.raw_ed25519_ok(log_key, body.encode(), sig) for n, kid, sig in sigs), "note signature"
    wname, wkey = lp.vkey(cp["witness_vkey"])
    assert lp.check_cosigned(body, sigs, wname, wkey), "cosignature"
    m = v["signature"]
    assert lp.ed25519_ok(bytes.fromhex(m["public_key"]), m["domain"], m["message"].encode(),
                         bytes.fromhex(m["signature"])), "manifest signature"
    print("ok")


if __name__ == "__main__":
    main()
