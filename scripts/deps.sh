#!/usr/bin/env bash
# Installs what sluice needs to build and test, and nothing that is already there.
#
#  - Debian packages through apt-get (run as root on Debian 12);
#  - DuckDB from the npm registry: libduckdb.so from @duckdb/node-bindings-linux-x64 and
#    duckdb.h from the duckdb package, exact versions pinned, tarball integrity (sha512)
#    checked before anything is unpacked into .deps/duckdb (git-ignored).
#
# A second run finds everything in place and prints one line.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PKGS=(
  build-essential pkg-config clang libclang-rt-14-dev
  libh2o-evloop-dev libssl-dev zlib1g-dev libyaml-dev libedit-dev librdkafka-dev
  libsnappy-dev libzstd-dev
  kcat wrk apache2-utils nginx-light curl python3 npm
  chromium chromium-driver openssl ca-certificates procps tmux bsdutils
)

DUCKDB_VERSION=1.4.4
DUCKDB_LIB_PKG="@duckdb/node-bindings-linux-x64@1.4.4-r.4"
DUCKDB_LIB_SHA512="sha512-jBTL/WvfwxLToFa/pVHfT6elMtltJGnc3wSuxZD9OfMltit9YUdVFS37vBFQzXMT1Z8OWjtSjMh+zPKxOwHLHA=="
DUCKDB_HDR_PKG="duckdb@1.4.4"
DUCKDB_HDR_SHA512="sha512-hEJJ5hyVF0VLj3dmOLpsWrQR0b3d4Ykqtygm6iUXjHJDDnSqg/USKxcb5qvNrOhFYPgktayU6dXCtgPqcmmpog=="

say() { printf 'deps: %s\n' "$*" >&2; }

missing=()
for p in "${DEB_PKGS[@]}"; do
  # node/npm may come from elsewhere than Debian (a developer machine): a working npm is enough.
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    say "missing Debian packages: ${missing[*]}; run as root or install them with apt-get"
    exit 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The benchmarks start nginx themselves on a loopback port; the packaged service is not wanted.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
  systemctl stop nginx >/dev/null 2>&1 || true
fi

DEPS_DIR=.deps
stamp="$DEPS_DIR/duckdb/.version"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$DUCKDB_VERSION" ] \
   && [ -f "$DEPS_DIR/duckdb/lib/libduckdb.so" ] && [ -f "$DEPS_DIR/duckdb/include/duckdb.h" ]; then
  say "all present (DuckDB $DUCKDB_VERSION in $DEPS_DIR/duckdb)"
  exit 0
fi

dl="$DEPS_DIR/download"
mkdir -p "$dl"
fetch() { # package@version, expected integrity -> prints the tarball path
  local spec=$1 want=$2 file got
  file=$(cd "$dl" && npm pack --silent "$spec" 2>/dev/null | tail -n 1)
  [ -n "$file" ] && [ -f "$dl/$file" ] || { say "npm pack $spec failed"; exit 1; }
  got="sha512-$(openssl dgst -sha512 -binary "$dl/$file" | base64 -w0)"
  if [ "$got" != "$want" ]; then
    say "integrity mismatch for $spec: expected $want, got $got"
    rm -f "$dl/$file"
    exit 1
  fi
  printf '%s\n' "$dl/$file"
}

say "fetching DuckDB $DUCKDB_VERSION from the npm registry"
lib_tgz=$(fetch "$DUCKDB_LIB_PKG" "$DUCKDB_LIB_SHA512")
hdr_tgz=$(fetch "$DUCKDB_HDR_PKG" "$DUCKDB_HDR_SHA512")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$lib_tgz" -C "$tmp" package/libduckdb.so
tar -xzf "$hdr_tgz" -C "$tmp" package/src/duckdb/src/include/duckdb.h
rm -rf "$DEPS_DIR/duckdb"
mkdir -p "$DEPS_DIR/duckdb/lib" "$DEPS_DIR/duckdb/include"
mv "$tmp/package/libduckdb.so" "$DEPS_DIR/duckdb/lib/"
mv "$tmp/package/src/duckdb/src/include/duckdb.h" "$DEPS_DIR/duckdb/include/"
printf '%s\n' "$DUCKDB_VERSION" > "$stamp"
rm -f "$lib_tgz" "$hdr_tgz"
say "DuckDB $DUCKDB_VERSION unpacked into $DEPS_DIR/duckdb"
