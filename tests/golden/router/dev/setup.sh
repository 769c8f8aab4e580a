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
    # A fresh container may not reach the mirrors yet: retried until a deadline, then said why.
    local deadline=$((SECONDS + 300))
    until apt-get update -q -o Acquire::Retries=3; do
      if ((SECONDS >= deadline)); then
        echo "homelab: gave up after 300 s waiting for the Debian mirrors to answer apt-get update" >&2
        echo "homelab: check the router's WAN address, gateway and upstream DNS" >&2
        exit 1
      fi
      sleep 10
    done
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

if ! nft list table inet filter >/dev/null 2>&1; then
  sysctl -q -w net.ipv4.ip_forward=0
fi

require_address eth0 192.168.0.200/24
require_address eth1 192.168.1.200/24
ensure_packages dnsmasq nftables

# The files, staged and validated before anything is activated.
cat >"$staging/dnsmasq.conf" <<'HOMELAB_EOF'
# dnsmasq of the homelab router: DHCP and DNS for the lab on eth1 only (rendered by homelab; do not edit).
interface=eth1
bind-dynamic

# DNS: forward to the configured upstreams, never to what /etc/resolv.conf says.
no-resolv
no-hosts
server=1.1.1.1
server=9.9.9.9
domain-needed
bogus-priv
stop-dns-rebind

# The lab's names: the router, every guest (leased or not) and the site at the ingress address.
host-record=router,192.168.1.200
host-record=cp-1,192.168.1.201
host-record=worker-1,192.168.1.202
host-record=worker-2,192.168.1.203
host-record=talos-client,192.168.1.204
host-record=www.example.com,10.10.10.10

# DHCP: only the reserved addresses below, unless a dynamic range is configured.
dhcp-authoritative
dhcp-leasefile=/var/lib/misc/dnsmasq.leases
dhcp-range=192.168.1.0,static,255.255.255.0,12h
dhcp-lease-max=8
dhcp-option=option:router,192.168.1.200
dhcp-option=option:dns-server,192.168.1.200

# One reservation per guest: MAC, address, hostname.
dhcp-host=BC:24:11:04:FA:69,192.168.1.201,cp-1
dhcp-host=BC:24:11:61:29:53,192.168.1.202,worker-1
dhcp-host=BC:24:11:28:39:EF,192.168.1.203,worker-2
dhcp-host=BC:24:11:E7:36:56,192.168.1.204,talos-client
HOMELAB_EOF
cat >"$staging/nftables.nft" <<'HOMELAB_EOF'
#!/usr/sbin/nft -f
# Firewall of the homelab router, WAN eth0, lab eth1 (rendered by homelab; do not edit).
# `flush ruleset` first: loading this file again replaces the ruleset in one transaction.
flush ruleset

