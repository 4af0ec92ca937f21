#!/usr/bin/env python3
"""A minimal iSCSI discovery target that insists on CHAP, for tests of the discovery client's CHAP
(tgtd never asks for CHAP on discovery sessions). Independent of the client: Python's hashlib does the
CHAP arithmetic. One connection at a time.
usage: chap-target.py PORT USER SECRET [MUTUAL_USER MUTUAL_SECRET] [--algs 7,5] [--bad-mutual]
  --bad-mutual  answer the mutual challenge with a wrong response
"""
import hashlib, os, socket, struct, sys

args = [a for a in sys.argv[1:] if not a.startswith("--")]
flags = [a for a in sys.argv[1:] if a.startswith("--")]
port, user, secret = int(args[0]), args[1], args[2]
muser, msecret = (args[3], args[4]) if len(args) >= 5 else (None, None)
algs = [5]
for i, a in enumerate(sys.argv):
    if a == "--algs":
        algs = [int(x) for x in sys.argv[i + 1].split(",")]
flags = [f for f in flags if f != "--algs"]
HASH = {5: hashlib.md5, 6: hashlib.sha1, 7: hashlib.sha256}

def chap(alg, ident, sec, chal):
    return HASH[alg](bytes([ident]) + sec.encode() + chal).digest()

def recv_pdu(c):
    hdr = b""
    while len(hdr) < 48:
        d = c.recv(48 - len(hdr))
        if not d:
            return None, None
        hdr += d
    dlen = int.from_bytes(hdr[5:8], "big") + hdr[4] * 4
    total = dlen + (-dlen % 4)
    data = b""
    while len(data) < total:
        d = c.recv(total - len(data))
        if not d:
            return None, None
        data += d
    return hdr, data[: int.from_bytes(hdr[5:8], "big")]

def keys(data):
    return dict(kv.split("=", 1) for kv in data.decode().split("\0") if kv)

def send(c, op, flags, hdr, pairs, status=(0, 0), statsn=1, b20=0):
    data = "".join(f"{k}={v}\0" for k, v in pairs).encode()
    bhs = bytearray(48)
    bhs[0] = op
    bhs[1] = flags
    bhs[5:8] = len(data).to_bytes(3, "big")
    bhs[8:16] = hdr[8:16]
    bhs[16:20] = hdr[16:20]
    struct.pack_into(">III", bhs, 20, b20, statsn, 1)
    struct.pack_into(">I", bhs, 32, 2)
    bhs[36], bhs[37] = status
    c.sendall(bytes(bhs) + data + b"\0" * (-len(data) % 4))

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(4)
print("ready", flush=True)
while True:
    c, _ = srv.accept()
    state, alg, ident, chal = "start", None, None, None
    while True:
        hdr, data = recv_pdu(c)
        if hdr is None:
            break
        op = hdr[0] & 0x3F
        k = keys(data)
        if op == 0x03:
            if state == "start":
                if "CHAP" not in k.get("AuthMethod", ""):
                    send(c, 0x23, 0, hdr, [], status=(2, 1)); break
                send(c, 0x23, 0x00, hdr, [("AuthMethod", "CHAP")]); state = "method"
            elif state == "method":
                offered = [int(x) for x in k.get("CHAP_A", "").split(",") if x]
                pick = next((a for a in offered if a in algs), None)
                if pick is None:
                    send(c, 0x23, 0, hdr, [], status=(2, 1)); break
                alg, ident, chal = pick, os.urandom(1)[0], os.urandom(16)
                send(c, 0x23, 0x00, hdr, [("CHAP_A", str(alg)), ("CHAP_I", str(ident)), ("CHAP_C", "0x" + chal.hex())]); state = "challenge"
            elif state == "challenge":
                r = bytes.fromhex(k.get("CHAP_R", "0x")[2:])
                if k.get("CHAP_N") != user or r != chap(alg, ident, secret, chal):
                    send(c, 0x23, 0, hdr, [], status=(2, 1)); break
                out = []
                if muser is not None and "CHAP_C" in k:
                    mchal = bytes.fromhex(k["CHAP_C"][2:]); mid = int(k["CHAP_I"])
                    resp = chap(alg, mid, msecret, mchal)
                    if "--bad-mutual" in flags:
                        resp = bytes(len(resp))
                    out = [("CHAP_N", muser), ("CHAP_R", "0x" + resp.hex())]
                elif muser is not None:
                    send(c, 0x23, 0, hdr, [], status=(2, 1)); break
                send(c, 0x23, 0x80 | (0 << 2) | 1, hdr, out); state = "op"
            else:
                send(c, 0x23, 0x80 | (1 << 2) | 3, hdr, [("HeaderDigest", "None"), ("DataDigest", "None")]); state = "ffp"
        elif op == 0x04:
            send(c, 0x24, 0x80, hdr, [("TargetName", "iqn.2026-11.org.openiscsi:chap-only"), ("TargetAddress", f"127.0.0.1:{port},7")], b20=0xFFFFFFFF)
        elif op == 0x06:
            send(c, 0x26, 0x80, hdr, []); break
    c.close()
