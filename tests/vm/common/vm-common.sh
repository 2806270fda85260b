# shellcheck shell=bash
# What every guardian test VM shares, sourced by tests/vm/<flavour>/ launchers (bash):
#   - the cache:      ${GUARDIAN_VM_CACHE:-${XDG_CACHE_HOME:-~/.cache}/guardian-vm}, one lock
#   - dependencies:   qemu-system-x86 (apt-get install), Debian packages fetched with
#                     `apt-get download` into the cache, never installed on the host
#   - the kernel:     Debian's linux-image-cloud-amd64 (ext4, NVMe, virtio, serial built in),
#                     unpacked once per kernel ABI: vmlinuz, config, modules
#   - the launch:     QEMU (TCG unless GUARDIAN_VM_ACCEL=kvm) with four serial ports:
#                       ttyS0 kernel console (saved; its tail is printed when the VM fails)
#                       ttyS1 the command's stdout, ttyS2 its stderr (streamed live)
#                       ttyS3 one line "GUARDIAN_VM_RC=<status>" written by the guest
#                     and the launcher exits with that status (124 timeout, 125 VM failure).
# A guest of any flavour only has to honour the serial protocol above.
set -euo pipefail

VM_CACHE=${GUARDIAN_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/guardian-vm}
VM_KERNEL_PACKAGE=${GUARDIAN_VM_KERNEL_PACKAGE:-linux-image-cloud-amd64}
VM_NAME=${VM_NAME:-guardian-vm}

# Temporary directories (vm_temp_dir) and background relays, removed and ended on exit.
_vm_temp_dirs=()
_vm_pids=()
_vm_cleanup() {
  local pid
  for pid in "${_vm_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ ${#_vm_temp_dirs[@]} -eq 0 ] || rm -rf "${_vm_temp_dirs[@]}"
}
trap _vm_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# vm_temp_dir VAR: sets VAR to a new temporary directory, removed when the launcher exits.
vm_temp_dir() {
  local -n _vm_dir_variable=$1
  _vm_dir_variable=$(mktemp -d "${TMPDIR:-/tmp}/$VM_NAME.XXXXXX")
  _vm_temp_dirs+=("$_vm_dir_variable")
}

vm_die() { echo "$VM_NAME: $*" >&2; exit 125; }
vm_note() { echo "$VM_NAME: $*" >&2; }

vm_as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else vm_die "root is needed for: $*"; fi
}

# Serialises cache building between VMs started at once (ctest -j). Released by vm_unlock.
vm_lock() { mkdir -p "$VM_CACHE"; exec 8>"$VM_CACHE/.lock"; flock 8; }
vm_unlock() { flock -u 8; }

_vm_apt_updated=0
vm_apt_update_once() {
  [ "$_vm_apt_updated" = 1 ] && return 0
  _vm_apt_updated=1
  vm_as_root apt-get update -qq >>"$VM_CACHE/apt.log" 2>&1 || true
}

vm_ensure_qemu() {
  command -v qemu-system-x86_64 >/dev/null && return 0
  vm_note "installing qemu-system-x86 (apt-get; log in $VM_CACHE/apt.log)"
  local try
  for try in 1 2; do
    vm_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      qemu-system-x86 >>"$VM_CACHE/apt.log" 2>&1 && return 0
    vm_apt_update_once
  done
  tail -n 20 "$VM_CACHE/apt.log" >&2
  vm_die "could not install qemu-system-x86 (see $VM_CACHE/apt.log)"
}

# Prints the path of PACKAGE's .deb in the cache, downloading it first if needed.
vm_fetch_deb() {
  local package=$1 dir=$VM_CACHE/debs found
  mkdir -p "$dir"
  found=$(find "$dir" -maxdepth 1 -name "${package}_*.deb" | head -n 1)
  if [ -z "$found" ]; then
    ( cd "$dir" && { apt-get download "$package" >>"$VM_CACHE/apt.log" 2>&1 ||
                     { vm_apt_update_once; apt-get download "$package" >>"$VM_CACHE/apt.log" 2>&1; }; } ) ||
      { tail -n 20 "$VM_CACHE/apt.log" >&2; vm_die "apt-get download $package failed (see $VM_CACHE/apt.log)"; }
    found=$(find "$dir" -maxdepth 1 -name "${package}_*.deb" | head -n 1)
  fi
  echo "$found"
}