table inet filter {
	set admins {
		type ipv4_addr; flags interval;
		elements = { 192.168.0.0/24 }
	}

	# Not the internet: the home LAN and every special-purpose range (private, CGNAT, link-local,
	# benchmarking, multicast, ...). Lab guests reach none of it through the WAN, whatever adminCidrs is.
	set not_internet {
		type ipv4_addr; flags interval;
		elements = { 0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12, 192.0.0.0/24, 192.0.2.0/24, 192.88.99.0/24, 192.168.0.0/16, 198.18.0.0/15, 198.51.100.0/24, 203.0.113.0/24, 224.0.0.0/3 }
	}

	# Anti-spoofing, before connection tracking: each side may only use its own sources.
	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		# A DHCP client has no address yet.
		iifname "eth1" ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 accept
		# The pool's addresses answer from the lab side (MetalLB replies to the WAN).
		iifname "eth1" ip saddr != { 192.168.1.0/24, 10.10.10.0/24 } drop
		iifname "eth0" ip saddr { 192.168.1.0/24, 10.10.10.0/24 } drop
		# Strict reverse path, as rp_filter=1 but independent of the sysctls.
		meta nfproto ipv4 fib saddr . iif oif missing drop
		# IPv6 is off on the lab side: nothing from there, router advertisements from nowhere.
		iifname "eth1" meta nfproto ipv6 drop
		icmpv6 type nd-router-advert drop
	}

	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		# Before the established rule: a source dropped from the admins loses its open sessions
		# with this ruleset, not at their end.
		iifname "eth0" ct direction original tcp dport 22 ip saddr != @admins reject with tcp reset
		ct state established,related accept
		ct state invalid drop
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept
		iifname "eth1" udp dport 67 accept
		iifname "eth1" meta l4proto { tcp, udp } th dport 53 accept
		iifname "eth0" ip saddr @admins tcp dport 22 accept
		# Anything else from the WAN is refused, not dropped, so clients fail fast.
		iifname "eth0" meta l4proto tcp reject with tcp reset
		iifname "eth0" reject with icmpx type port-unreachable
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		iifname "eth0" ct direction original tcp dport { 22, 6443, 50000 } ip saddr != @admins reject with tcp reset
		ct state established,related accept
		ct state invalid drop
		iifname "eth0" oifname "eth1" ip saddr @admins ip daddr 192.168.1.0/24 tcp dport { 22, 6443, 50000 } accept
		iifname "eth0" oifname "eth1" ip saddr @admins ip daddr 192.168.1.0/24 icmp type echo-request accept
		iifname "eth0" oifname "eth1" ip daddr 10.10.10.10 tcp dport { 80, 443 } accept
		# Hairpin: in and out of the lab side; masqueraded below.
		iifname "eth1" oifname "eth1" ip saddr 192.168.1.0/24 ip daddr 10.10.10.0/24 tcp dport { 80, 443 } accept
		iifname "eth1" oifname "eth0" ip saddr 192.168.1.0/24 ip daddr != @not_internet accept
		# Anything else from the WAN is refused; from the lab it is dropped (the policy).
		iifname "eth0" meta l4proto tcp reject with tcp reset
		iifname "eth0" reject with icmpx type port-unreachable
	}
}

table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth0" ip saddr 192.168.1.0/24 masquerade
		# Lab to pool (hairpin): the pool is on the same bridge, so the ingress would answer the
		# guest directly and the router would see half a connection and drop the rest as invalid
		# (unless the guest obeys ICMP redirects). From the router's LAN address the replies come
		# back through the router, whatever the guest does with redirects, and stay filtered.
		oifname "eth1" ip saddr 192.168.1.0/24 ip daddr 10.10.10.0/24 masquerade
	}
}
HOMELAB_EOF
cat >"$staging/network.json" <<'HOMELAB_EOF'
{
  "forwarding": {
    "net.ipv4.ip_forward": "1"
  },
  "lan": {
    "address": "192.168.1.200/24",
    "interface": "eth1"
  },
  "routes": [
    {
      "dev": "eth1",
      "to": "10.10.10.0/24"
    }
  ],
  "sysctl": {
    "net.ipv4.conf.all.accept_redirects": "0",
    "net.ipv4.conf.all.accept_source_route": "0",
    "net.ipv4.conf.all.rp_filter": "1",
    "net.ipv4.conf.all.send_redirects": "0",
    "net.ipv4.conf.default.accept_redirects": "0",
    "net.ipv4.conf.default.accept_source_route": "0",
    "net.ipv4.conf.default.rp_filter": "1",
    "net.ipv4.conf.default.send_redirects": "0",
    "net.ipv4.conf.eth0.accept_redirects": "0",
    "net.ipv4.conf.eth0.accept_source_route": "0",
    "net.ipv4.conf.eth0.rp_filter": "1",
    "net.ipv4.conf.eth0.send_redirects": "0",
    "net.ipv4.conf.eth1.accept_redirects": "0",
    "net.ipv4.conf.eth1.accept_source_route": "0",
    "net.ipv4.conf.eth1.rp_filter": "1",
    "net.ipv4.conf.eth1.send_redirects": "0",
    "net.ipv6.conf.all.accept_ra": "0",
    "net.ipv6.conf.all.autoconf": "0",
    "net.ipv6.conf.default.accept_ra": "0",
    "net.ipv6.conf.default.autoconf": "0",
    "net.ipv6.conf.eth0.accept_ra": "0",
    "net.ipv6.conf.eth0.autoconf": "0",
    "net.ipv6.conf.eth1.accept_ra": "0",
    "net.ipv6.conf.eth1.autoconf": "0",
    "net.ipv6.conf.eth1.disable_ipv6": "1"
  },
  "wan": {
    "address": "192.168.0.200/24",
    "gateway": "192.168.0.1",
    "interface": "eth0"
  }
}
HOMELAB_EOF
cat >"$staging/sysctl.conf" <<'HOMELAB_EOF'
# rendered by homelab; do not edit
net.ipv4.conf.all.accept_redirects = 0
net.ipv4.conf.all.accept_source_route = 0
net.ipv4.conf.all.rp_filter = 1
net.ipv4.conf.all.send_redirects = 0
net.ipv4.conf.default.accept_redirects = 0
net.ipv4.conf.default.accept_source_route = 0
net.ipv4.conf.default.rp_filter = 1
net.ipv4.conf.default.send_redirects = 0
net.ipv4.conf.eth0.accept_redirects = 0
net.ipv4.conf.eth0.accept_source_route = 0
net.ipv4.conf.eth0.rp_filter = 1
net.ipv4.conf.eth0.send_redirects = 0
net.ipv4.conf.eth1.accept_redirects = 0
net.ipv4.conf.eth1.accept_source_route = 0
net.ipv4.conf.eth1.rp_filter = 1
net.ipv4.conf.eth1.send_redirects = 0
net.ipv6.conf.all.accept_ra = 0
net.ipv6.conf.all.autoconf = 0
net.ipv6.conf.default.accept_ra = 0
net.ipv6.conf.default.autoconf = 0
net.ipv6.conf.eth0.accept_ra = 0
net.ipv6.conf.eth0.autoconf = 0
net.ipv6.conf.eth1.accept_ra = 0
net.ipv6.conf.eth1.autoconf = 0
net.ipv6.conf.eth1.disable_ipv6 = 1
HOMELAB_EOF
cat >"$staging/unit.service" <<'HOMELAB_EOF'
# rendered by homelab; do not edit
[Unit]
Description=homelab router: kernel protections and routes to the load-balancer pool
Wants=network-online.target
After=network-online.target nftables.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/sbin/sysctl -q -e -p /etc/sysctl.d/99-homelab.conf
ExecStart=/sbin/ip route replace 10.10.10.0/24 dev eth1
ExecStop=-/sbin/ip route del 10.10.10.0/24 dev eth1

