#!/usr/bin/env bash
# Draws GB/s against size from one or more leakycl-bench CSV files (the rows of a run made
# elsewhere, e.g. bench/device/run.sh's bench.csv from a GPU machine), one line per device,
# view, op and dtype whose "device,view,op,dtype" matches REGEX (an awk regex).
#
# usage: bash bench/plot_csv.sh OUT.png 'REGEX' TITLE FILE.csv...
#   e.g. bash bench/plot_csv.sh gpu.png '^gpu,resident,(forward|backward),' 'H200' bench.csv
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: $0 OUT.png REGEX TITLE FILE.csv..." >&2; exit 2; }
out=$1 regex=$2 title=$3
shift 3
command -v gnuplot >/dev/null || { echo "$0: needs gnuplot (Debian: apt-get install gnuplot-nox)" >&2; exit 1; }
data=$(mktemp)
trap 'rm -f "$data"' EXIT
# One block per series, separated by two blank lines (gnuplot's index), its name first.
awk -F, -v re="$regex" '
    FNR == 1 { next }
    { key = $1 "," $3 "," $4 "," $5 }
    key ~ re {
        if (!(key in seen)) { seen[key] = ++count; names[count] = key }
        rows[seen[key]] = rows[seen[key]] $6 " " $11 "\n"
    }
    END {
        for (i = 1; i <= count; ++i) {
            n = names[i]; gsub(",", " ", n)
            printf "# %s\n%s\n\n", n, rows[i]
            print n > "/dev/stderr"
        }
    }' "$@" >"$data" 2>"$data.names"
mapfile -t names <"$data.names"
rm -f "$data.names"
[ ${#names[@]} -gt 0 ] || { echo "$0: no rows match $regex" >&2; exit 1; }
plot=""
for i in "${!names[@]}"; do
    # Colours repeat every 8 series: the dash pattern tells the repeats apart.
    plot+="${plot:+, }'$data' index $i using 1:2 with linespoints lt $((i % 8 + 1)) dt $((i / 8 + 1)) lw 2 title '${names[$i]}'"
done
gnuplot <<GP
set terminal pngcairo size 1400,900 noenhanced
set output '$out'
set logscale x 2
set format x '2^%L'
set xlabel 'elements'
set ylabel 'GB/s (bytes the op must move / time)'
set key outside right
set grid
set title '$title'
plot $plot
GP
echo "wrote $out (${#names[@]} series)"
