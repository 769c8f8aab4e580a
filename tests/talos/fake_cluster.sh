#!/usr/bin/env bash
# A fake talosctl and kubectl (called through symlinks of those names) over a cluster kept in
# the directory $FAKE_CLUSTER (written and read by tests/talos/fake_cluster.py):
#   calls                   every call, one line each: "<tool> <args>"
#   nodes                   "<address> <controlplane|worker>" per line, in order
#   node/<address>/         version, schematic, kubelet; fail-upgrade and stuck when set;
#                           silent-calls: how many more talosctl calls the node leaves unanswered;
#                           extensions-silent: it never lists its extensions
#   kubernetes/             control-plane and proxy image tags (no proxy file: no kube-proxy)
#   unhealthy, fail-kubernetes   faults, when present
#   api-silent-calls        how many more kubectl calls the Kubernetes API refuses
#   api-hangs               the Kubernetes API accepts every call and never answers
# Only the command shapes the rollout script is meant to use are understood: anything else
# exits 99, so a typo in the script fails the test instead of passing silently.
set -euo pipefail

state=$FAKE_CLUSTER
tool=$(basename "$0")
printf '%s %s\n' "$tool" "$*" >>"$state/calls"

unexpected() {
  echo "fake $tool: unexpected arguments: $*" >&2
  exit 99
}

addresses() { awk -v role="$1" '$2 == role { print $1 }' "$state/nodes" | paste -sd, -; }

health() {
  local node=$1 expected
  shift
  expected="health --control-plane-nodes $(addresses controlplane) --wait-timeout 15m"
  if [[ -n $(addresses worker) ]]; then
    expected+=" --worker-nodes $(addresses worker)"
  fi
  [[ "$*" == "$expected" && $(cat "$state/node/$node/role") == controlplane ]] || unexpected "$@"
  if [[ -e $state/unhealthy ]]; then
    echo "waiting for all nodes to be ready: node $(cat "$state/unhealthy") not ready" >&2
    exit 1
  fi
  echo "waiting for all k8s nodes to report ready: OK"
}

upgrade() {
  local node=$1 image=$2 pattern='^factory\.talos\.dev/nocloud-installer/([0-9a-f]+):(v[0-9.]+)$'
  [[ $image =~ $pattern ]] || { echo "error pulling upgrade image: $image: not found" >&2; exit 1; }
  if [[ -e $state/node/$node/fail-upgrade ]]; then
    echo "error during upgrade: node $node: upgrade failed with exit code 1" >&2
    exit 1
  fi
  echo "$node: upgrade completed"
  if [[ ! -e $state/node/$node/stuck ]]; then
    echo "${BASH_REMATCH[2]}" >"$state/node/$node/version"
    echo "${BASH_REMATCH[1]}" >"$state/node/$node/schematic"
  fi
}

upgrade_kubernetes() {
  local node=$1 version=v$2 each
  [[ $(cat "$state/node/$node/role") == controlplane ]] || { echo "not a control plane: $node" >&2; exit 1; }
  if [[ -e $state/fail-kubernetes ]]; then
    echo "error updating kube-apiserver: context deadline exceeded" >&2
    exit 1
  fi
  echo "$version" >"$state/kubernetes/control-plane"
  echo "$version" >"$state/kubernetes/proxy"
  for each in "$state"/node/*/; do
    echo "$version" >"$each/kubelet"
  done
}

talosctl_main() {
  [[ ${1:-} == --nodes && $# -ge 3 ]] || unexpected "$@"
  local node=$2
  shift 2
  local silent=$state/node/$node/silent-calls
  if [[ ! -d $state/node/$node ]] || { [[ -e $silent ]] && (($(cat "$silent") > 0)); }; then
    [[ ! -e $silent ]] || echo $(($(cat "$silent") - 1)) >"$silent"
    echo "rpc error: dial tcp $node:50000: connect: no route to host" >&2
    exit 1
  fi
  case "$*" in
    "get versions -o jsonpath={.spec.version}") cat "$state/node/$node/version" ;;
    "get extensions -o jsonpath={.spec.metadata.version}")
      if [[ -e $state/node/$node/extensions-silent ]]; then
        echo "rpc error: code = DeadlineExceeded desc = context deadline exceeded" >&2
        exit 1
      fi
      echo 10.0.2 && cat "$state/node/$node/schematic"
      ;;
    "health "*) health "$node" "$@" ;;
    "upgrade --image "*" --wait --timeout 30m")
      (($# == 6)) || unexpected "$@"
      upgrade "$node" "$3"
      ;;
    "upgrade-k8s --to "*" --with-docs=false --with-examples=false")
      (($# == 5)) || unexpected "$@"
      upgrade_kubernetes "$node" "$3"
      ;;
    *) unexpected "$@" ;;
  esac
}

kubectl_main() {
  local node _ component silent=$state/api-silent-calls
  # Every call is bounded: an unbounded kubectl waits forever on an API that accepts and never answers.
  [[ ${1:-} == --request-timeout=* ]] || unexpected "$@"
  shift
  if [[ -e $state/api-hangs ]]; then
    exec sleep 3600  # accepts the connection and never answers
  fi
  if [[ -e $silent ]] && (($(cat "$silent") > 0)); then
    echo $(($(cat "$silent") - 1)) >"$silent"
    echo "The connection to the server 192.168.1.201:6443 was refused - did you specify the right host or port?" >&2
    exit 1
  fi
  # shellcheck disable=SC2016 # the jsonpath expressions are kubectl's, not the shell's
  case "$*" in
    '-n kube-system get pods -l tier=control-plane -o jsonpath={range .items[*]}{.spec.containers[0].image}{"\n"}{end}')
      for _ in $(addresses controlplane | tr , ' '); do
        for component in kube-apiserver kube-controller-manager kube-scheduler; do
          echo "registry.k8s.io/$component:$(cat "$state/kubernetes/control-plane")"
        done
      done
      ;;
    '-n kube-system get daemonset kube-proxy --ignore-not-found -o jsonpath={.spec.template.spec.containers[0].image}')
      if [[ -e $state/kubernetes/proxy ]]; then
        printf 'registry.k8s.io/kube-proxy:%s@sha256:%064d' "$(cat "$state/kubernetes/proxy")" 0
      fi
      ;;
    'get nodes -o jsonpath={range .items[*]}{.status.nodeInfo.kubeletVersion}{"\n"}{end}')
      while read -r node _; do
        cat "$state/node/$node/kubelet"
      done <"$state/nodes"
      ;;
    *) unexpected "$@" ;;
  esac
}

case $tool in
  talosctl) talosctl_main "$@" ;;
  kubectl) kubectl_main "$@" ;;
  *) unexpected "$@" ;;
esac