[Install]
WantedBy=multi-user.target
HOMELAB_EOF
cat >"$staging/nftables-drop-in.conf" <<'HOMELAB_EOF'
# rendered by homelab; do not edit
# The router forwards only while its ruleset is loaded.
[Service]
ExecStartPre=-/sbin/sysctl -q -e -p /etc/sysctl.d/99-homelab.conf
ExecStartPre=/sbin/sysctl -q -w net.ipv4.ip_forward=0
ExecStartPost=/sbin/sysctl -q -w net.ipv4.ip_forward=1
ExecStop=
ExecStop=/sbin/sysctl -q -w net.ipv4.ip_forward=0
ExecStop=/usr/sbin/nft flush ruleset
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
if ! cmp -s "$staging/nftables-drop-in.conf" /etc/systemd/system/nftables.service.d/homelab.conf; then
  put "$staging/nftables-drop-in.conf" /etc/systemd/system/nftables.service.d/homelab.conf 0644
  systemctl daemon-reload
fi
put "$staging/dnsmasq.conf" /etc/dnsmasq.d/homelab.conf 0644
put "$staging/nftables.nft" /etc/nftables.conf 0755
put "$staging/network.json" /etc/homelab/network.json 0644
put "$staging/sysctl.conf" /etc/sysctl.d/99-homelab.conf 0644

# Activate: protections, then the firewall (a reload swaps the ruleset in one transaction and
# ends the sessions of sources no longer admitted), then forwarding: under `set -e` it is only
# reached once the ruleset is loaded. Then routes, DHCP and DNS.
sysctl -q -e -p /etc/sysctl.d/99-homelab.conf
systemctl enable --quiet nftables.service homelab-network.service dnsmasq.service
systemctl reload-or-restart nftables.service
sysctl -q -w net.ipv4.ip_forward=1
ip route replace 10.10.10.0/24 dev eth1
systemctl start homelab-network.service
systemctl restart dnsmasq.service
