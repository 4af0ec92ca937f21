#!/usr/bin/env python3
"""Captures the LOGIN request an iscsiadm sends, standing in for iscsid on its abstract socket.
usage: capture-login.py OUTFILE   (run inside a private network namespace: the name is per namespace)

Each connection's request is read until the client has sent nothing for 0.5 s (iscsiadm writes the whole
request, then waits for the answer), whatever its length, so the capture is the release's own size. The first
MGMT_IPC_SESSION_LOGIN (command 1) is written to OUTFILE byte for byte; every request is answered with
err 4 (ISCSI_ERR_TRANS: the login failed), so iscsiadm gives up without retrying. Prints "ready" once
listening and "captured <bytes>" when done, then exits.
"""
import socket, struct, sys

RSP = 2464
out = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind("\0ISCSIADM_ABSTRACT_NAMESPACE")
srv.listen(8)
srv.settimeout(60)
print("ready", flush=True)
while True:
    c, _ = srv.accept()
    data = b""
    c.settimeout(5)
    try:
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
            c.settimeout(0.5)
    except socket.timeout:
        pass
    cmd = struct.unpack_from("<I", data, 0)[0] if len(data) >= 4 else 0
    rsp = bytearray(RSP)
    struct.pack_into("<Ii", rsp, 0, cmd, 4)
    try:
        c.sendall(bytes(rsp))
    except OSError:
        pass
    c.close()
    if cmd == 1:
        with open(out, "wb") as f:
            f.write(data)
        print("captured", len(data), flush=True)
        break
