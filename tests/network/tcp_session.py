"""`python tcp_session.py HOST PORT`: open a TCP session, then use it when told to.

Prints `connected` once the handshake is done, waits for a line on stdin, sends an
HTTP request on the same connection and prints `reply <status line>` or `error <reason>`.
"""

from __future__ import annotations

import socket
import sys

TIMEOUT = 3


def main(host: str, port: int) -> None:
    with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
        print("connected", flush=True)
        sys.stdin.readline()
        try:
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
            data = sock.recv(200)
        except OSError as error:
            print(f"error {error!r}", flush=True)
            return
        status = data.split(b"\r\n")[0].decode(errors="replace")
        print(f"reply {status}" if data else "error closed", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
