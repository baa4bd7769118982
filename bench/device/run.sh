#!/usr/bin/env bash
# The GPU machine's run: builds leakycl, checks it on the GPU, benchmarks it with the default kernel
# shapes, times PyTorch's CUDA leaky_relu and PReLU on the same sizes, runs the tests, then tunes
# the kernels (`leakycl tune`) and sets the tuned shapes against the defaults, in about 8 minutes,
# on a bare x86-64 Linux machine with an NVIDIA driver, CUDA, PyTorch, gcc and CMake but no package
# registry. What the build needs beyond that comes from the Debian packages in bench/device/debs/
# (scripts/fetch-device-debs.sh), unpacked into a private prefix: the system's packages are not
# touched. Where no /etc/OpenCL/vendors/*.icd names the NVIDIA OpenCL driver, a private vendors
# folder does (OCL_ICD_VENDORS). Every stage has a time limit and a failing stage does not stop
# the run.
# Logs, CSV/JSON and a summary go to $OUT (default ./device-out); bench/device/README.md says more.
#
# usage: bash bench/device/run.sh
# environment (all optional):
#   OUT                       where everything is written (default ./device-out)
#   LEAKYCL_DEVICE_SPEC       the device for `check` and the bench (default gpu; opencl for PoCL)
#   LEAKYCL_DEVICE_BUDGET_S   the whole run's time budget in seconds (default 480)
#   LEAKYCL_DEVICE_SKIP       stages to skip, comma-separated: check, bench, torch, ctest, tune,
#                             tune-compare, bench-tuned, clinfo
#   LEAKYCL_BENCH_MIN/MAX/STEP/TIME/SAMPLES/DTYPES   sizes 2^MIN..2^MAX every STEP (20, 28, 2),
#                             seconds per sample (0.03), samples (5), dtypes (f32,f16,bf16,f64)
#   LEAKYCL_TUNE_SIZE         2^K elements for `leakycl tune` and `tune --compare` (default 24)
#   LEAKYCL_DEVICE_PACK       a folder that gets device-out.tgz (every output file) and a copy of
#                             summary.txt, compare.txt and tune-compare.log at the end: the device
#                             tool brings back at most 8 files from $OUT
#   LEAKYCL_DEPS_PREFIX       where the .debs are unpacked (default /tmp/leakycl-deps)
#   LEAKYCL_DEPS_KEEP_ALL=1   use every unpacked library, even where the system has it
#   LEAKYCL_DEPS_EXTRACT      dpkg (default where present), ar or python: how to unpack
#   LEAKYCL_ICD_LIB           register this OpenCL driver library instead of searching for NVIDIA's
#   LEAKYCL_DEVICE_BUILD      the build folder (default ./build-device)
#   PYTHON                    the Python with torch (default python3)
#   LEAKYCL_TORCH_DEVICE      cuda (default), or cpu to try torch_bench.py without a GPU
set -uo pipefail # not -e: a failing stage is recorded and the run goes on

t0=$(date +%s)
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
root=$PWD
here=$root/bench/device
out=${OUT:-$root/device-out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
spec=${LEAKYCL_DEVICE_SPEC:-gpu}
base_budget=480 # the budget the caps and needs below are set for
budget=${LEAKYCL_DEVICE_BUDGET_S:-$base_budget}
skip=",${LEAKYCL_DEVICE_SKIP:-},"
deps=${LEAKYCL_DEPS_PREFIX:-/tmp/leakycl-deps}
build=${LEAKYCL_DEVICE_BUILD:-$root/build-device}
python=${PYTHON:-python3}
bmin=${LEAKYCL_BENCH_MIN:-20}
bmax=${LEAKYCL_BENCH_MAX:-28}
bstep=${LEAKYCL_BENCH_STEP:-2}
btime=${LEAKYCL_BENCH_TIME:-0.03}
bsamples=${LEAKYCL_BENCH_SAMPLES:-5}
bdtypes=${LEAKYCL_BENCH_DTYPES:-f32,f16,bf16,f64}
tsize=${LEAKYCL_TUNE_SIZE:-24}
pack=${LEAKYCL_DEVICE_PACK:-}
jobs=$(nproc 2>/dev/null || echo 4)
orig_ld_library_path=${LD_LIBRARY_PATH:-}
arch=x86_64-linux-gnu

summary=()   # one line per stage, printed at the end
failed=()

elapsed() { echo $(($(date +%s) - t0)); }
say() { printf '[%3ss] %s\n' "$(elapsed)" "$*"; }
record() { # record STAGE STATUS SECONDS [DETAIL]
    summary+=("$(printf '%-18s %-10s %5ss  %s' "$1" "$2" "$3" "${4:-}")")
    case $2 in ok | skipped) ;; *) failed+=("$1") ;; esac
}
skipped() { [[ $skip == *",$1,"* ]]; }

