#!/usr/bin/env bash
# Downloads, on a Debian 12 machine with apt (this project's own machines), the Debian packages
# that bench/device/run.sh unpacks on the GPU machine, which has no package registry: the OpenCL
# ICD loader and headers, Criterion and the libraries it links that a generic machine may lack,
# CLBlast, clinfo and pkg-config. They go to bench/device/debs/ (git-ignored; the device tool
# carries it only when its `carry` names it). Nothing is installed. A second run downloads only
# what changed and removes .debs that are no longer wanted.
#
# usage: bash scripts/fetch-device-debs.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

dest=bench/device/debs

# Always unpacked and used by run.sh: what the build and the tests link and include.
primary=(
    ocl-icd-libopencl1   # libOpenCL.so.1: the ICD loader (honours OCL_ICD_VENDORS)
    ocl-icd-opencl-dev   # libOpenCL.so, OpenCL.pc
    opencl-c-headers     # CL/*.h
    opencl-clhpp-headers # CL/opencl.hpp (opencl-headers depends on it)
    opencl-headers       # the metapackage of the two
    libcriterion3        # libcriterion.so.3
    libcriterion-dev     # criterion/*.h, libcriterion.so
    libclblast1          # CLBlast, for the dense layer to come
    libclblast-dev
    clinfo               # optional: the full device report
)
# Used by run.sh only where the machine lacks the library (soname not in `ldconfig -p`):
# libcriterion.so.3 links libffi, libgit2 and libnanomsg; libgit2 links mbedtls, http-parser,
# libssh2 and MIT Kerberos. libc, libz, libpcre2-8 and libcrypto.so.3 are assumed present (any
# glibc >= 2.34 machine, which these Debian 12 libraries need anyway, has them). pkgconf: the
# install.consumer test runs pkg-config.
fallback=(
    libffi8 libnanomsg5 libgit2-1.5
    libmbedtls14 libmbedx509-1 libmbedcrypto7 libhttp-parser2.9 libssh2-1
    libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2 libkeyutils1
    pkgconf pkgconf-bin libpkgconf3
)
packages=("${primary[@]}" "${fallback[@]}")

if [ "$(id -u)" -ne 0 ] && ! command -v apt-get >/dev/null 2>&1; then
    echo "fetch-device-debs: needs apt-get (Debian 12)" >&2
    exit 1
fi

mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The files the current candidates would be: `apt-get download --print-uris` in an empty
# folder prints "'URI' FILE SIZE SHA256:HASH" for each (and nothing for files already in cwd).
uris() { (cd "$tmp" && apt-get download --print-uris "${packages[@]}"); }
if ! uris >"$tmp/uris" 2>"$tmp/err" || [ ! -s "$tmp/uris" ]; then
    echo "fetch-device-debs: package lists missing or stale; apt-get update"
    apt-get update -qq
    uris >"$tmp/uris"
fi
[ "$(wc -l <"$tmp/uris")" -eq "${#packages[@]}" ] ||
    { echo "fetch-device-debs: apt found $(wc -l <"$tmp/uris") of ${#packages[@]} packages" >&2; exit 1; }

# Remove what is no longer wanted (an older version, a dropped package).
wanted=$(awk '{print $2}' "$tmp/uris")
for f in "$dest"/*.deb; do
    [ -e "$f" ] || continue
    grep -qxF "$(basename "$f")" <<<"$wanted" || { echo "removing stale $(basename "$f")"; rm -f "$f"; }
done

# Download what is missing or does not match its hash (apt-get download skips good files).
missing=()
while read -r _uri file _size hash; do
    if [ -f "$dest/$file" ] && [ "sha256:$(sha256sum "$dest/$file" | cut -d' ' -f1)" = "${hash,,}" ]; then
        continue
    fi
    rm -f "$dest/$file"
    missing+=("${file%%_*}")
done <"$tmp/uris"
if [ ${#missing[@]} -gt 0 ]; then
    echo "downloading ${missing[*]}"
    # As root, apt's sandbox user cannot write into a root-owned folder: download as root.
    (cd "$dest" && apt-get download -q -o APT::Sandbox::User=root "${missing[@]}")
fi

# A manifest that run.sh prints: role, package, version, file, size.
{
    echo "# role package version file bytes (scripts/fetch-device-debs.sh, $(date -u +%Y-%m-%d))"
    for pkg in "${packages[@]}"; do
        role=fallback
        for p in "${primary[@]}"; do [ "$p" = "$pkg" ] && role=primary; done
        file=$(awk -v p="$pkg" '{split($2, a, "_")} a[1] == p {print $2}' "$tmp/uris")
        version=$(dpkg-deb -f "$dest/$file" Version)
        echo "$role $pkg $version $file $(stat -c %s "$dest/$file")"
    done
} >"$dest/MANIFEST"

# Sanity check: every library the unpacked files need is in the set or is a base library.
mkdir -p "$tmp/x"
for f in "$dest"/*.deb; do dpkg-deb -x "$f" "$tmp/x"; done
base='^(libc|libm|libdl|libpthread|librt|libresolv|ld-linux-x86-64|libstdc\+\+|libgcc_s|libz|libpcre2-8|libcrypto)\.so'
unresolved=$(find "$tmp/x" -type f \( -name '*.so*' -o -path '*/bin/*' \) -exec sh -c \
    'readelf -d "$1" 2>/dev/null | sed -n "s/.*(NEEDED).*\[\(.*\)\]/\1/p"' _ {} \; | sort -u |
    while read -r lib; do
        [ -n "$(find "$tmp/x" -name "$lib" -print -quit)" ] || grep -Eq "$base" <<<"$lib" || echo "$lib"
    done)
[ -z "$unresolved" ] || echo "fetch-device-debs: warning: needed but not fetched: $unresolved" >&2

count=$(find "$dest" -name '*.deb' | wc -l)
echo "fetch-device-debs: $count packages in $dest, $(du -cb "$dest"/*.deb | tail -1 | cut -f1) bytes ($(du -ch "$dest"/*.deb | tail -1 | cut -f1))"
