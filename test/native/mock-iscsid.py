#!/usr/bin/env python3
"""A stand-in iscsid for tests, on the real abstract socket name inside a private network namespace.
usage: mock-iscsid.py MODE [ARG]   (one connection per request, like iscsid)
  ok            answer err=0, echo the command; CONFIG_* commands get a string in `var`
  err N         answer err=N
  silent        read the request, never answer (until killed)
  close-early   read the request, send 100 bytes, close
  dribble       answer correctly, 7 bytes at a time with small pauses (short reads)
  wrong-cmd     answer err=0 with a different command number
  stats         SESSION_STATS answer with counters and two custom entries
  watch         read the request, never answer, and log "closed <ms>" when the client hangs up
  backlog-full  listen with a queue of one connection, fill it, and never accept (a stuck iscsid)
  by-sid        each connection on its own thread, behaving by sid % 5: ok, err 15, watch, close-early, stats
Each request is logged to stdout as: <bytes received> <command> <sid> (a connection that carried nothing: 0 0 0)
"""
import socket, struct, sys, threading, time

RSP = 2464
mode = sys.argv[1]
arg = sys.argv[2] if len(sys.argv) > 2 else None

srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind("\0ISCSIADM_ABSTRACT_NAMESPACE")  # addrlen 30, as iscsid binds it
if mode == "backlog-full":
    srv.listen(0)  # the kernel queues one connection beyond the backlog
    filler = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    filler.connect("\0ISCSIADM_ABSTRACT_NAMESPACE")
    print("ready", flush=True)
    time.sleep(3600)
srv.listen(32)
print("ready", flush=True)

def read_request(c):
    data = b""
    c.settimeout(5)
    try:
        while len(data) < 16104:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    return data

def handle(c, mode, arg):
    req = read_request(c)
    cmd, = struct.unpack_from("<I", req, 0) if len(req) >= 4 else (0,)
    sid, = struct.unpack_from("<i", req, 8) if len(req) >= 12 else (0,)
    if mode == "by-sid":
        mode, arg = BY_SID[sid % len(BY_SID)]
    print(len(req), cmd, sid, flush=True)
    if not req:
        c.close()  # a client that only looked at who listens (SO_PEERCRED) and hung up, as iscsid closes it
        return
    rsp = bytearray(RSP)
    struct.pack_into("<Ii", rsp, 0, cmd, 0)
    if mode in ("ok", "dribble"):
        if cmd in (8, 9, 10):
            struct.pack_into("64s", rsp, 8, {8: b"iqn.2026-11.org.openiscsi:mock", 9: b"mockhost", 10: b"/etc/iscsi/iscsid.conf"}[cmd])
        if cmd == 13:
            struct.pack_into("<ii", rsp, 8, 0, 3)
    elif mode == "err":
        struct.pack_into("<Ii", rsp, 0, 0 if int(arg) == 13 else cmd, int(arg))
    elif mode == "wrong-cmd":
        struct.pack_into("<I", rsp, 0, cmd + 1)
    elif mode == "stats":
        struct.pack_into("<QQ", rsp, 64, 123456789012, 987654321)
        struct.pack_into("<I", rsp, 64 + 16 + 4 * 3, 2)          # login_pdus
        struct.pack_into("<I", rsp, 64 + 92, 2)                   # custom_length
        struct.pack_into("64sQ", rsp, 160, b"tx_sendpage_failures", 4)
        struct.pack_into("64sQ", rsp, 160 + 72, b"eh_abort_cnt", 9)
    if mode == "silent":
        time.sleep(3600)
    elif mode == "watch":
        t0 = time.monotonic()
        c.settimeout(None)
        while c.recv(4096):
            pass
        print("closed", int((time.monotonic() - t0) * 1000), flush=True)
    elif mode == "close-early":
        c.sendall(bytes(rsp[:100]))
    elif mode == "dribble":
        for i in range(0, RSP, 7):
            c.sendall(bytes(rsp[i:i + 7]))
            if i % 700 == 0:
                time.sleep(0.01)
    else:
        c.sendall(bytes(rsp))
    c.close()

# by-sid: one mock for many behaviours, chosen by the request's sid modulo 5, each connection on its own thread
BY_SID = [("ok", None), ("err", "15"), ("watch", None), ("close-early", None), ("stats", None)]

while True:
    c, _ = srv.accept()
    if mode == "by-sid":
        threading.Thread(target=handle, args=(c, mode, arg), daemon=True).start()
    else:
        handle(c, mode, arg)
