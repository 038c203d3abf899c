#!/usr/bin/env bash
# `make test` on a clean Debian, in a chroot: tools/test-debian.sh [bookworm|trixie]
#
# The minimal base system (debootstrap --variant=minbase, plus make and ca-certificates) is built
# once and kept as build/debian-SUITE-base.tar. Every run unpacks it afresh into
# build/chroot-SUITE, copies a clean checkout in (git archive HEAD: committed work only), gives it
# this machine's apt sources (its Debian mirror, moved to SUITE), apt acquire settings, pip
# configuration and CA certificates, and runs `make test` inside as root. Downloaded .debs and
# wheels are kept in build/cache-SUITE so a second run downloads nothing; REUSE=1 keeps the last
# run's chroot, Debian packages installed, and only replaces the checkout. The mounts live in a
# private mount and PID namespace: they and every process started inside end with the run.
# Exit status: that of `make test` (or of `make $TARGET`).
set -euo pipefail

SUITE=${1:-bookworm}
TARGET=${TARGET:-test} # another make target (e.g. screenshot: `make run`'s set-up, headless)
case $SUITE in
	bookworm | trixie) ;;
	*) echo "test-debian: SUITE must be bookworm or trixie, not '$SUITE'" >&2; exit 2 ;;
esac
if [ "$(id -u)" != 0 ]; then
	exec sudo --preserve-env "$0" "$@"
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
BASE=$BUILD/debian-$SUITE-base.tar
CHROOT=$BUILD/chroot-$SUITE
CACHE=$BUILD/cache-$SUITE
HOSTPY=/usr/bin/python3
HOSTCFG="$HOSTPY $ROOT/tools/host_config.py"

log() { printf '\n== test-debian %s: %s (%s)\n' "$SUITE" "$*" "$(date +%T)"; }

mounted_under() { # mount points at or below $1 in this mount namespace, deepest first
	awk -v p="$1" '$2 == p || index($2, p "/") == 1 { print $2 }' /proc/self/mounts | sort -r
}

unmount_all() {
	local m
	for m in $(mounted_under "$CHROOT"); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
}

# -- inside the private namespace: mount, run, unmount --------------------------------------
in_namespace() {
	trap unmount_all EXIT
	mount -t proc proc "$CHROOT/proc"
	mount -t sysfs -o ro sysfs "$CHROOT/sys" 2>/dev/null || mount --rbind -o ro /sys "$CHROOT/sys"
	mount --bind /dev "$CHROOT/dev"
	mount --bind /dev/pts "$CHROOT/dev/pts"
	mount -t tmpfs -o mode=1777,size=2g tmpfs "$CHROOT/dev/shm"
	mkdir -p "$CACHE/apt" "$CACHE/pip" "$CHROOT/var/cache/apt/archives" "$CHROOT/root/.cache/pip"
	mount --bind "$CACHE/apt" "$CHROOT/var/cache/apt/archives"
	mount --bind "$CACHE/pip" "$CHROOT/root/.cache/pip"
	# Local package directories named in pip's configuration (find-links, file:// indexes).
	while read -r dir; do
		[ -n "$dir" ] || continue
		mkdir -p "$CHROOT$dir"
		mount --bind "$dir" "$CHROOT$dir"
		mount -o remount,bind,ro "$CHROOT$dir"
	done < <($HOSTCFG pip-paths)

	env_args=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
		LANG=C.UTF-8 TERM="${TERM:-dumb}" DEBIAN_FRONTEND=noninteractive)
	while IFS= read -r var; do # pip settings and the processor quirks some OpenBLAS builds need
		env_args+=("$var")
	done < <(env | grep -E '^(PIP_[A-Z_]*|OPENBLAS_CORETYPE|OPENBLAS_L2_SIZE|CI)=' || true)
	log "make $TARGET"
	set +e
	# Ctrl+C and Ctrl+\ as in a terminal, even when this run was started in the background
	# (which ignores them): tests send SIGINT to a child and expect it to cancel.
	chroot "$CHROOT" /usr/bin/env -i --default-signal=INT,QUIT "${env_args[@]}" \
		/bin/bash -c "cd /root/gridhall && make $TARGET"
	status=$?
	set -e
	log "make $TARGET exited with $status"
	return $status
}

