"""The etcd backup script the client's timer runs (pure rendering).

Everything it needs comes from the environment its systemd unit sets (`lifecycle_units`), so the
script is the same for every stack and the tests run it with that environment.
"""

from __future__ import annotations

BACKUP_SCRIPT = r"""#!/usr/bin/env bash
# Takes an etcd snapshot from the first control plane that gives a valid one, keeps the newest
# KEEP snapshots no older than MAX_AGE_DAYS, copies it off host when a target is set, and records
# the last good snapshot in STATUS_FILE. Any failure fails the unit.
set -euo pipefail
umask 077

: "${CONTROL_PLANES:?}" "${BACKUP_DIR:?}" "${KEEP:?}" "${MAX_AGE_DAYS:?}" "${STATUS_FILE:?}" "${TALOSCONFIG:?}"
SNAPSHOT_TIMEOUT=${SNAPSHOT_TIMEOUT:-300}
VERIFY_TIMEOUT=${VERIFY_TIMEOUT:-60}
COPY_PATH=${COPY_PATH:-}
COPY_REMOTE=${COPY_REMOTE:-}
# The clock, injectable: retention is decided from the snapshots' names, not file times.
now=${HOMELAB_NOW:-$(date +%s)}
stamp=$(date -u -d "@$now" +%Y%m%dT%H%M%SZ)
name="etcd-$stamp.db"

log() { echo "etcd-backup: $*"; }

# Bounded: etcd's status reader can spin on a damaged file instead of failing.
verify() {
  if command -v etcdutl >/dev/null 2>&1; then
    timeout --kill-after=5 "$VERIFY_TIMEOUT" etcdutl snapshot status --write-out=json "$1"
  else
    ETCDCTL_API=3 timeout --kill-after=5 "$VERIFY_TIMEOUT" etcdctl snapshot status --write-out=json "$1"
  fi
}

# The epoch of a snapshot's name (etcd-YYYYmmddTHHMMSSZ.db), or nothing when it is not one of ours.
name_epoch() {
  local s=$1
  [[ $s =~ ^etcd-([0-9]{8})T([0-9]{6})Z\.db$ ]] || return 0
  s="${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
  date -u -d "${s:0:4}-${s:4:2}-${s:6:2} ${s:9:2}:${s:11:2}:${s:13:2}" +%s
}

# Reads snapshot names on stdin; prints the ones to delete: beyond the newest KEEP, or older than
# MAX_AGE_DAYS. The newest always stays.
expired() {
  local index=0 epoch entry
  while read -r entry; do
    epoch=$(name_epoch "$entry")
    [[ -n $epoch ]] || continue
    if ((index > 0)) && ((index >= KEEP || now - epoch > MAX_AGE_DAYS * 86400)); then
      echo "$entry"
    fi
    index=$((index + 1))
  done < <(sort -r)
}

snapshots() { find "$1" -maxdepth 1 -type f -name 'etcd-*.db' -printf '%f\n'; }

mkdir -p "$BACKUP_DIR"
partial="$BACKUP_DIR/.$name.part"
errors="$BACKUP_DIR/.talosctl.err"
trap 'rm -f "$partial" "$errors"' EXIT

taken=""
for node in $CONTROL_PLANES; do
  rm -f "$partial"
  started=$(date +%s)
  if timeout --kill-after=10 "$SNAPSHOT_TIMEOUT" \
    talosctl --talosconfig "$TALOSCONFIG" --nodes "$node" etcd snapshot "$partial" >/dev/null 2>"$errors"; then
    :
  else
    code=$?
    if ((code == 124 || code == 137)); then
      log "$node: no snapshot within ${SNAPSHOT_TIMEOUT}s; trying the next control plane"
    else
      log "$node: talosctl etcd snapshot failed ($(tail -n 1 "$errors" 2>/dev/null)); trying the next control plane"
    fi
    continue
  fi
  if ! status=$(verify "$partial" 2>"$errors"); then
    log "$node: the snapshot is not a valid etcd database ($(tail -n 1 "$errors" 2>/dev/null)); trying the next"
    continue
  fi
  taken=$node
  break
done
if [[ -z $taken ]]; then
  log "FAILED: none of the control planes ($CONTROL_PLANES) gave a valid snapshot"
  exit 1
fi

mv -f "$partial" "$BACKUP_DIR/$name"
bytes=$(stat -c %s "$BACKUP_DIR/$name")
log "took $name from $taken: $bytes bytes in $(($(date +%s) - started))s, verified: $status"

while read -r old; do
  rm -f "$BACKUP_DIR/$old"
  log "removed $old (retention: newest $KEEP, at most $MAX_AGE_DAYS days)"
done < <(snapshots "$BACKUP_DIR" | expired)

copy=none
if [[ -n $COPY_PATH ]]; then
  copy=failed
  # Never created here: an unmounted share must fail the copy, not fill the client's own disk.
  if [[ ! -d $COPY_PATH ]]; then
    log "$COPY_PATH is not a directory (not mounted?)"
  elif cp "$BACKUP_DIR/$name" "$COPY_PATH/.$name.part" &&
    mv -f "$COPY_PATH/.$name.part" "$COPY_PATH/$name"; then
    copy=ok
    log "copied $name to $COPY_PATH"
    while read -r old; do
      rm -f "$COPY_PATH/$old"
      log "removed $old from $COPY_PATH"
    done < <(snapshots "$COPY_PATH" | expired)
  fi
elif [[ -n $COPY_REMOTE ]]; then
  copy=failed
  if rclone copyto "$BACKUP_DIR/$name" "$COPY_REMOTE/$name"; then
    copy=ok
    log "copied $name to $COPY_REMOTE"
    while read -r old; do
      rclone deletefile "$COPY_REMOTE/$old"
      log "removed $old from $COPY_REMOTE"
    done < <(rclone lsf --files-only "$COPY_REMOTE" | expired)
  fi
fi

# The last good snapshot, for `homelab check`; written whole or not at all.
printf '{"time": "%s", "epoch": %s, "node": "%s", "file": "%s", "bytes": %s, "copy": "%s", "snapshot": %s}\n' \
  "$(date -u -d "@$now" +%Y-%m-%dT%H:%M:%SZ)" "$now" "$taken" "$name" "$bytes" "$copy" "$status" >"$STATUS_FILE.tmp"
chmod 0644 "$STATUS_FILE.tmp"
mv -f "$STATUS_FILE.tmp" "$STATUS_FILE"

if [[ $copy == failed ]]; then
  log "FAILED: $name is kept here but was not copied off host"
  exit 1
fi
"""


def backup_script() -> str:
    return BACKUP_SCRIPT
