#!/usr/bin/env bash
# Issue 14: what moving the plugins into their own process costs and saves, measured in one
# run against a baseline binary (plugins loaded in the supervisor):
#   1. `guardian run -- true` with three plugins (jsonfile, websocket, webhook): hyperfine,
#      baseline vs this build, medians and their ratio;
#   2. the supervisor's memory while it supervises `sleep 2` with the same plugins: RSS and
#      private memory (/proc/PID/smaps_rollup at 1 s), the plugin libraries mapped into it;
#      for this build also the plugin host's RSS (the memory moved, not saved).
# Both binaries load the same plugin .so files (GUARDIAN_PLUGIN_PATH): only the host differs.
# Prints numbers only; asserts nothing (compare within one run: the machine is shared).
#
# usage: bench/plugin_host_overhead.sh BASELINE_GUARDIAN NEW_GUARDIAN PLUGIN_DIR [RUNS]
set -euo pipefail

die() { echo "plugin_host_overhead: $*" >&2; exit 2; }
[[ $# -ge 3 ]] || die "usage: $0 BASELINE_GUARDIAN NEW_GUARDIAN PLUGIN_DIR [RUNS]"
baseline=$(realpath "$1") new=$(realpath "$2") plugin_dir=$(realpath "$3") runs=${4:-200}
for binary in "$baseline" "$new"; do [[ -x $binary ]] || die "not an executable: $binary"; done
for plugin in jsonfile websocket webhook; do
  [[ -f $plugin_dir/$plugin.so ]] || die "$plugin_dir/$plugin.so is missing: build the plugins first"
done
for tool in hyperfine jq; do command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-deps.sh test"; done

work=$(mktemp -d /tmp/guardian-plugin-host-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > guardian.toml <<TOML
[plugins.jsonfile]
directory = "$work/alerts"
[plugins.websocket]
port = 0
[plugins.webhook]
url = "http://127.0.0.1:9/hook"
TOML
export GUARDIAN_PLUGIN_PATH=$plugin_dir
unset DBUS_SESSION_BUS_ADDRESS  # notify stays off: exactly the three plugins above
true_bin=$(type -P true) sleep_bin=$(type -P sleep)
results=$work/plugin_host.json

echo "== guardian run -- true with three plugins: $runs runs each =="
hyperfine --shell=none --warmup 10 --runs "$runs" --style basic --export-json "$results" \
  --command-name "baseline (plugins in the supervisor)" "$baseline run --quiet -- $true_bin" \
  --command-name "plugin host process" "$new run --quiet -- $true_bin" >&2
median_ms() { jq -r --arg name "$1" '.results[] | select(.command == $name) | .median * 1000' "$results"; }
base_ms=$(median_ms "baseline (plugins in the supervisor)")
new_ms=$(median_ms "plugin host process")

# smaps_rollup of a process: "RSS_KiB PRIVATE_KiB"
memory_of() {
  awk '/^Rss:/ {rss = $2} /^Private_(Clean|Dirty):/ {private += $2} END {print rss, private}' "/proc/$1/smaps_rollup"
}
# Plugin libraries mapped into a process (GLib, Beast's TLS, the plugins themselves).
mapped_of() {
  grep -Eo '(libglib|libgio|libnotify|libssl|libcrypto|jsonfile\.so|websocket\.so|webhook\.so)[^ ]*' "/proc/$1/maps" |
    sed 's/[-.]so.*//' | sort -u | tr '\n' ' ' || true  # none mapped: grep finds nothing
}
measure() {  # binary label
  "$1" run --quiet -- "$sleep_bin" 2 &
  local pid=$!
  sleep 1
  read -r rss private < <(memory_of "$pid")
  local mapped host host_rss=0 host_private=0
  mapped=$(mapped_of "$pid")
  host=$(pgrep -P "$pid" -f -- '__plugin-host' || true)
  [[ -n $host ]] && read -r host_rss host_private < <(memory_of "$host")
  wait "$pid" || true
  awk -v l="$2" -v r="$rss" -v p="$private" -v h="$host_rss" -v m="${mapped:-none}" 'BEGIN {
    printf "%-28s RSS %6.1f MiB  private %6.1f MiB  plugin host RSS %6.1f MiB  mapped: %s\n", l, r/1024, p/1024, h/1024, m }'
  echo "$rss $private $host_rss" > "$work/$3.mem"
}
echo "== memory while supervising sleep 2 (at 1 s) =="
measure "$baseline" "baseline supervisor" base
measure "$new" "supervisor + plugin host" new
read -r base_rss base_private _ < "$work/base.mem"
read -r new_rss new_private new_host < "$work/new.mem"

echo
printf '%-52s %s\n' "metric" "value"
printf '%-52s %.3f ms\n' "baseline: guardian run -- true, 3 plugins (median)" "$base_ms"
printf '%-52s %.3f ms\n' "plugin host: guardian run -- true, 3 plugins (median)" "$new_ms"
awk -v n="$new_ms" -v b="$base_ms" 'BEGIN { printf "%-52s %.3f\n", "ratio plugin host / baseline (wall time)", n / b }'
awk -v n="$new_rss" -v b="$base_rss" 'BEGIN { printf "%-52s %.1f -> %.1f MiB (%.2fx)\n", "supervisor RSS", b/1024, n/1024, n / b }'
awk -v n="$new_private" -v b="$base_private" 'BEGIN { printf "%-52s %.1f -> %.1f MiB (%.2fx)\n", "supervisor private memory", b/1024, n/1024, n / b }'
awk -v n="$new_rss" -v h="$new_host" -v b="$base_rss" 'BEGIN { printf "%-52s %.1f MiB (baseline supervisor %.1f MiB)\n", "supervisor + plugin host RSS", (n+h)/1024, b/1024 }'
