#!/usr/bin/env bash
# The Debian package test (ctest: package.debs, label package). Builds the packages with
# scripts/package.sh into WORK_DIR (its build folder is kept there, so a second run only rebuilds
# what changed), then, without touching the system:
#   - checks their metadata: names (the library's from its SONAME), versions, the dependencies
#     (the OpenCL ICD loader, libgomp, CLBlast, OpenBLAS), the shlibs and ldconfig trigger files,
#     every file in the package it belongs to and in one package only;
#   - asks apt (simulation) whether they install together on this system;
#   - unpacks them with dpkg -x into WORK_DIR/root and builds tests/consumer against that tree
#     alone, with find_package and pkg-config (tests/consumer/run.sh --prefix=...);
#   - runs the unpacked `leakycl check --device cpu`;
#   - runs lintian: any error fails the test, warnings are printed.
#
# usage: run.sh WORK_DIR VERSION [CMAKE [CC]]
set -euo pipefail

work=$(realpath -m "$1") # absolute: apt takes a relative path for a package name
version=$2
cmake=${3:-cmake}
cc=${4:-cc}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

step() { printf '== %s\n' "$*"; }
die() {
    printf 'package.debs: %s\n' "$*" >&2
    exit 1
}

for tool in dpkg dpkg-deb readelf lintian apt-get; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (bash scripts/setup.sh installs it)"
done

dist=$work/dist
root=$work/root
mkdir -p "$work"
step "scripts/package.sh --build $work/build --dist $dist --no-wheel"
bash "$src/scripts/package.sh" --build "$work/build" --dist "$dist" --no-wheel >"$work/package.log" 2>&1 ||
    { tail -n 60 "$work/package.log"; die "scripts/package.sh failed"; }

multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=usr/lib/$multiarch
debversion=$version-$(sed -n 's/^LEAKYCL_DEB_RELEASE:STRING=//p' "$work/build/CMakeCache.txt")