# -- outside: base system, fresh chroot, configuration ---------------------------------------
main() {
started=$(date +%s)
command -v debootstrap >/dev/null || {
	log "installing debootstrap"
	apt-get install -y -qq debootstrap || { apt-get update -qq && apt-get install -y -qq debootstrap; }
}
mkdir -p "$BUILD"

if [ -n "$(mounted_under "$CHROOT")" ]; then
	echo "test-debian: something is still mounted under $CHROOT; not touching it:" >&2
	mounted_under "$CHROOT" >&2
	exit 1
fi

if [ ! -s "$BASE" ]; then
	mirror=$($HOSTCFG mirror)
	log "building the base system from this machine's Debian mirror"
	tmp=$BUILD/base-$SUITE.tmp
	rm -rf --one-file-system "$tmp"
	debootstrap --variant=minbase --include=ca-certificates,make "$SUITE" "$tmp" "$mirror"
	rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_Packages
	tar -C "$tmp" -cf "$BASE.part" . && mv "$BASE.part" "$BASE"
	rm -rf --one-file-system "$tmp"
fi

if [ "${REUSE:-}" = 1 ] && [ -f "$CHROOT/.test-debian" ]; then
	log "reusing the chroot of the last run (REUSE=1): only the checkout is new"
	rm -rf --one-file-system "$CHROOT/root/gridhall"
else
	log "unpacking a fresh chroot"
	rm -rf --one-file-system "$CHROOT"
	mkdir -p "$CHROOT"
	tar -C "$CHROOT" -xf "$BASE"
fi

# apt: this machine's Debian mirror (suites moved to SUITE) and its acquire settings.
rm -f "$CHROOT"/etc/apt/sources.list "$CHROOT"/etc/apt/sources.list.d/*
$HOSTCFG sources "$SUITE" >"$CHROOT/etc/apt/sources.list.d/debian.sources"
for f in /etc/apt/apt.conf.d/*; do
	if [ -f "$f" ] && grep -q '^[[:space:]]*Acquire' "$f"; then cp "$f" "$CHROOT/etc/apt/apt.conf.d/"; fi
done
[ -d /etc/apt/auth.conf.d ] && cp -r /etc/apt/auth.conf.d/. "$CHROOT/etc/apt/auth.conf.d/"
# No daemon starts inside (postgresql's postinst would start a server on the shared network).
printf '#!/bin/sh\nexit 101\n' >"$CHROOT/usr/sbin/policy-rc.d"
chmod 755 "$CHROOT/usr/sbin/policy-rc.d"

# CA certificates (this machine's own ones too), name resolution.
cp -r /usr/local/share/ca-certificates/. "$CHROOT/usr/local/share/ca-certificates/" 2>/dev/null || true
chroot "$CHROOT" /usr/sbin/update-ca-certificates >/dev/null
cp /etc/resolv.conf /etc/hosts "$CHROOT/etc/"

# pip: the configuration files (PIP_* variables are passed in at run time).
while read -r f; do
	[ -n "$f" ] || continue
	mkdir -p "$CHROOT$(dirname "$f")"
	cp "$f" "$CHROOT$f"
done < <($HOSTCFG pip-files)
for d in /etc/xdg/pip; do # files the configuration points at (constraints)
	[ -d "$d" ] && mkdir -p "$CHROOT$d" && cp -r "$d/." "$CHROOT$d/"
done

# A clean checkout: what is committed at HEAD, nothing else.
mkdir -p "$CHROOT/root/gridhall"
git -C "$ROOT" archive --format=tar HEAD | tar -C "$CHROOT/root/gridhall" -x
log "checkout of $(git -C "$ROOT" rev-parse --short HEAD) copied in"
touch "$CHROOT/.test-debian"

set +e
unshare --mount --propagation private --pid --fork --kill-child -- "$ROOT/tools/test-debian.sh" "$SUITE" --in-namespace
status=$?
set -e
log "done in $(($(date +%s) - started)) s, exit status $status"
return $status
}

# Everything above is parsed before anything runs: editing this file during a run is harmless.
if [ "${2:-}" = "--in-namespace" ]; then in_namespace; exit; else main; exit; fi