# What each stage needs at least, in seconds: a stage's limit leaves the sum of the needs of the
# stages after it, so that a stage that hangs cannot eat the later stages' time. The order puts
# what issue 12 needs most first: the benchmarks with the default shapes and PyTorch's rows, then
# the tests, then the tuner and the tuned shapes against the defaults; bench-tuned runs only on
# what is left. Seen on an H200 with 16 cores: build 4 s warm, check 15 s, bench 140 s for four
# dtypes at 2^20 to 2^28, torch 21 s before the PReLU rows.
order=(configure build devices check bench torch ctest tune tune-compare bench-tuned)
declare -A need=([configure]=10 [build]=60 [devices]=5 [check]=15 [bench]=130 [torch]=40 [ctest]=60
    [tune]=80 [tune-compare]=20 [bench-tuned]=0)
# The needs and the stages' caps are for the default budget of 480 s: the needs shrink in
# proportion with a smaller budget, the caps grow with a larger one (a slow machine's rehearsal).
reserve() { # reserve STAGE: the needs of the stages after STAGE, plus 5 s for the summary
    local sum=5 after='' s
    for s in "${order[@]}"; do
        [ -n "$after" ] && sum=$((sum + need[$s]))
        [ "$s" = "$1" ] && after=1
    done
    echo $((budget < base_budget ? sum * budget / base_budget : sum))
}
left() { echo $((budget - $(elapsed))); } # seconds of the budget left

# stage NAME CAP RESERVE CMD...: runs CMD with a limit of CAP seconds, or less so that RESERVE
# seconds of the budget stay for the stages after it; its output goes to $out/NAME.log.
# Returns CMD's status (124 for a timeout).
stage() {
    local name=$1 cap=$2 keep=$3
    shift 3
    ((budget > base_budget)) && cap=$((cap * budget / base_budget))
    if skipped "$name"; then
        record "$name" skipped 0 "LEAKYCL_DEVICE_SKIP"
        return 0
    fi
    local left=$((budget - $(elapsed) - keep))
    local limit=$((cap < left ? cap : left))
    if ((limit < 10)); then
        say "$name: no time left (budget ${budget}s)"
        record "$name" "no-time" 0
        return 124
    fi
    say "$name (limit ${limit}s): $*"
    local start rc=0
    start=$(date +%s)
    timeout -k 10 "$limit" "$@" >"$out/$name.log" 2>&1 </dev/null || rc=$?
    local took=$(($(date +%s) - start))
    if [ "$rc" -eq 0 ]; then
        record "$name" ok "$took" "$(stage_detail "$name")"
    else
        local what="failed($rc)"
        [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && what=timeout
        [ "$name" = torch ] && [ "$rc" -eq 3 ] && what=skipped
        record "$name" "$what" "$took" "$(stage_detail "$name")"
        say "$name: $what after ${took}s; the end of $name.log:"
        tail -n 15 "$out/$name.log" | sed 's/^/    | /'
    fi
    return "$rc"
}

# One line from a stage's log for the summary.
stage_detail() {
    local log=$out/$1.log
    case $1 in
    ctest) grep -E 'tests passed|tests failed' "$log" | tail -1 | sed 's/$/ (-LE package; fault sweep: every 6th call)/' ;;
    check) grep -E '^check: ' "$log" | tail -1 ;;
    bench-*) grep -E 'points in' "$log" | tail -1 ;;
    torch) grep -E 'torch_bench: (done|skipped)' "$log" | tail -1 ;;
    tune-compare) grep -E 'entries from the tuning cache' "$log" | sed 's/^.*: \([0-9]* entries\)/\1/' | cut -c1-80 ;;
    tune-*) grep -E '^took ' "$log" | tail -1 ;;
    build) grep -E 'error:' "$log" | head -1 ;;
    esac 2>/dev/null | tr '\n' ' '
}

# One CSV from several: the header once.
merge_csv() { # merge_csv OUT.csv IN.csv...
    local dest=$1 first=1 f
    shift
    for f in "$@"; do
        [ -s "$f" ] || continue
        if [ $first = 1 ]; then cat "$f"; first=0; else tail -n +2 "$f"; fi
    done >"$dest"
    [ -s "$dest" ] || rm -f "$dest"
}

