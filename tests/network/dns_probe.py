"""A one-question DNS client: `python dns_probe.py SERVER NAME [TIMEOUT]` prints the A records.

Exit 0 with one address per line, or 1 with the reason (timeout, refused, no answer). The
test hosts have no dig/host, and a namespace's resolver would be the host's resolv.conf.
"""

from __future__ import annotations

import random
import socket
import struct
import sys


def query(name: str) -> tuple[int, bytes]:
    ident = random.randrange(1 << 16)
    labels = b"".join(bytes([len(label)]) + label.encode() for label in name.rstrip(".").split("."))
    return ident, struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + labels + b"\0" + struct.pack("!HH", 1, 1)


def _skip_name(message: bytes, offset: int) -> int:
    while message[offset] != 0:
        if message[offset] & 0xC0 == 0xC0:
            return offset + 2
        offset += message[offset] + 1
    return offset + 1


def a_records(message: bytes, ident: int) -> list[str]:
    got_ident, _flags, questions, answers, _, _ = struct.unpack("!HHHHHH", message[:12])
    if got_ident != ident:
        raise ValueError("reply to another question")
    offset = 12
    for _ in range(questions):
        offset = _skip_name(message, offset) + 4
    records: list[str] = []
    for _ in range(answers):
        offset = _skip_name(message, offset)
        kind, _cls, _ttl, length = struct.unpack("!HHIH", message[offset : offset + 10])
        offset += 10
        if kind == 1 and length == 4:
            records.append(socket.inet_ntoa(message[offset : offset + 4]))
        offset += length
    return records


def main(server: str, name: str, timeout: float) -> int:
    ident, packet = query(name)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(packet, (server, 53))
            reply, _ = sock.recvfrom(4096)
        except OSError as error:  # timeout, or ICMP port unreachable as ConnectionRefusedError
            print(f"no reply from {server}: {error!r}")
            return 1
    records = a_records(reply, ident)
    print("\n".join(records) if records else f"no A record for {name}")
    return 0 if records else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 2.0))