# Sets VM_KERNEL (bzImage), VM_KERNEL_CONFIG, VM_KERNEL_MODULES (lib/modules/<version>) and
# VM_KERNEL_VERSION, unpacking the kernel package into $VM_CACHE/kernel-<abi> once.
vm_ensure_kernel() {
  local abi
  abi=$(apt-cache depends "$VM_KERNEL_PACKAGE" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}' || true)
  if [ -z "$abi" ]; then
    vm_apt_update_once
    abi=$(apt-cache depends "$VM_KERNEL_PACKAGE" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}' || true)
  fi
  [ -n "$abi" ] || vm_die "apt-cache cannot resolve $VM_KERNEL_PACKAGE to a kernel package"
  local dir=$VM_CACHE/kernel-$abi
  if [ ! -f "$dir/version" ]; then
    vm_note "fetching $abi (apt-get download; not installed on the host)"
    local deb unpack
    deb=$(vm_fetch_deb "$abi")
    unpack=$(mktemp -d "$VM_CACHE/kernel-unpack.XXXXXX")
    dpkg-deb -x "$deb" "$unpack"
    mkdir -p "$unpack/out"
    cp "$unpack"/boot/vmlinuz-* "$unpack/out/vmlinuz"
    cp "$unpack"/boot/config-* "$unpack/out/config"
    local version
    version=$(ls "$unpack/lib/modules")
    mv "$unpack/lib/modules/$version" "$unpack/out/modules"
    echo "$version" >"$unpack/out/version"
    rm -rf "$dir"
    mv "$unpack/out" "$dir"
    rm -rf "$unpack" "$deb"
  fi
  VM_KERNEL=$dir/vmlinuz
  VM_KERNEL_CONFIG=$dir/config
  VM_KERNEL_MODULES=$dir/modules
  VM_KERNEL_VERSION=$(cat "$dir/version")
}

# Prints a short key for a recipe: the hash of everything given (strings or file contents).
vm_recipe_key() {
  local part
  for part in "$@"; do
    if [ -f "$part" ]; then sha256sum <"$part"; else printf '%s\n' "$part"; fi
  done | sha256sum | cut -c1-16
}

# Prints, in load order, the .ko files (decompressed into DIR) for modules NAME... with their
# dependencies (from each module's modinfo "depends="); built-in modules print nothing.
vm_kernel_modules() {
  local out_dir=$1; shift
  local -A seen=()
  _vm_module() {
    local name=${1//-/_} path deps dep base
    [ -n "${seen[$name]:-}" ] && return 0
    seen[$name]=1
    path=$(find "$VM_KERNEL_MODULES/kernel" \( -name "$name.ko*" -o -name "${name//_/-}.ko*" \) | head -n 1)
    if [ -z "$path" ]; then
      grep -qE "/(${name}|${name//_/-})\.ko" "$VM_KERNEL_MODULES/modules.builtin" 2>/dev/null && return 0
      vm_die "kernel module $1 is not in kernel $VM_KERNEL_VERSION"
    fi
    base=${path##*/}
    case "$base" in
      *.ko.xz) base=${base%.xz}; xz -dc "$path" >"$out_dir/$base" ;;
      *.ko.zst) base=${base%.zst}; zstd -qdc "$path" >"$out_dir/$base" ;;
      *) cp "$path" "$out_dir/$base" ;;
    esac
    deps=$(tr '\0' '\n' <"$out_dir/$base" | sed -n 's/^depends=//p' | head -n 1)
    for dep in ${deps//,/ }; do _vm_module "$dep"; done
    echo "$base"
  }
  local module
  for module in "$@"; do _vm_module "$module"; done
}

