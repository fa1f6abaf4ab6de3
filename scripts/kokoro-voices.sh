#!/usr/bin/env bash
# Kokoro's 54 voice style files from the npm registry (kokoro-js, Apache-2.0), checked by the
# tarball's hash, into DEST/voices. Installs Debian's npm only where no npm is on the PATH.
set -euo pipefail
DEST="$1"
PACKAGE="kokoro-js@1.2.1"
SHA256="1f0d0383ef0349af0bd9440d81dc12abbea3a5392eb645283eda876f537f5860"
if ! command -v npm >/dev/null; then
  bash "$(dirname "$0")/apt-ensure.sh" npm
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$PACKAGE" >/dev/null)
tarball="$(ls "$work"/*.tgz)"
echo "$SHA256  $tarball" | sha256sum --check --quiet
mkdir -p "$work/x" "$DEST"
tar -xzf "$tarball" -C "$work/x" package/voices
count="$(ls "$work/x/package/voices"/*.bin | wc -l)"
if [ "$count" -ne 54 ]; then
  echo "expected 54 Kokoro voices in $PACKAGE, found $count" >&2
  exit 1
fi
rm -rf "$DEST/voices.new"
mv "$work/x/package/voices" "$DEST/voices.new"
rm -rf "$DEST/voices"
mv "$DEST/voices.new" "$DEST/voices"
echo "Kokoro voices: $count files in $DEST/voices"