# Issue 12's targets count from 2^24: the first size of the grid from there (or the largest).
tmin=$bmin
while ((tmin < 24 && tmin + bstep <= bmax)); do tmin=$((tmin + bstep)); done
tuned_ops=forward,backward,backward_from_output,forward_masked,backward_masked,prelu_forward,prelu_backward,batch_forward

# compare.py's table and targets from the rows there are (the tuned ones too, once there).
compare() {
    [ -s "$out/bench.csv" ] || return 0
    local tuned=()
    [ -s "$out/bench-tuned.csv" ] && tuned=(--tuned "$out/bench-tuned.csv")
    "$python" "$here/compare.py" "$out/bench.csv" "$out/torch.csv" --csv "$out/compare.csv" --from "$tmin" \
        "${tuned[@]}" >"$out/compare.txt" 2>&1
}

say "leakycl device run: spec=$spec, budget ${budget}s, output in $out"
(cd "$out" && rm -f bench-small-* bench-large-* bench-tuned* bench.csv torch.csv torch-meta.json compare.txt \
    compare.csv summary.txt ctest-junit.xml tune.log tune-*.log tuning devices-tuned.txt)
# The tuner's cache: in the output, never the user's. The stages before the tuner ignore it.
export LEAKYCL_TUNING_FILE=$out/tuning
unset LEAKYCL_TUNING

