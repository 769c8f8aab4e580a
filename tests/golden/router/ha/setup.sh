#!/usr/bin/env bash
# Configures the homelab router: Debian 12 LXC, run as root (rendered by homelab; do not edit).
# Idempotent: a file is replaced only when its content differs; a second run changes nothing.
set -euo pipefail

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT

# Proxmox configures the interfaces; refuse to set up a router that is wired differently.
require_address() {
  if [[ $(ip -4 -o addr show dev "$1") != *" $2 "* ]]; then
    echo "homelab: $1 does not have the address $2; check the container's network settings" >&2
    exit 1
  fi
}

ensure_packages() {
  local package missing=()
  for package in "$@"; do
    # shellcheck disable=SC2016 # a dpkg-query format, not a shell expansion
    if [[ $(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null) != installed ]]; then
      missing+=("$package")
    fi
  done
  if ((${#missing[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

# put SOURCE DEST MODE: install SOURCE as DEST unless DEST already has that content.
put() {
  if ! cmp -s "$1" "$2"; then
    install -D -m "$3" "$1" "$2"
    echo "homelab: updated $2"
  fi
}

require_address eth0 172.16.5.20/24
require_address eth1 10.77.0.1/24
ensure_packages dnsmasq nftables

# The files, staged and validated before anything is activated.
cat >"$staging/dnsmasq.conf" <<'HOMELAB_EOF'
# dnsmasq of the homelab router: DHCP and DNS for the lab on eth1 only (rendered by homelab; do not edit).
interface=eth1
bind-dynamic

# DNS: forward to the configured upstreams, never to what /etc/resolv.conf says.
no-resolv
no-hosts
server=9.9.9.9
domain-needed
bogus-priv
host-record=router,10.77.0.1

# DHCP: only the reserved addresses below, unless a dynamic range is configured.
dhcp-authoritative
dhcp-leasefile=/var/lib/misc/dnsmasq.leases
dhcp-range=10.77.0.0,static,255.255.255.0,12h
dhcp-option=option:router,10.77.0.1
dhcp-option=option:dns-server,10.77.0.1

# One reservation per guest: MAC, address, hostname.
dhcp-host=BC:24:11:19:09:89,10.77.0.11,cp-1
dhcp-host=02:00:00:77:00:12,10.77.0.12,cp-2
dhcp-host=BC:24:11:17:38:53,10.77.0.13,cp-3
dhcp-host=BC:24:11:52:9D:94,10.77.0.21,w-1
dhcp-host=BC:24:11:D0:F3:0E,10.77.0.22,w-2
dhcp-host=BC:24:11:9A:0D:D1,10.77.0.23,w-3
dhcp-host=BC:24:11:71:D2:88,10.77.0.24,w-4
dhcp-host=BC:24:11:89:49:E3,10.77.0.25,w-5
dhcp-host=BC:24:11:AD:D8:9E,10.77.0.30,ops
HOMELAB_EOF
cat >"$staging/nftables.nft" <<'HOMELAB_EOF'
#!/usr/sbin/nft -f
# Firewall of the homelab router, WAN eth0, lab eth1 (rendered by homelab; do not edit).
# `flush ruleset` first: loading this file again replaces the ruleset in one transaction.
flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state established,related accept
		ct state invalid drop
		meta l4proto { icmp, ipv6-icmp } accept
		iifname "eth1" udp dport 67 accept
		iifname "eth1" meta l4proto { tcp, udp } th dport 53 accept
		ip saddr { 172.16.5.0/25 } tcp dport 22 accept
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ct state invalid drop
		iifname "eth1" accept
		ip daddr 10.88.8.0/28 tcp dport { 80, 443 } accept
		ip saddr { 172.16.5.0/25 } ip daddr 10.77.0.0/24 tcp dport { 22, 6443, 50000 } accept
		# Anything else from the WAN is refused, not dropped, so clients fail fast.
		iifname "eth0" meta l4proto tcp reject with tcp reset
		iifname "eth0" reject with icmpx type port-unreachable
	}
}

table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth0" ip saddr 10.77.0.0/24 masquerade
	}
}
HOMELAB_EOF
cat >"$staging/network.json" <<'HOMELAB_EOF'
{
  "lan": {
    "address": "10.77.0.1/24",
    "interface": "eth1"
  },
  "routes": [
    {
      "dev": "eth1",
      "to": "10.88.8.0/28"
    }
  ],
  "sysctl": {
    "net.ipv4.ip_forward": "1"
  },
  "wan": {
    "address": "172.16.5.20/24",
    "gateway": "172.16.5.1",
    "interface": "eth0"
  }
}
HOMELAB_EOF
cat >"$staging/sysctl.conf" <<'HOMELAB_EOF'
# rendered by homelab; do not edit
net.ipv4.ip_forward = 1
HOMELAB_EOF
cat >"$staging/unit.service" <<'HOMELAB_EOF'
# rendered by homelab; do not edit
[Unit]
Description=homelab router: forwarding and routes to the load-balancer pool
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/sbin/sysctl -q -p /etc/sysctl.d/99-homelab.conf
ExecStart=/sbin/ip route replace 10.88.8.0/28 dev eth1
ExecStop=-/sbin/ip route del 10.88.8.0/28 dev eth1

[Install]
WantedBy=multi-user.target
HOMELAB_EOF

dnsmasq --test --conf-file="$staging/dnsmasq.conf"
nft -c -f "$staging/nftables.nft"

unit=/etc/systemd/system/homelab-network.service
if ! cmp -s "$staging/unit.service" "$unit"; then
  if [[ -f $unit ]]; then
    systemctl stop homelab-network.service  # the old unit removes the routes it added
  fi
  put "$staging/unit.service" "$unit" 0644
  systemctl daemon-reload
fi
put "$staging/dnsmasq.conf" /etc/dnsmasq.d/homelab.conf 0644
put "$staging/nftables.nft" /etc/nftables.conf 0755
put "$staging/network.json" /etc/homelab/network.json 0644
put "$staging/sysctl.conf" /etc/sysctl.d/99-homelab.conf 0644

# Activate: firewall first, then forwarding and routes, then DHCP and DNS.
systemctl enable --quiet nftables.service homelab-network.service dnsmasq.service
systemctl reload-or-restart nftables.service
sysctl -q -p /etc/sysctl.d/99-homelab.conf
ip route replace 10.88.8.0/28 dev eth1
systemctl start homelab-network.service
systemctl restart dnsmasq.service