# The one .deb of package $1.
deb_of() {
    local found=("$dist/$1"_*.deb)
    [ ${#found[@]} = 1 ] && [ -f "${found[0]}" ] || die "expected one $1 package in $dist, found: ${found[*]}"
    printf '%s\n' "${found[0]}"
}
field() { dpkg-deb -f "$1" "$2"; }
# Whether the comma-separated relation field $2 of package $1 names $3 (as a whole word).
has_relation() {
    field "$1" "$2" | tr ',|' '\n\n' | sed 's/^ *//; s/ *(.*//; s/ *$//' | grep -qx -- "$3" ||
        die "$(basename "$1"): $2 does not name $3 (it is: $(field "$1" "$2"))"
}
# The paths a package holds, files and links, without the leading ./
contents() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\./||'; }

step "metadata"
debs=("$dist"/*.deb)
for deb in "${debs[@]}"; do
    name=$(field "$deb" Package)
    [ "$(field "$deb" Version)" = "$debversion" ] ||
        die "$name: version $(field "$deb" Version), expected $debversion"
    [ "$(basename "$deb")" = "${name}_${debversion}_$(field "$deb" Architecture).deb" ] ||
        die "$(basename "$deb"): not named as Debian names packages"
    [ "$(field "$deb" Source)" = leakycl ] || die "$name: Source is not leakycl"
    for doc in copyright changelog.Debian.gz; do
        contents "$deb" | grep -qx "usr/share/doc/$name/$doc" || die "$name lacks /usr/share/doc/$name/$doc"
    done
done

# The library package is named after the SONAME of the library it holds (Debian policy 8.1).
lib_deb=$(ls "$dist"/libleakycl[0-9]*_*.deb)
lib_name=$(field "$lib_deb" Package)
real_lib=$(contents "$lib_deb" | grep -x "$libdir/libleakycl\.so\.[0-9]*\.[0-9]*\.[0-9]*" || true)
[ -n "$real_lib" ] || die "$lib_name holds no libleakycl.so.X.Y.Z"
dev_deb=$(deb_of libleakycl-dev)
tools_deb=$(deb_of leakycl-tools)

# Depends, from dpkg-shlibdeps: the package of every library that libleakycl.so.N links, in the
# library's package and in the tools' (linked with the static library). CI builds have both BLAS
# libraries of the dense layer (a configure error otherwise), so there they must be linked too.
dpkg-deb --fsys-tarfile "$lib_deb" | tar -xO "./$real_lib" >"$work/library.so"
needed=$(readelf -d "$work/library.so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
if [ "${CI:-}" = true ]; then
    for lib in libclblast.so.1 libopenblas.so.0; do
        grep -qx "$lib" <<<"$needed" || die "CI build, but $lib_name does not link $lib"
    done
fi
dev_depends=(ocl-icd-opencl-dev opencl-c-headers)
for lib in $needed; do
    case $lib in
    libc.so.* | libm.so.* | ld-linux*.so.*) runtime=libc6 ;;
    libOpenCL.so.1) runtime=ocl-icd-libopencl1 ;;
    libgomp.so.1) runtime=libgomp1 ;;
    libclblast.so.1) runtime=libclblast1 dev_depends+=(libclblast-dev) ;;
    libopenblas.so.0) runtime=libopenblas0 dev_depends+=(libopenblas-dev) ;;
    *) die "$lib_name links $lib, which this test does not know" ;;
    esac
    has_relation "$lib_deb" Depends "$runtime"
    has_relation "$tools_deb" Depends "$runtime"
done
for lib in libOpenCL.so.1 libgomp.so.1; do
    grep -qx "$lib" <<<"$needed" || die "$lib_name does not link $lib"
done
for deb in "$lib_deb" "$tools_deb"; do
    has_relation "$deb" Recommends pocl-opencl-icd
    has_relation "$deb" Recommends opencl-icd
done
field "$dev_deb" Depends | grep -qF "$lib_name (= $debversion)" ||
    die "libleakycl-dev does not depend on $lib_name (= $debversion): $(field "$dev_deb" Depends)"
for dep in "${dev_depends[@]}"; do
    has_relation "$dev_deb" Depends "$dep"
done
[ "$(field "$lib_deb" Section)" = libs ] && [ "$(field "$dev_deb" Section)" = libdevel ] ||
    die "sections: $lib_name is in $(field "$lib_deb" Section), libleakycl-dev in $(field "$dev_deb" Section)"

dpkg-deb --ctrl-tarfile "$lib_deb" | tar -xO ./shlibs | grep -qx "libleakycl ${lib_name#libleakycl} $lib_name (>= $debversion)" ||
    die "$lib_name: the shlibs file does not name libleakycl ${lib_name#libleakycl} $lib_name"
dpkg-deb --ctrl-tarfile "$lib_deb" | tar -xO ./triggers | grep -qx "activate-noawait ldconfig" ||
    die "$lib_name does not activate the ldconfig trigger"

step "files in their packages"
# Each package holds exactly what it should: $1 the package, then one extended regex a file.
expect_files() {
    local deb=$1 name
    shift
    name=$(field "$deb" Package)
    local pattern
    for pattern in "$@" "usr/share/doc/$name/(copyright|changelog\.Debian\.gz|changelog\.gz)"; do
        contents "$deb" | grep -qEx -- "$pattern" || die "$name holds nothing like $pattern"
    done
    local file ok
    while read -r file; do
        ok=0
        for pattern in "$@" "usr/share/doc/$name/(copyright|changelog\.Debian\.gz|changelog\.gz)"; do
            if printf '%s\n' "$file" | grep -qEx -- "$pattern"; then ok=1; fi
        done
        [ $ok = 1 ] || die "$name holds $file, which belongs in another package"
    done < <(contents "$deb")
}
expect_files "$lib_deb" "$real_lib" "$libdir/libleakycl\.so\.${lib_name#libleakycl}"
expect_files "$dev_deb" usr/include/leakycl.h "$libdir/libleakycl\.a" "$libdir/libleakycl\.so" \
    "$libdir/pkgconfig/leakycl\.pc" "$libdir/cmake/leakycl/leakycl(Config|ConfigVersion|Targets|Targets-release)\.cmake"
expect_files "$tools_deb" usr/bin/leakycl usr/bin/leakycl-bench usr/share/man/man1/leakycl.1.gz \
    usr/share/man/man1/leakycl-bench.1.gz
# The OpenCV integration's pair, where the packaged build has it (LEAKYCL_BUILD_OPENCV).
if grep -q '^LEAKYCL_BUILD_OPENCV:BOOL=ON$' "$work/build/CMakeCache.txt"; then
    opencv_deb=$(ls "$dist"/libleakycl-opencv[0-9]*_*.deb) || die "the build has the OpenCV integration, but no libleakycl-opencvN package"
    expect_files "$opencv_deb" "$libdir/libleakycl_opencv\.so\.[0-9]+(\.[0-9]+\.[0-9]+)?"
    expect_files "$(deb_of libleakycl-opencv-dev)" usr/include/leakycl_opencv.hpp "$libdir/libleakycl_opencv\.so" \
        "$libdir/pkgconfig/leakycl-opencv\.pc" "$libdir/cmake/leakycl-opencv/leakycl-opencv[A-Za-z-]*\.cmake"
    field "$opencv_deb" Depends | grep -qF "$lib_name (= $debversion)" ||
        die "$(field "$opencv_deb" Package) does not depend on $lib_name (= $debversion)"
else
    step "no OpenCV integration in this build: no libleakycl-opencv packages"
fi
duplicates=$(for deb in "${debs[@]}"; do contents "$deb"; done | sort | uniq -d)
[ -z "$duplicates" ] || die "files in more than one package: $duplicates"

step "apt-get --simulate install ${debs[*]##*/}"
apt-get --simulate install "${debs[@]}" >"$work/apt.log" 2>&1 ||
    { cat "$work/apt.log"; die "the packages do not install together here"; }

step "dpkg -x into $root"
rm -rf "$root"
for deb in "${debs[@]}"; do
    dpkg -x "$deb" "$root"
done
soname_of() { readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'; }
# Every shared library a package holds (the OpenCV integration's too, where it is built) names
# its package: libfoo_bar.so.N -> libfoo-barN (libfoo2.so.N -> libfoo2-N).
for deb in "${debs[@]}"; do
    while read -r file; do
        [ -L "$root/$file" ] && continue
        name=$(soname_of "$root/$file")
        base=${name%%.so.*}
        base=${base//_/-}
        case $base in *[0-9]) base=$base- ;; esac
        [ "${base,,}${name##*.so.}" = "$(field "$deb" Package)" ] ||
            die "$(field "$deb" Package) holds $file, whose SONAME $name calls for package ${base,,}${name##*.so.}"
    done < <(contents "$deb" | grep -E "^$libdir/lib[^/]*\.so\.[0-9.]+$" || true)
done
soname=$(soname_of "$root/$real_lib")
[ "$soname" = "libleakycl.so.${lib_name#libleakycl}" ] || die "$lib_name holds a library whose SONAME is '$soname'"
[ "$(readlink "$root/$libdir/$soname")" = "$(basename "$real_lib")" ] || die "$libdir/$soname does not link to $real_lib"
[ "$(readlink "$root/$libdir/libleakycl.so")" = "$soname" ] || die "libleakycl.so does not link to $soname"

step "tests/consumer against $root/usr only"
export LD_LIBRARY_PATH=$root/$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
bash "$src/tests/consumer/run.sh" --prefix="$root/usr" "$work/consumer" "$cmake" "$cc"

step "the unpacked tools"
for tool in leakycl leakycl-bench; do
    ! ldd "$root/usr/bin/$tool" | grep -q "not found" || { ldd "$root/usr/bin/$tool"; die "$tool misses a library"; }
done
[ "$("$root/usr/bin/leakycl" --version)" = "leakycl $version" ] || die "leakycl --version is not 'leakycl $version'"
"$root/usr/bin/leakycl" check --device cpu --n 100003 >"$work/check.log" ||
    { cat "$work/check.log"; die "leakycl check --device cpu failed"; }
tail -n 1 "$work/check.log"

step "lintian"
status=0
lintian --fail-on error "${debs[@]}" >"$work/lintian.log" 2>&1 || status=$?
grep -v 'running with root privileges' "$work/lintian.log" || true
[ $status = 0 ] || die "lintian reports errors (exit $status)"

step "package.debs: all passed"
