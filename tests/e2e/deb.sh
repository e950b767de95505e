#!/usr/bin/env bash
# End-to-end: the Debian package (`make deb`, or DEB=path) installed into a
# clean directory with `dpkg --root --force-script-chrootless`: the
# maintainer scripts run on this machine but every path they touch is under
# $DPKG_ROOT (users from the root's own /etc/passwd, no systemd calls),
# while stubs stand in for systemctl and deb-systemd-invoke and the host's
# user databases are compared before and after. Checked: files, modes and
# owners, the installed `mlc version` and `mlc config check` (the template
# fails, filled in it passes), an upgrade that keeps the edited config,
# lintian, then purge. A repacked package with a wrong mode must be noticed.
set -u

. "$(dirname "$0")/lib/common.bash"
E2E_NO_MLC=1 e2e_init deb

skip_all() { echo "1..0 # SKIP $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip_all "not root: dpkg --root needs to set owners"
# make deb packages a release build whatever suite runs: the release suite
# tests that package, the ASan suite would only build it again.
case "${BUILD:-}" in
    */asan) skip_all "the package holds the release build, tested by the release suite" ;;
esac
for t in dpkg dpkg-deb; do
    command -v "$t" >/dev/null || skip_all "$t is missing"
done
if [ -z "${DEB:-}" ]; then
    for t in dpkg-buildpackage dh; do
        command -v "$t" >/dev/null || skip_all "$t is missing (scripts/install-deps installs it)"
    done
fi

version=$(cat "$ROOT/VERSION")
if [ -z "${DEB:-}" ]; then
    require "make deb builds the package" \
        sh -c 'make -C "$0" --no-print-directory -s deb DEB_DIR="$1" >"$1.log" 2>&1 || { tail -n 30 "$1.log"; exit 1; }' \
        "$ROOT" "$tmp/deb"
    for f in "$tmp"/deb/ml-connector_"$version"_*.deb; do DEB="$f"; done
fi
require "the package is ml-connector_${version}_ARCH.deb" test -f "${DEB:-/nonexistent}"

# ---- a clean root, stubs, the host's users -----------------------------------

stubs="$tmp/stubs"; calls="$tmp/stub-calls.txt"; : > "$calls"
mkdir -p "$stubs"
for s in systemctl deb-systemd-invoke adduser addgroup useradd groupadd deluser userdel; do
    printf '#!/bin/sh\necho "%s $*" >> "%s"\n' "$s" "$calls" > "$stubs/$s"
    chmod 0755 "$stubs/$s"
done
host_users() { cat /etc/passwd /etc/group 2>/dev/null | sha256sum; }
host_before=$(host_users)

# new_root DIR: the least dpkg needs (its database) and /etc.
new_root() {
    mkdir -p "$1/var/lib/dpkg/info" "$1/var/lib/dpkg/updates" "$1/etc"
    : > "$1/var/lib/dpkg/status"; : > "$1/var/lib/dpkg/available"
}
# dpkg_in ROOT ARGS...: dpkg on that root; its output appended to $tmp/dpkg.out.
dpkg_in() {
    local r="$1"; shift
    PATH="$stubs:$PATH" dpkg --root="$r" --force-script-chrootless --force-depends \
        --log="$tmp/dpkg.log" "$@" >>"$tmp/dpkg.out" 2>&1
}

# mode_owner ROOT PATH: "MODE USER GROUP" with names from the root's databases.
mode_owner() {
    local r="$1" p="$2" st u g
    st=$(stat -c '%a %u %g' "$r$p" 2>/dev/null) || { echo "missing"; return; }
    # shellcheck disable=SC2086 # three fields, split on purpose
    set -- $st
    u=$(awk -F: -v id="$2" '$3 == id { print $1; exit }' "$r/etc/passwd" 2>/dev/null)
    g=$(awk -F: -v id="$3" '$3 == id { print $1; exit }' "$r/etc/group" 2>/dev/null)
    # A clean root's databases have no root entries: id 0 is root.
    [ "$2" = 0 ] && u=root
    [ "$3" = 0 ] && g=root
    echo "$1 ${u:-$2} ${g:-$3}"
}
is() { # ROOT PATH "MODE USER GROUP"
    local got; got=$(mode_owner "$1" "$2")
    [ "$got" = "$3" ] || { echo "# $2: $got, expected $3"; return 1; }
}

r="$tmp/root"
new_root "$r"
require "dpkg --root installs it into a clean root" dpkg_in "$r" -i "$DEB"
sed 's/^/# /' "$tmp/dpkg.out" | grep -v 'depends on\|is not installed' | head -n 30

# ---- what it installed -------------------------------------------------------

check "the mlc system user and group, no login" \
    grep -q '^mlc:x:[0-9]*:[0-9]*:[^:]*:/var/lib/mlc:/usr/sbin/nologin$' "$r/etc/passwd"
check "/usr/bin/mlc 0755 root" is "$r" /usr/bin/mlc "755 root root"
check "/etc/mlc/mlc.yaml 0640 root:mlc" is "$r" /etc/mlc/mlc.yaml "640 root mlc"
check "/etc/mlc 0750 root:mlc" is "$r" /etc/mlc "750 root mlc"
check "/var/lib/mlc 0700 mlc:mlc" is "$r" /var/lib/mlc "700 mlc mlc"
check "the master key /var/lib/mlc/mlc.key 0600 mlc" is "$r" /var/lib/mlc/mlc.key "600 mlc mlc"
unit=""
for u in /lib/systemd/system/mlc.service /usr/lib/systemd/system/mlc.service; do
    [ -f "$r$u" ] && unit="$r$u"
