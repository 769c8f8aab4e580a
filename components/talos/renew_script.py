"""The credential renewal script the client's timer runs (pure rendering).

Its settings come from the environment its systemd unit sets (`lifecycle_units`).
"""

from __future__ import annotations

RENEW_SCRIPT = r"""#!/usr/bin/env bash
# Renews this client's talosconfig and kubeconfig before their client certificates expire: each new
# file is written beside the old one, used once (talosctl version, kubectl get --raw /healthz),
# and only then renamed over it; the old one stays as <file>.previous. Nothing is renewed while
# a certificate has more than RENEW_BEFORE_DAYS left.
set -euo pipefail
umask 077

: "${TALOSCONFIG:?}" "${KUBECONFIG:?}" "${CONTROL_PLANES:?}" "${NODES:?}" "${RENEW_BEFORE_DAYS:?}" "${CRT_TTL_HOURS:?}"
window=$((RENEW_BEFORE_DAYS * 86400))

log() { echo "renew-credentials: $*"; }

# The client certificate of the talosconfig's current context (PEM).
# shellcheck disable=SC2317 # called through certificate_state
talos_certificate() {
  awk '
    /^context:/ { current = $2 }
    /^contexts:/ { in_contexts = 1; next }
    in_contexts && /^[^ ]/ { in_contexts = 0 }
    in_contexts && match($0, /^ +/) {
      if (!depth) depth = RLENGTH
      if (RLENGTH == depth) { name = $1; sub(/:$/, "", name); here = (name == current) }
    }
    in_contexts && here && $1 == "crt:" { print $2; exit }
  ' "$1" | base64 -d
}

# shellcheck disable=SC2317 # called through certificate_state
kube_certificate() {
  awk '$1 == "client-certificate-data:" { print $2; exit }' "$1" | base64 -d
}

# "ok" (more than the window left), "due" (less), "expired" or "unreadable"; and the end date.
certificate_state() {
  local pem end
  pem=$("$1" "$2" 2>/dev/null) || true
  if ! end=$(openssl x509 -noout -enddate <<<"$pem" 2>/dev/null); then
    echo "unreadable -"
  elif openssl x509 -noout -checkend "$window" <<<"$pem" >/dev/null; then
    echo "ok ${end#notAfter=}"
  elif openssl x509 -noout -checkend 0 <<<"$pem" >/dev/null; then
    echo "due ${end#notAfter=}"
  else
    echo "expired ${end#notAfter=}"
  fi
}

# Keeps the working file as .previous, then renames the verified new one over it.
promote() {
  cp -p "$1" "$1.previous"
  mv -f "$1.new" "$1"
}

renew_talosconfig() {
  local state end node
  read -r state end < <(certificate_state talos_certificate "$TALOSCONFIG")
  case $state in
    ok) log "talosconfig: valid until $end, more than $RENEW_BEFORE_DAYS days; nothing to do"; return 0 ;;
    expired|unreadable)
      log "FAILED: the talosconfig's certificate is $state ($end): it cannot renew itself;" \
        "run pulumi up (the stack's talosconfig) or put a working one in $TALOSCONFIG"
      return 1 ;;
  esac
  log "talosconfig: expires $end, renewing"
  for node in $CONTROL_PLANES; do
    rm -f "$TALOSCONFIG.new"
    # shellcheck disable=SC2086 # the lists are words
    if talosctl --talosconfig "$TALOSCONFIG" --nodes "$node" \
      config new --roles os:admin --crt-ttl "${CRT_TTL_HOURS}h" "$TALOSCONFIG.new" &&
      talosctl --talosconfig "$TALOSCONFIG.new" config endpoint $CONTROL_PLANES &&
      talosctl --talosconfig "$TALOSCONFIG.new" config node $NODES &&
      talosctl --talosconfig "$TALOSCONFIG.new" --nodes "$node" version >/dev/null; then
      promote "$TALOSCONFIG"
      read -r state end < <(certificate_state talos_certificate "$TALOSCONFIG")
      log "talosconfig: renewed from $node, valid until $end (the old one is $TALOSCONFIG.previous)"
      return 0
    fi
    log "talosconfig: $node gave no working talosconfig; trying the next control plane"
  done
  rm -f "$TALOSCONFIG.new"
  log "FAILED: talosconfig not renewed; $TALOSCONFIG is unchanged"
  return 1
}

renew_kubeconfig() {
  local state end node
  read -r state end < <(certificate_state kube_certificate "$KUBECONFIG")
  if [[ $state == ok ]]; then
    log "kubeconfig: valid until $end, more than $RENEW_BEFORE_DAYS days; nothing to do"
    return 0
  fi
  # An expired kubeconfig is no obstacle: Talos hands out a new one to a working talosconfig.
  log "kubeconfig: $state ($end), renewing"
  for node in $CONTROL_PLANES; do
    rm -f "$KUBECONFIG.new"
    if talosctl --talosconfig "$TALOSCONFIG" --nodes "$node" kubeconfig --force --merge=false "$KUBECONFIG.new" &&
      [[ $(kubectl --kubeconfig "$KUBECONFIG.new" --request-timeout=20s get --raw /healthz) == ok ]]; then
      promote "$KUBECONFIG"
      read -r state end < <(certificate_state kube_certificate "$KUBECONFIG")
      log "kubeconfig: renewed from $node, valid until $end (the old one is $KUBECONFIG.previous)"
      return 0
    fi
    log "kubeconfig: $node gave no working kubeconfig; trying the next control plane"
  done
  rm -f "$KUBECONFIG.new"
  log "FAILED: kubeconfig not renewed; $KUBECONFIG is unchanged"
  return 1
}

failed=0
renew_talosconfig || failed=1
renew_kubeconfig || failed=1
exit "$failed"
"""


def renew_script() -> str:
    return RENEW_SCRIPT
