"""The lab segment's fabric and its MTU, end to end (pure).

Every NIC on the lab segment (the Talos VMs, both containers' lab interfaces, the router's LAN side)
gets the lab MTU, and the router hands it out by DHCP, so no guest sends a frame the fabric drops:
a VXLAN device silently drops what is larger than its MTU once encapsulated, it does not fragment.
"""

from __future__ import annotations

from config.models import ETHERNET_MTU, NetworkConfig

# Outer Ethernet (14) + IPv4 (20) + UDP (8) + VXLAN (8) headers, RFC 7348 §5; Proxmox's SDN docs
# ("VXLAN Zone": MTU) give the same 50 bytes. A VLAN tag rides in the 802.1Q header, outside the MTU.
VXLAN_OVERHEAD = 50


def lab_mtu(network: NetworkConfig) -> int:
    """The largest IP packet a guest may send on the lab segment."""
    overhead = VXLAN_OVERHEAD if network.fabric == "vxlan" else 0
    return network.underlay_mtu - overhead


def explicit_mtu(network: NetworkConfig) -> int | None:
    """The MTU to set on NICs, in Talos and in DHCP; None where it is Ethernet's default (nothing to set)."""
    mtu = lab_mtu(network)
    return None if mtu == ETHERNET_MTU else mtu