# --- 1. the machine ---------------------------------------------------------------------------
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "git: $(git -C "$root" rev-parse HEAD 2>/dev/null || echo '?') $(git -C "$root" status --porcelain 2>/dev/null | wc -l) changed file(s)"
    uname -a
    grep -E '^(PRETTY_NAME|VERSION_ID)=' /etc/os-release 2>/dev/null
    echo "glibc: $(ldd --version 2>/dev/null | head -1)"
    echo "cpus: $jobs; $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null)"
    free -g 2>/dev/null | head -2
    echo "gcc: $(gcc --version 2>/dev/null | head -1)"
    echo "cmake: $(cmake --version 2>/dev/null | head -1)"
    echo "python: $($python --version 2>&1)"
    echo "tools: dpkg=$(command -v dpkg || echo no) ar=$(command -v ar || echo no) pkg-config=$(command -v pkg-config || echo no) readelf=$(command -v readelf || echo no) ldconfig=$(command -v ldconfig || ls /sbin/ldconfig 2>/dev/null || echo no)"
    echo "OpenCL vendors:"
    for f in /etc/OpenCL/vendors/*.icd; do [ -e "$f" ] && echo "  $f: $(cat "$f")"; done
    echo "OpenCL libraries known to ldconfig:"
    { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | grep -Ei 'libOpenCL|nvidia-opencl' | sed 's/^/ /'
    echo "environment: LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-} OCL_ICD_VENDORS=${OCL_ICD_VENDORS:-} CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-}"
} >"$out/system.txt" 2>&1
if command -v nvidia-smi >/dev/null 2>&1; then
    timeout 30 nvidia-smi >"$out/nvidia-smi.txt" 2>&1
    timeout 30 nvidia-smi -q >"$out/nvidia-smi-q.txt" 2>&1
    say "GPU: $(timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)"
else
    echo "nvidia-smi not found" >"$out/nvidia-smi.txt"
    say "nvidia-smi not found"
fi

# --- 2. the Debian packages, unpacked into a private prefix -------------------------------------
# Primary packages (the OpenCL loader and headers, Criterion, CLBlast, clinfo) are always used.
# The others are libraries Criterion links (and pkg-config): each is used only where the machine
# lacks one of its sonames, so that nothing the system has is shadowed for other programs.
primary_re='^(ocl-icd-libopencl1|ocl-icd-opencl-dev|opencl-c-headers|opencl-clhpp-headers|opencl-headers|libcriterion3|libcriterion-dev|libclblast1|libclblast-dev|clinfo)$'

extract_deb() { # extract_deb FILE.deb DIR
    local deb=$1 dir=$2 how=${LEAKYCL_DEPS_EXTRACT:-}
    if [ -z "$how" ]; then
        if command -v dpkg-deb >/dev/null 2>&1; then how='dpkg'; elif command -v ar >/dev/null 2>&1; then how='ar'; else how='python'; fi
    fi
    mkdir -p "$dir"
    case $how in
    dpkg) dpkg-deb -x "$deb" "$dir" ;;
    ar)
        local tmp
        tmp=$(mktemp -d)
        (cd "$tmp" && ar x "$(realpath "$deb")") &&
            tar -xf "$tmp"/data.tar.* -C "$dir"
        local rc=$?
        rm -rf "$tmp"
        return $rc
        ;;
    python) "$python" - "$deb" "$dir" <<'EOF' ;;
import io, sys, tarfile
deb, dest = sys.argv[1], sys.argv[2]
data = open(deb, "rb").read()
assert data[:8] == b"!<arch>\n", "not an ar archive"
pos = 8
while pos + 60 <= len(data):
    name = data[pos:pos + 16].decode().strip().rstrip("/")
    size = int(data[pos + 48:pos + 58].decode().strip())
    body = data[pos + 60:pos + 60 + size]
    if name.startswith("data.tar"):
        tarfile.open(fileobj=io.BytesIO(body)).extractall(dest)
        sys.exit(0)
    pos += 60 + size + (size & 1)
sys.exit("no data.tar member in " + deb)
EOF
    *) echo "LEAKYCL_DEPS_EXTRACT=$how: dpkg, ar or python" >&2; return 2 ;;
    esac
}

system_has_soname() {
    [ -n "${LEAKYCL_DEPS_KEEP_ALL:-}" ] && return 1
    grep -qxF "$1" "$deps/.system-sonames"
}

unpack_deps() {
    local debdir=$here/debs
    ls "$debdir"/*.deb >/dev/null 2>&1 || { echo "no .deb in $debdir: run scripts/fetch-device-debs.sh, and carry bench/device/debs"; return 1; }
    [ -f "$debdir/MANIFEST" ] && cat "$debdir/MANIFEST"
    rm -rf "$deps"
    mkdir -p "$deps/.pkgs"
    { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | awk '/x86-64/ {print $1}' | sort -u >"$deps/.system-sonames"
    echo "the system's loader cache knows $(wc -l <"$deps/.system-sonames") x86-64 libraries"
    local deb pkg dir used=() unused=() f soname missing
    for deb in "$debdir"/*.deb; do
        pkg=$(basename "$deb")
        pkg=${pkg%%_*}
        dir=$deps/.pkgs/$pkg
        extract_deb "$deb" "$dir" || { echo "cannot unpack $deb"; return 1; }
        if [[ $pkg =~ $primary_re ]]; then
            used+=("$pkg")
        else
            missing=
            while IFS= read -r f; do
                soname=
                command -v readelf >/dev/null 2>&1 &&
                    soname=$(readelf -d "$f" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
                [ -n "$soname" ] || soname=$(basename "$f")
                system_has_soname "$soname" || missing="$missing $soname"
            done < <(find "$dir" -type f -name 'lib*.so*' -path "*/$arch/lib*")
            # pkg-config: used (from the end of PATH) where the machine has none.
            if [ -z "$missing" ] && [ -d "$dir/usr/bin" ] && ! command -v pkg-config >/dev/null 2>&1; then
                missing=" (no pkg-config on the machine)"
            fi
            if [ -n "$missing" ]; then used+=("$pkg"); echo "using $pkg:$missing"; else unused+=("$pkg"); fi
        fi
    done
    for pkg in "${used[@]}"; do cp -a "$deps/.pkgs/$pkg/." "$deps/"; done
    echo "used (${#used[@]}): ${used[*]}"
    echo "not needed, the system has them (${#unused[@]}): ${unused[*]:-}"
    # .pc files say prefix=/usr: point them at the private prefix.
    find "$deps" -path "$deps/.pkgs" -prune -o -name '*.pc' -exec sed -i -E "s@^prefix=/usr\$@prefix=$deps/usr@; s@^(libdir|includedir)=/usr/@\1=$deps/usr/@" {} +
}

start=$(date +%s)
if unpack_deps >"$out/deps.log" 2>&1; then
    record deps ok $(($(date +%s) - start)) "$(grep -E '^used' "$out/deps.log" | cut -c1-90)"
else
    record deps failed $(($(date +%s) - start)) "$(tail -1 "$out/deps.log")"
fi
say "deps: $(tail -2 "$out/deps.log" | head -1 | cut -c1-150)"

lib=$deps/usr/lib/$arch
libdirs=$lib:$deps/lib/$arch
# Not CPATH or LIBRARY_PATH: CMake takes their folders for the compiler's own and then leaves out
# the -I and the build RPATH that name the prefix. CMake gets the paths explicitly instead, and
# the consumer test's pkg-config the relocated .pc files.
export LD_LIBRARY_PATH=$libdirs${orig_ld_library_path:+:$orig_ld_library_path}
export PKG_CONFIG_PATH=$lib/pkgconfig:$deps/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export CMAKE_PREFIX_PATH=$deps/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
export CMAKE_INCLUDE_PATH=$deps/usr/include${CMAKE_INCLUDE_PATH:+:$CMAKE_INCLUDE_PATH}
export CMAKE_LIBRARY_PATH=$lib${CMAKE_LIBRARY_PATH:+:$CMAKE_LIBRARY_PATH}
export PATH=$PATH:$deps/usr/bin # after the system's: only what the machine lacks
opencl_library=$lib/libOpenCL.so

