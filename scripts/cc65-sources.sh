#!/usr/bin/env bash
# Fetches cc65's source package from Debian (its test/asm cases and its libsrc
# runtime are the assembler's third-party corpus) and unpacks it outside the
# repository, into $HYPER6502_CC65_SRC (default: $TMPDIR/hyper6502-cc65-src).
# The tests read the same variable. Nothing of it is committed.
set -euo pipefail
dest="${HYPER6502_CC65_SRC:-${TMPDIR:-/tmp}/hyper6502-cc65-src}"
if [ -f "$dest/test/asm/cpudetect.s" ] && [ -d "$dest/libsrc/runtime" ]; then
  echo "cc65 sources: $dest (already there)"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' > "$work/debsrc.sources"
apt_src=(-o APT::Sandbox::User=root -o Dir::Etc::sourcelist="$work/debsrc.sources" -o Dir::Etc::sourceparts=- -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache")
mkdir -p "$work/lists/partial" "$work/cache"
apt-get "${apt_src[@]}" update -qq
# The .orig tarball is all that is needed (the .debian part may be missing from the mirror).
(cd "$work" && apt-get "${apt_src[@]}" source --download-only cc65 >/dev/null 2>&1 || true)
tarball="$(ls "$work"/cc65_*.orig.tar.gz 2>/dev/null | head -1)"
if [ -z "$tarball" ]; then
  echo "cc65 sources: could not download cc65's source package from Debian" >&2
  exit 1
fi
mkdir -p "$dest"
tar xzf "$tarball" -C "$dest" --strip-components=1
echo "cc65 sources: $dest ($(basename "$tarball"))"