done
check "the unit is installed" test -n "$unit"
check "... runs /usr/bin/mlc run, after a config check (ExecStartPre)" \
    sh -c 'grep -qx "ExecStartPre=/usr/bin/mlc config check /etc/mlc/mlc.yaml" "$0" &&
           grep -q "^ExecStart=/usr/bin/mlc run " "$0"' "${unit:-/nonexistent}"
check "... and is enabled" test -L "$r/etc/systemd/system/multi-user.target.wants/mlc.service"
check "mlc(1) and mlc.yaml(5)" \
    test -s "$r/usr/share/man/man1/mlc.1.gz" -a -s "$r/usr/share/man/man5/mlc.yaml.5.gz"
check "the bash completion" test -s "$r/usr/share/bash-completion/completions/mlc"
check "copyright and changelog" \
    test -s "$r/usr/share/doc/ml-connector/copyright" -a -s "$r/usr/share/doc/ml-connector/changelog.gz"

# ---- the installed binary ----------------------------------------------------

check "the installed mlc version says $version" \
    sh -c '"$0/usr/bin/mlc" version | grep -qx "mlc $1"' "$r" "$version"
conf="$r/etc/mlc/mlc.yaml"
"$r/usr/bin/mlc" config check "$conf" >"$tmp/check.out" 2>&1; rc=$?
sed 's/^/# /' "$tmp/check.out"
check "the fresh config fails mlc config check (exit 1)" test "$rc" = 1
check "... naming the store hash and the go-live cutover to fill in" \
    sh -c 'grep -q "bigcommerce.store_hash" "$0" && grep -q "orders.start" "$0"' "$tmp/check.out"
check "postinst said the service is enabled but not started" \
    grep -q 'mlc.service is enabled but NOT started' "$tmp/dpkg.out"
check "the state lives under /var/lib/mlc (the unit writes only there)" \
    sh -c 'grep -qx "  url: \"/var/lib/mlc/mlc.db\"" "$0" &&
           grep -qx "  master_key_file: \"/var/lib/mlc/mlc.key\"" "$0"' "$conf"

sed -i -e 's#^\(  store_hash: \)""#\1"abc123def4"#' \
       -e 's#^\(  start: \)""#\1"2025-07-01T00:00:00+00:00"#' "$conf"
quiet() { "$@" >/dev/null 2>&1; }
check "filled in, it passes mlc config check" quiet "$r/usr/bin/mlc" config check "$conf"
cp -p "$conf" "$tmp/edited.yaml"

# ---- upgrade (the same version again): the operator's config stays -----------

: > "$tmp/dpkg.out"
check "installing it again (an upgrade) succeeds" dpkg_in "$r" -i "$DEB"
check "... keeps the edited config, byte for byte" cmp -s "$conf" "$tmp/edited.yaml"
check "... and its mode and owner" is "$r" /etc/mlc/mlc.yaml "640 root mlc"
check "... and says nothing about an invalid config" \
    sh -c '! grep -q "NOT started" "$0"' "$tmp/dpkg.out"
check "no service was started or stopped (no deb-systemd-invoke)" \
    sh -c '! grep -q "^deb-systemd-invoke\|^systemctl \(start\|restart\|enable\)" "$0"' "$calls"
check "no user tool ran on the host, its users are untouched" \
    sh -c '! grep -q "user\|group" "$0" && [ "$1" = "$2" ]' "$calls" "$host_before" "$(host_users)"

# ---- lintian -------------------------------------------------------------------

if command -v lintian >/dev/null; then
    lintian --fail-on error "$DEB" >"$tmp/lintian.out" 2>&1; rc=$?
    grep -v 'running with root privileges' "$tmp/lintian.out" | sed 's/^/# /'
    check "lintian: no errors" test "$rc" = 0
else
    not_ok "lintian is not installed (scripts/install-deps installs it)"
fi

# ---- purge -----------------------------------------------------------------------

check "dpkg --purge removes it" dpkg_in "$r" --purge ml-connector
check "/etc/mlc and /var/lib/mlc are gone" test ! -e "$r/etc/mlc" -a ! -e "$r/var/lib/mlc"
# Left, as policy allows: dpkg's database, the mlc user (files it owned may
# remain elsewhere: its id is not for reuse), empty shared directories.
find "$r" \( -path "$r/var/lib/dpkg" -prune \) -o ! -type d -print | sed "s#^$r##" |
    grep -vx '/etc/passwd\|/etc/group\|/etc/shadow\|/etc/gshadow\|/etc/\.pwd\.lock' > "$tmp/left.txt"
sed 's/^/# left: /' "$tmp/left.txt"
check "nothing else is left but the mlc user" test ! -s "$tmp/left.txt"
check "... which stays in the root's passwd" grep -q '^mlc:' "$r/etc/passwd"
check "dpkg forgot it" sh -c '! grep -q "^Package: ml-connector$" "$0"' "$r/var/lib/dpkg/status"

# ---- a broken package is noticed ---------------------------------------------------

# The same package with postinst making the config 0644: the checks above
# must catch it.
bad="$tmp/bad"
mkdir -p "$bad"
dpkg-deb -R "$DEB" "$bad/pkg"
sed -i 's/install -m 0640 -o 0/install -m 0644 -o 0/' "$bad/pkg/DEBIAN/postinst"
dpkg-deb -b "$bad/pkg" "$bad/bad.deb" >/dev/null 2>&1
new_root "$bad/root"
check "a repacked package whose postinst writes the config 0644 installs" dpkg_in "$bad/root" -i "$bad/bad.deb"
isnt() { ! is "$@" >/dev/null; }
check "... and the mode check notices it" isnt "$bad/root" /etc/mlc/mlc.yaml "640 root mlc"
e2e_done