# --- 3. the NVIDIA OpenCL driver, registered with the ICD loader -------------------------------
# ocl-icd reads /etc/OpenCL/vendors/*.icd, or the folder $OCL_ICD_VENDORS names instead. Where
# no .icd there names an NVIDIA library that can be loaded, a private folder holds copies of the
# system's .icd files plus nvidia.icd with the driver library's full path.
find_nvidia_opencl() {
    local p d
    p=$({ ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | awk '/libnvidia-opencl\.so\.1 .*x86-64/ {print $NF; exit}')
    [ -n "$p" ] && [ -e "$p" ] && { echo "$p"; return 0; }
    for d in /usr/lib/$arch /usr/lib64 /usr/lib /usr/local/nvidia/lib64 /usr/local/nvidia/lib \
        /usr/lib/wsl/lib /run/nvidia/driver/usr/lib/$arch /usr/local/cuda/compat /usr/local/cuda/lib64; do
        for p in "$d"/libnvidia-opencl.so.1 "$d"/libnvidia-opencl.so.*; do
            [ -e "$p" ] && { echo "$p"; return 0; }
        done
    done
    p=$(timeout 15 find /usr /lib /lib64 /opt /run/nvidia -maxdepth 6 -name 'libnvidia-opencl.so*' \
        -print 2>/dev/null | head -1)
    [ -n "$p" ] && echo "$p"
}

icd_loadable() { # icd_loadable NAME_OR_PATH: ld.so can find it
    case $1 in
    /*) [ -e "$1" ] ;;
    *) grep -qxF "$1" "$deps/.system-sonames" 2>/dev/null || {
        local d
        for d in ${LD_LIBRARY_PATH//:/ }; do [ -e "$d/$1" ] && return 0; done
        return 1
    } ;;
    esac
}

register_icd() {
    local want=${LEAKYCL_ICD_LIB:-} name=nvidia f registered=
    if [ -n "$want" ]; then
        name=$(basename "$want" | sed -E 's/^lib//; s/\.so.*//')
        echo "LEAKYCL_ICD_LIB=$want: registering it as $name.icd"
    else
        for f in /etc/OpenCL/vendors/*.icd; do
            [ -e "$f" ] || continue
            if grep -qi nvidia "$f" && icd_loadable "$(head -1 "$f" | tr -d '[:space:]')"; then
                registered=$f
            fi
        done
        if [ -n "$registered" ]; then
            echo "registered already: $registered ($(cat "$registered"))"
            return 0
        fi
        want=$(find_nvidia_opencl)
        if [ -z "$want" ]; then
            echo "no libnvidia-opencl.so found: OpenCL will see only what /etc/OpenCL/vendors has"
            return 0
        fi
        echo "found $want; no loadable NVIDIA .icd in /etc/OpenCL/vendors"
    fi
    local vendors=$deps/vendors
    rm -rf "$vendors"
    mkdir -p "$vendors"
    for f in /etc/OpenCL/vendors/*.icd; do [ -e "$f" ] && cp "$f" "$vendors/"; done
    echo "$want" >"$vendors/$name.icd"
    export OCL_ICD_VENDORS=$vendors OPENCL_VENDOR_PATH=$vendors
    echo "OCL_ICD_VENDORS=$vendors:"
    for f in "$vendors"/*.icd; do echo "  $(basename "$f"): $(cat "$f")"; done
}

register_icd >"$out/icd.log" 2>&1
say "icd: $(tail -1 "$out/icd.log")"

# --- 4. probes: the unpacked OpenCL loader and Criterion load on this machine -------------------
probe() {
    local p=$deps/probe rc=0
    mkdir -p "$p"
    echo "== OpenCL: clprobe against $opencl_library"
    if timeout 60 cc -std=c11 -O1 "$here/clprobe.c" -I"$deps/usr/include" "$opencl_library" \
        -Wl,-rpath,"$lib" -o "$p/clprobe"; then
        timeout 60 "$p/clprobe"
        rc=$?
    else
        rc=2
    fi
    if [ "$rc" -eq 2 ] || [ "$rc" -ge 124 ]; then
        # The unpacked loader does not load (an older glibc?): try the machine's own.
        local sys
        sys=$({ ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | awk '/libOpenCL\.so\.1 .*x86-64/ {print $NF; exit}')
        for f in "$sys" /usr/local/cuda/lib64/libOpenCL.so.1 /usr/local/cuda/targets/x86_64-linux/lib/libOpenCL.so.1; do
            if [ -z "$f" ] || [ ! -e "$f" ]; then continue; fi
            echo "== OpenCL: retrying with the machine's loader $f"
            if timeout 60 cc -std=c11 -O1 "$here/clprobe.c" -I"$deps/usr/include" "$f" -o "$p/clprobe" &&
                timeout 60 "$p/clprobe"; then
                echo "OPENCL_LIBRARY=$f"
                # Out of the way of the build's RPATH and LD_LIBRARY_PATH.
                mkdir -p "$deps/unused" && mv "$lib"/libOpenCL.so* "$deps/unused/"
                rc=0
                break
            fi
        done
    fi
    echo "== Criterion: a program linked with $lib/libcriterion.so"
    echo 'int main(void) { return 0; }' >"$p/crit.c"
    if timeout 60 cc "$p/crit.c" -o "$p/crit" -L"$lib" -Wl,--no-as-needed -lcriterion -Wl,-rpath,"$lib" &&
        timeout 30 "$p/crit"; then
        echo "CRITERION=ok"
        ldd "$p/crit" | grep -E 'criterion|git2|nanomsg|ffi|mbed|ssh2|krb5|not found'
    else
        echo "CRITERION=broken"
    fi
    return "$rc"
}
start=$(date +%s)
probe >"$out/probe.log" 2>&1
probe_rc=$?
grep -q '^OPENCL_LIBRARY=' "$out/probe.log" && opencl_library=$(sed -n 's/^OPENCL_LIBRARY=//p' "$out/probe.log")
tests=ON
grep -q '^CRITERION=ok' "$out/probe.log" || tests=OFF
record probe "$([ $probe_rc -eq 0 ] && echo ok || echo "failed($probe_rc)")" $(($(date +%s) - start)) \
    "$(grep -E '^clprobe:' "$out/probe.log" | tail -1); criterion $(sed -n 's/^CRITERION=//p' "$out/probe.log")"
say "probe: $(grep -E '^(clprobe:|  device)' "$out/probe.log" | tr '\n' ' ' | cut -c1-200)"
[ "$tests" = ON ] || say "probe: Criterion does not load here: tests are not built"

# --- 5. configure and build ---------------------------------------------------------------------
configure() { # configure WERROR
    local args=(-S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLEAKYCL_WERROR="$1"
        -DLEAKYCL_BUILD_TESTS="$tests" -DOpenCL_INCLUDE_DIR="$deps/usr/include"
        -DOpenCL_LIBRARY="$opencl_library" -DCRITERION_INCLUDE_DIR="$deps/usr/include"
        -DCRITERION_LIBRARY="$lib/libcriterion.so" -DCMAKE_PREFIX_PATH="$deps/usr")
    local rc=0
    stage configure 90 "$(reserve configure)" cmake "${args[@]}" || rc=$?
    [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] && return "$rc"
    # A cache from another source folder or another prefix: start the build folder afresh.
    say "configure: retrying in an empty $build"
    rm -rf "$build"
    stage configure 90 "$(reserve configure)" cmake "${args[@]}"
}
werror=ON
built=no
if configure ON && stage build 180 "$(reserve build)" cmake --build "$build" -j "$jobs"; then
    built=yes
elif [ -f "$build/CMakeCache.txt" ] && grep -q 'Werror' "$out/build.log" 2>/dev/null; then
    # Warnings as errors with this machine's compiler: build without -Werror to get the numbers.
    werror=OFF
    cp "$out/build.log" "$out/build-werror.log" 2>/dev/null
    say "build: retrying with -DLEAKYCL_WERROR=OFF (see build-werror.log)"
    configure OFF && stage build 180 "$(reserve build)" cmake --build "$build" -j "$jobs" && built=yes
fi
if [ -f "$build/CMakeCache.txt" ]; then
    grep -E '^(OpenCL_INCLUDE_DIR|OpenCL_LIBRARY|CRITERION_INCLUDE_DIR|CRITERION_LIBRARY|CMAKE_C_COMPILER|LEAKYCL_WERROR|LEAKYCL_BUILD_TESTS):' \
        "$build/CMakeCache.txt" >"$out/cmake-cache.txt"
fi
[ -x "$build/leakycl" ] && ldd "$build/leakycl" >"$out/ldd-leakycl.txt" 2>&1

# --- 6. devices, check ------------------------------------------------------------------------------
# Everything before the tuner runs with the defaults (LEAKYCL_TUNING=0); the tuner's cache is
# $out/tuning (LEAKYCL_TUNING_FILE, exported above), so it comes back with the output.
if [ "$built" = yes ]; then
    stage devices 30 "$(reserve devices)" "$build/leakycl" devices
    cp "$out/devices.log" "$out/devices.txt" 2>/dev/null
    if command -v clinfo >/dev/null 2>&1 && ! skipped clinfo; then timeout 20 clinfo >"$out/clinfo.txt" 2>&1; fi
    stage check 90 "$(reserve check)" env LEAKYCL_TUNING=0 "$build/leakycl" check --device "$spec"
else
    say "no build: devices, check, ctest, the leakycl bench and the tuner are skipped"
    record devices skipped 0 "no build"
fi

# --- 7. benchmarks, the defaults' shapes ------------------------------------------------------------
# leakycl-bench writes its table and files only when it is done, so it runs once per dtype for the
# sizes up to 2^20, then once per dtype for the larger ones: a timeout loses one run's rows.
IFS=, read -r -a bench_dtypes <<<"$bdtypes"
if [ "$built" = yes ] && ! skipped bench; then
    split=$((bmin + ((20 - bmin) / bstep) * bstep)) # the last size <= 2^20 on the grid
    [ "$split" -gt "$bmax" ] && split=$bmax
    runs=()
    for dt in "${bench_dtypes[@]}"; do runs+=("small $dt $bmin $split"); done
    if [ $((split + bstep)) -le "$bmax" ]; then
        for dt in "${bench_dtypes[@]}"; do runs+=("large $dt $((split + bstep)) $bmax"); done
    fi
    left_runs=${#runs[@]}
    for r in "${runs[@]}"; do
        read -r part dt lo hi <<<"$r"
        left_runs=$((left_runs - 1)) # the runs after this one: 10 s each kept for them
        cap=60
        [ "$part" = large ] && cap=120
        stage "bench-$part-$dt" "$cap" $(($(reserve bench) + 10 * left_runs)) env LEAKYCL_TUNING=0 \
            "$build/leakycl-bench" --device "$spec" --dtypes "$dt" --min "$lo" --max "$hi" --step "$bstep" \
            --time "$btime" --samples "$bsamples" --csv "$out/bench-$part-$dt.csv" --json "$out/bench-$part-$dt.json"
    done
    merge_csv "$out/bench.csv" "$out"/bench-small-*.csv "$out"/bench-large-*.csv
elif skipped bench; then
    record bench skipped 0 "LEAKYCL_DEVICE_SKIP"
fi

# PyTorch, without the private libraries on its library path.
torch_device=${LEAKYCL_TORCH_DEVICE:-cuda}
stage torch 120 "$(reserve torch)" env LD_LIBRARY_PATH="$orig_ld_library_path" "$python" "$here/torch_bench.py" \
    --device "$torch_device" --min "$bmin" --max "$bmax" --step "$bstep" --time "$btime" \
    --samples "$bsamples" --dtypes "$bdtypes" --csv "$out/torch.csv" --meta "$out/torch-meta.json"
compare # now, in case the run is cut short; again with the tuned rows at the end

# --- 8. tests ------------------------------------------------------------------------------------------
# Every test but package.debs (label package: it builds .debs and asks apt and lintian about them,
# a Debian host's check with nothing on the GPU), and the fault sweep on every 6th OpenCL call, as
# CI runs it (each fault point is a process of its own that opens the device).
if [ "$built" = yes ] && [ "$tests" = ON ]; then
    # --output-junit needs CMake 3.21; the ctest log has everything either way.
    junit=()
    ctest --help 2>/dev/null | grep -q -- --output-junit && junit=(--output-junit "$out/ctest-junit.xml")
    stage ctest 150 "$(reserve ctest)" env LEAKYCL_TUNING=0 CLFAULT_STRIDE=6 ctest --test-dir "$build" \
        --output-on-failure -j "$jobs" --timeout 120 -LE package "${junit[@]}"
elif [ "$built" = yes ]; then
    record ctest skipped 0 "Criterion does not load on this machine"
fi

# --- 9. the tuner ------------------------------------------------------------------------------------
# `leakycl tune` once per dtype, each storing its winners in the cache (a later run keeps the
# other dtypes' entries), so that a timeout loses one dtype; then `leakycl tune --compare` times
# the cache's shapes against the defaults call by call in one process.
if [ "$built" = yes ] && ! skipped tune; then
    left_runs=${#bench_dtypes[@]}
    for dt in "${bench_dtypes[@]}"; do
        left_runs=$((left_runs - 1))
        stage "tune-$dt" 120 $(($(reserve tune) + 10 * left_runs)) "$build/leakycl" tune --device "$spec" \
            --size "$tsize" --dtypes "$dt"
    done
    for dt in "${bench_dtypes[@]}"; do cat "$out/tune-$dt.log"; done >"$out/tune.log" 2>/dev/null
elif skipped tune; then
    record tune skipped 0 "LEAKYCL_DEVICE_SKIP"
fi
if [ "$built" = yes ] && [ -s "$out/tuning" ]; then
    timeout 30 "$build/leakycl" devices >"$out/devices-tuned.txt" 2>&1
    stage tune-compare 90 "$(reserve tune-compare)" "$build/leakycl" tune --compare --device "$spec" \
        --size "$tsize" --dtypes "$bdtypes"
elif [ "$built" = yes ]; then
    record tune-compare skipped 0 "no tuning cache"
fi

# leakycl-bench with the cache, from 2^24 (or the largest size, if smaller) up, every op but the
# small items, resident, on what is left of the budget: the tuned shapes' share of copy.
if [ "$built" = yes ] && [ -s "$out/tuning" ] && ! skipped bench-tuned; then
    left_runs=${#bench_dtypes[@]}
    for dt in "${bench_dtypes[@]}"; do
        left_runs=$((left_runs - 1))
        if (($(left) - 5 - 10 * left_runs < 20)); then
            record "bench-tuned-$dt" skipped 0 "no time left in the budget"
            continue
        fi
        stage "bench-tuned-$dt" 90 $((5 + 10 * left_runs)) "$build/leakycl-bench" --device "$spec" --dtypes "$dt" \
            --ops "$tuned_ops" --views resident --min "$tmin" --max "$bmax" --step "$bstep" --time "$btime" \
            --samples "$bsamples" --csv "$out/bench-tuned-$dt.csv"
    done
    merge_csv "$out/bench-tuned.csv" "$out"/bench-tuned-*.csv
elif [ "$built" = yes ] && skipped bench-tuned; then
    record bench-tuned skipped 0 "LEAKYCL_DEVICE_SKIP"
fi
compare

# --- 10. summary -------------------------------------------------------------------------------------
{
    echo "leakycl device run: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(elapsed)s of ${budget}s, spec=$spec, werror=$werror, tests=$tests"
    echo "GPU: $(timeout 20 nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1 | grep . || echo 'none (no nvidia-smi)')"
    grep -E '^  (opencl:|cpu )' "$out/devices.txt" 2>/dev/null | head -4
    grep -E '^ +tuning: ' "$out/devices-tuned.txt" 2>/dev/null | head -1 | sed 's/^ */after the tuner: /'
    for line in "${summary[@]}"; do echo "  $line"; done
    if [ -s "$out/compare.txt" ]; then
        echo "f32 forward and backward, GB/s (all rows: compare.txt):"
        sed '/^issue 12 targets/q' "$out/compare.txt" | grep -E '^(op|forward|backward) +(dtype|f32) '
        sed -n '/^issue 12 targets/,$p' "$out/compare.txt"
    fi
    if [ -s "$out/tune.log" ]; then
        echo "leakycl tune (all of it: tune.log):"
        grep -E '^(tuning |[a-z0-9]+: defaults|  \(|took )' "$out/tune.log"
    fi
    if [ -s "$out/tune-compare.log" ]; then
        echo "leakycl tune --compare: the cache's shapes against the defaults, call by call"
        cat "$out/tune-compare.log"
    fi
    echo "failed stages: ${failed[*]:-none}"
    echo "files: $(cd "$out" && find . -maxdepth 1 -type f -printf '%P ')"
} >"$out/summary.txt"
echo
cat "$out/summary.txt"
if [ -n "$pack" ]; then
    mkdir -p "$pack"
    tar -czf "$pack/device-out.tgz" -C "$out" . &&
        for f in summary.txt compare.txt tune-compare.log; do [ -f "$out/$f" ] && cp "$out/$f" "$pack/"; done
    echo "packed: $pack/device-out.tgz ($(du -h "$pack/device-out.tgz" 2>/dev/null | cut -f1))"
fi
[ ${#failed[@]} -eq 0 ]
