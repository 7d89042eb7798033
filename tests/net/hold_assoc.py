#!/usr/bin/env python3
"""Open a DICOM association (Verification) and then say nothing.

    hold_assoc.py PORT CALLING_AET

Prints "accepted" or "rejected" when the listener answers, then waits (up
to 60 s) until the listener closes the connection and prints the seconds
that took: the idle timeout at work. Exit 0 when the connection was
closed by the listener, 1 otherwise."""
import socket
import struct
import sys
import time


def item(kind, uid):
    return struct.pack(">BBH", kind, 0, len(uid)) + uid.encode()


def associate_rq(calling):
    pc = struct.pack(">BBBB", 1, 0, 0, 0) + item(0x30, "1.2.840.10008.1.1") \
        + item(0x40, "1.2.840.10008.1.2")
    ui = struct.pack(">BBHI", 0x51, 0, 4, 16384) + item(0x52, "1.2.3.4")
    body = struct.pack(">HH", 1, 0) + b"SPINEPIPE".ljust(16) \
        + calling.encode().ljust(16) + bytes(32) \
        + item(0x10, "1.2.840.10008.3.1.1.1") \
        + struct.pack(">BBH", 0x20, 0, len(pc)) + pc \
        + struct.pack(">BBH", 0x50, 0, len(ui)) + ui
    return struct.pack(">BBI", 1, 0, len(body)) + body


def main():
    port, calling = int(sys.argv[1]), sys.argv[2]
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(associate_rq(calling))
    first = s.recv(1)
    print("accepted" if first == b"\x02" else "rejected", flush=True)
    start = time.monotonic()
    try:
        while s.recv(4096):
            pass
    except socket.timeout:
        return 1
    except ConnectionResetError:
        pass
    print("%.1f" % (time.monotonic() - start), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
