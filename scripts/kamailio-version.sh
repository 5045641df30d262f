#!/usr/bin/env bash
# scripts/kamailio-version.sh SUITE  (bookworm | trixie | sid)
#
# Makes a Kamailio of that Debian suite runnable on this machine and prints, on its LAST line, a folder
# holding `kamailio` and `kamcmd` wrappers for it (issue #19). bookworm is the host's own Kamailio
# (5.6.3, /usr/sbin); trixie (6.0) and sid (6.1) live in a debootstrap chroot built once from
# deb.debian.org and cached under $KDMQ_KAMAILIO_CACHE (default /var/cache/kdmq), one folder per suite.
# A second run finds the finished chroot (its .ready stamp) and prints the same folder at once.
# The wrappers run the chroot's binary as root with the host's /tmp, /proc, /dev and /run bind-mounted
# and the host's network namespace, so a chroot Kamailio listens on the same loopback addresses and
# writes its sockets/pid files into the same /tmp paths the tests give it.
set -euo pipefail
suite=${1:-}
case "$suite" in
  bookworm | trixie | sid) ;;
  *) echo "usage: $0 bookworm|trixie|sid" >&2; exit 2 ;;
esac
cache=${KDMQ_KAMAILIO_CACHE:-/var/cache/kdmq}
mirror=${KDMQ_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# (Check-Valid-Until=false: a frozen or lagging mirror serves an expired sid Release file)
# the modules the tests load (test/support/kamailio.ts, test/interop, /work/shared/lab cfgs):
# core (dmq, dmq_usrloc, usrloc, registrar, htable, jsonrpcs, ctl, kex, corex, tm, sl, pv, xlog, auth,
# auth_db, siptrace, textops, maxfwd) + tls + sqlite (auth_db's subscriber table) + kamcmd (kamailio itself)
packages="kamailio kamailio-tls-modules kamailio-json-modules kamailio-utils-modules kamailio-extra-modules kamailio-sqlite-modules"

write_wrappers() { # dir root
  local dir=$1 root=$2 tool
  mkdir -p "$dir"
  for tool in kamailio kamcmd; do
    if [ -z "$root" ]; then
      printf '#!/bin/sh\nexec /usr/sbin/%s "$@"\n' "$tool" >"$dir/$tool.tmp"
    else
      printf '#!/bin/sh\n# %s of the %s chroot (scripts/kamailio-version.sh)\nexec %s/run-in-root /usr/sbin/%s "$@"\n' \
        "$tool" "$suite" "$dir" "$tool" >"$dir/$tool.tmp"
    fi
    chmod 755 "$dir/$tool.tmp"
    mv "$dir/$tool.tmp" "$dir/$tool"
  done
}

if [ "$suite" = bookworm ]; then
  if [ ! -x /usr/sbin/kamailio ]; then echo "kamailio-version.sh: /usr/sbin/kamailio absent (apt-get install kamailio)" >&2; exit 1; fi
  dir="$cache/kamailio-bookworm/bin"
  [ -x "$dir/kamailio" ] || write_wrappers "$dir" ""
  echo "$dir"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then echo "kamailio-version.sh: must run as root (debootstrap, chroot)" >&2; exit 1; fi
base="$cache/kamailio-$suite"
root="$base/root"
dir="$base/bin"
if [ -f "$base/.ready" ] && [ -x "$dir/kamailio" ] && [ -x "$root/usr/sbin/kamailio" ]; then
  echo "$dir"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "kamailio-version.sh: debootstrap absent (apt-get install debootstrap)" >&2; exit 1; }
mkdir -p "$base"
# one builder at a time per suite (tests in parallel may call this together)
exec 9>"$base/.lock"
flock 9
if [ -f "$base/.ready" ] && [ -x "$dir/kamailio" ]; then echo "$dir"; exit 0; fi

start=$(date +%s)
if [ ! -f "$base/.debootstrapped" ]; then
  rm -rf "$root"
  for attempt in 1 2 3; do
    if debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$base/debootstrap.log" 2>&1; then break; fi
    echo "kamailio-version.sh: debootstrap $suite attempt $attempt failed (see $base/debootstrap.log)" >&2
    [ "$attempt" = 3 ] && exit 1
    rm -rf "$root"
    sleep 5
  done
  touch "$base/.debootstrapped"
fi
echo "kamailio-version.sh: $suite debootstrap done in $(( $(date +%s) - start )) s" >&2

# no daemons start inside the chroot while packages install
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
mount --bind /proc "$root/proc" 2>/dev/null || true
trap 'umount "$root/proc" 2>/dev/null || true' EXIT
t1=$(date +%s)
ok=0
for attempt in 1 2 3 4 5; do
  # sid's first install sometimes fails on a half-synced mirror or a dependency in transition: retry
  if chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive sh -c \
      "apt-get -o Acquire::Check-Valid-Until=false update && apt-get install -y --no-install-recommends $packages" >"$base/apt.log" 2>&1; then
    ok=1; break
  fi
  echo "kamailio-version.sh: apt-get in $suite attempt $attempt failed (tail of $base/apt.log):" >&2
  tail -3 "$base/apt.log" >&2
  chroot "$root" sh -c "dpkg --configure -a; apt-get -f install -y" >>"$base/apt.log" 2>&1 || true
  sleep 10
done
[ "$ok" = 1 ] || exit 1
chroot "$root" apt-get clean >/dev/null 2>&1 || true
umount "$root/proc" 2>/dev/null || true
trap - EXIT
echo "kamailio-version.sh: $suite packages done in $(( $(date +%s) - t1 )) s" >&2

mkdir -p "$dir"
cat >"$dir/run-in-root.tmp" <<EOF
#!/bin/sh
# runs a command inside the $suite chroot with the host's /tmp, /proc, /dev, /run in a private mount
# namespace (unshare -m: the bind mounts vanish with the process, nothing leaks to the host's mounts)
exec unshare -m --propagation private sh -c '
  r=$root
  for d in /tmp /proc /dev /run; do mount --rbind "\$d" "\$r\$d"; done
  exec chroot "\$r" "\$@"' run-in-root "\$@"
EOF
chmod 755 "$dir/run-in-root.tmp"
mv "$dir/run-in-root.tmp" "$dir/run-in-root"
write_wrappers "$dir" "$root"
"$dir/kamailio" -v | head -1 >"$base/version"
touch "$base/.ready"
echo "kamailio-version.sh: $suite ready ($(cat "$base/version")) in $(( $(date +%s) - start )) s" >&2
echo "$dir"
