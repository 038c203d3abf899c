#!/usr/bin/env bash
# Install the Debian packages GridHall needs that are missing: tools/setup-apt.sh PACKAGE...
#
# Besides the packages named, it installs the distribution's default PostgreSQL (`postgresql`)
# and the PostGIS package for that major (postgresql-N-postgis-M), whatever N is on this
# release. When everything is installed it answers from dpkg alone: no `apt-get update`.
# Runs apt-get through sudo when not root.
set -euo pipefail

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

installed() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed'; }

# The major of the distribution's default PostgreSQL: what the `postgresql` metapackage depends
# on, installed (dpkg) or candidate (apt-cache).
pg_major() {
	{
		if installed postgresql; then
			dpkg-query -W -f='${Depends}\n' postgresql | tr ',' '\n'
		else
			apt-cache depends postgresql 2>/dev/null | sed -n 's/^ *Depends: //p'
		fi
	} | sed -n 's/^ *postgresql-\([0-9][0-9.]*\)\( .*\)\{0,1\}$/\1/p' | sort -V | tail -1
}

# The PostGIS extension package for PostgreSQL $1: an installed one first, else the newest the
# archive has (postgresql-N-postgis-M; not the -scripts package), else the virtual name.
postgis_package() {
	local major=$1 name
	name=$(dpkg-query -W -f='${Package} ${Status}\n' "postgresql-$major-postgis-*" 2>/dev/null |
		awk '$NF == "installed" && $1 !~ /-scripts$/ { print $1 }' | sort -V | tail -1)
	if [ -z "$name" ]; then
		name=$(apt-cache pkgnames "postgresql-$major-postgis-" 2>/dev/null | grep -E "^postgresql-$major-postgis-[0-9.]+$" |
			sort -V | tail -1 || true)
	fi
	if [ -z "$name" ] && apt-cache show postgresql-postgis >/dev/null 2>&1; then
		name=postgresql-postgis
	fi
	echo "$name"
}

resolve() { # prints the full package list, or fails when the archive does not know PostgreSQL/PostGIS
	local major postgis
	major=$(pg_major)
	[ -n "$major" ] || return 1
	postgis=$(postgis_package "$major")
	[ -n "$postgis" ] || return 1
	echo "$@" postgresql "$postgis"
}

missing_of() {
	local p
	for p in "$@"; do installed "$p" || echo "$p"; done
}

updated=
if ! packages=$(resolve "$@"); then
	echo "Reading the package lists (apt-get update)"
	$SUDO apt-get update -qq
	updated=1
	packages=$(resolve "$@") || {
		echo "setup-apt: this release has no PostgreSQL with PostGIS in its package lists" >&2
		exit 1
	}
fi
# shellcheck disable=SC2086
missing=$(missing_of $packages | xargs)
[ -n "$missing" ] || exit 0

echo "Installing Debian packages: $missing"
[ -n "$updated" ] || $SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
