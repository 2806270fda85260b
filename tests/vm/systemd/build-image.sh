#!/usr/bin/env bash
# build-image.sh - builds (once) the root disk of the Debian 12 systemd VM that the systemd
# tests boot, and prints the directory holding it: root.img (ext4, booted with -snapshot so it
# is never changed). The kernel is the one every guardian VM uses (../common/vm-common.sh).
#
# The root tree is debootstrap's minbase plus systemd, a user session bus, pam_systemd and
# guardian's runtime libraries, with a normal user `tester` (uid 1000) who lingers, so the
# user manager runs from boot. It is cached under
# ${GUARDIAN_VM_CACHE:-${XDG_CACHE_HOME:-~/.cache}/guardian-vm}/systemd-image-<key>, <key> being
# a hash of this script: changing the recipe builds a new image, an unchanged one is reused.
# Needs root (debootstrap, file ownership in the image) and Debian's mirror as configured in
# /etc/apt. Exit status 125 when the image cannot be built (the reason on stderr).
set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
VM_NAME=systemd-vm
# shellcheck source=../common/vm-common.sh
. "$(dirname "$SELF")/../common/vm-common.sh"
CACHE=$VM_CACHE
SUITE=bookworm
# The mirror apt uses on this machine (deb822 or one-line sources), else Debian's.
MIRROR=$(sed -n 's/^URIs: *\([^ ]*debian\)$/\1/p; s/^deb \(\[[^]]*\] \)\{0,1\}\(http[^ ]*\/debian\) .*/\2/p' \
           /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n1 || true)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
PACKAGES=(
  systemd systemd-sysv dbus dbus-user-session libpam-systemd procps
  # guardian's runtime libraries (ldd of the guardian binary)
  libboost-filesystem1.81.0 libfmt9 libtomlplusplus3 libpugixml1v5
)

die() { vm_die "$@"; }
note() { vm_note "$@"; }
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap and the image's file owners need it)"
command -v debootstrap >/dev/null || die "debootstrap is missing: run scripts/install-deps.sh"
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 is missing: run scripts/install-deps.sh"

OUT=$CACHE/systemd-image-$(vm_recipe_key "$SELF")
if [ -f "$OUT/root.img" ]; then echo "$OUT"; exit 0; fi

vm_lock                                    # one builder at a time; the others wait and reuse
if [ -f "$OUT/root.img" ]; then echo "$OUT"; exit 0; fi
rm -rf "$CACHE"/systemd-image-*            # images of older recipes
WORK=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/root
LOG=$CACHE/systemd-build.log
: > "$LOG"

t0=$(date +%s.%N)
note "debootstrap $SUITE minbase from $MIRROR (log: $LOG)"
debootstrap --variant=minbase --include="$(printf '%s,' "${PACKAGES[@]}" | sed 's/,$//')" \
  "$SUITE" "$ROOT" "$MIRROR" >>"$LOG" 2>&1 || { tail -n 20 "$LOG" >&2; die "debootstrap failed"; }
t1=$(date +%s.%N)

# --- configuration
echo guardian-vm > "$ROOT/etc/hostname"
printf '127.0.0.1 localhost guardian-vm\n' > "$ROOT/etc/hosts"
: > "$ROOT/etc/fstab"                                    # / stays as the kernel mounted it (no udev)
chroot "$ROOT" passwd -d root >>"$LOG" 2>&1
chroot "$ROOT" useradd -m -u 1000 -s /bin/bash tester >>"$LOG" 2>&1
mkdir -p "$ROOT/var/lib/systemd/linger"; : > "$ROOT/var/lib/systemd/linger/tester"
# A second user who does not linger: without a login session it has no user manager and no bus
# (cron, a CI runner's service, su without a session).
chroot "$ROOT" useradd -m -u 1001 -s /bin/bash nobus >>"$LOG" 2>&1
# minbase has no udev: a getty on the serial console would wait for its device forever;
# nothing here needs the network or time sync either.
for u in serial-getty@ttyS0.service getty@tty1.service systemd-timesyncd.service \
         systemd-networkd.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
         fstrim.timer man-db.timer; do
  ln -sf /dev/null "$ROOT/etc/systemd/system/$u"
done
# The test payload comes in on the second NVMe disk as a plain tar archive; the test unit
# unpacks it and runs its `run`, which speaks the serial protocol of tests/vm (stdout on
# ttyS1, stderr on ttyS2, "GUARDIAN_VM_RC=N" on ttyS3); then the machine powers off.
cat > "$ROOT/usr/local/sbin/guardian-vm-test" <<'SCRIPT'
#!/bin/sh
mkdir -p /opt/guardian-test && tar -xf /dev/nvme1n1 -C /opt/guardian-test || exit 125
exec /bin/sh /opt/guardian-test/run
SCRIPT
chmod 0755 "$ROOT/usr/local/sbin/guardian-vm-test"
cat > "$ROOT/etc/systemd/system/guardian-vm-test.service" <<'UNIT'
[Unit]
Description=guardian VM tests
After=user@1000.service systemd-logind.service
Wants=user@1000.service

[Service]
Type=simple
ExecStart=/usr/local/sbin/guardian-vm-test
ExecStopPost=/bin/systemctl poweroff --no-block

[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/guardian-vm-test.service \
  "$ROOT/etc/systemd/system/multi-user.target.wants/guardian-vm-test.service"
rm -rf "$ROOT/var/cache/apt/archives/"*.deb "$ROOT/var/lib/apt/lists/"* "$ROOT/usr/share/doc" \
       "$ROOT/usr/share/man" "$ROOT/usr/share/locale"

t2=$(date +%s.%N)
mkdir -p "$WORK/out"
mkfs.ext4 -q -F -L guardian-vm -d "$ROOT" "$WORK/out/root.img" 1200M >>"$LOG" 2>&1 ||
  { tail -n 20 "$LOG" >&2; die "mkfs.ext4 -d failed"; }
t3=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" \
  'BEGIN { printf "debootstrap_seconds %.1f\nimage_seconds %.1f\n", b - a, d - c }' > "$WORK/out/build-times"
mv "$WORK/out" "$OUT"
note "built $OUT ($(tr '\n' ' ' < "$OUT/build-times"))"
echo "$OUT"