# vm_launch: boots the VM and relays the serial protocol. Reads:
#   VM_KERNEL, VM_APPEND (kernel command line, console=ttyS0 is added), VM_INITRD (optional),
#   VM_MEM (default 512M), VM_CPUS (default 2), VM_TIMEOUT seconds (default 900),
#   VM_QEMU_ARGS (array: disks and devices), VM_CONSOLE_LOG (optional: keep the console),
#   VM_VERBOSE=1 (stream the console to stderr).
# Exits with the guest's status, 124 on timeout, 125 when the VM ended without one.
vm_launch() {
  local work
  vm_temp_dir work
  local accel=(-accel tcg,thread=multi,tb-size=256 -cpu max)
  [ "${GUARDIAN_VM_ACCEL:-tcg}" = kvm ] && accel=(-accel kvm -cpu host)

  mkfifo "$work/out" "$work/err"
  cat "$work/out" &
  _vm_pids+=($!)
  cat "$work/err" >&2 &
  _vm_pids+=($!)
  local console=$work/console.log console_target=$work/console.log
  if [ "${VM_VERBOSE:-0}" = 1 ]; then
    mkfifo "$work/console"
    console_target=$work/console
    ( tee "$console" <"$work/console" | sed -u 's/\r$//; s/^/[vm console] /' >&2 ) &
    _vm_pids+=($!)
  fi
  local initrd=()
  [ -n "${VM_INITRD:-}" ] && initrd=(-initrd "$VM_INITRD")
  local extra=()
  [ -n "${VM_QEMU_ARGS+set}" ] && extra=("${VM_QEMU_ARGS[@]}")
  # Machine "pc" with its PIT and HPET: under TCG the kernel's TSC calibration can fail, and
  # tsc=reliable says TCG's one host counter is synchronised across CPUs.
  local append="console=ttyS0 8250.nr_uarts=4 panic=-1 tsc=reliable no_timer_check mitigations=off"
  append+=" random.trust_cpu=on cryptomgr.notests ${VM_APPEND:-}"
  [ "${VM_VERBOSE:-0}" = 1 ] || append+=" quiet loglevel=3"

  set +e
  timeout -k 5 "${VM_TIMEOUT:-900}" qemu-system-x86_64 -M pc "${accel[@]}" \
    -m "${VM_MEM:-512M}" -smp "${VM_CPUS:-2}" -nodefaults -no-user-config -display none -no-reboot \
    -kernel "$VM_KERNEL" "${initrd[@]}" -append "$append" \
    -chardev file,id=console,path="$console_target" -serial chardev:console \
    -chardev file,id=out,path="$work/out" -serial chardev:out \
    -chardev file,id=err,path="$work/err" -serial chardev:err \
    -chardev file,id=status,path="$work/status" -serial chardev:status \
    "${extra[@]}" 2>"$work/qemu.err"
  local qemu_status=$?
  set -e
  # If QEMU never opened the FIFOs their readers still wait: open and close them once.
  exec 6<>"$work/out" 7<>"$work/err"
  exec 6>&- 7>&-
  if [ "${VM_VERBOSE:-0}" = 1 ]; then exec 6<>"$work/console"; exec 6>&-; fi
  wait "${_vm_pids[@]}" 2>/dev/null || true
  _vm_pids=()
  [ -n "${VM_CONSOLE_LOG:-}" ] && cp "$console" "$VM_CONSOLE_LOG" 2>/dev/null || true

  local status
  status=$(sed -n 's/.*GUARDIAN_VM_RC=\([0-9]*\).*/\1/p' "$work/status" 2>/dev/null | head -n 1)
  [ -n "$status" ] && exit "$status"
  if [ "$qemu_status" = 124 ] || [ "$qemu_status" = 137 ]; then
    vm_note "timeout: the VM was stopped after ${VM_TIMEOUT:-900} s"
    status=124
  else
    vm_note "the VM ended without an exit status (qemu exit $qemu_status)"
    status=125
  fi
  [ -s "$work/qemu.err" ] && { vm_note "qemu said:"; tail -n 20 "$work/qemu.err" >&2; }
  vm_note "last console lines:"
  tail -n 40 "$console" 2>/dev/null | sed 's/\r$//; s/^/  | /' >&2 || true
  exit "$status"
}
