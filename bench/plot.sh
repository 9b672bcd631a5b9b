#!/usr/bin/env bash
# A benchmark's table as a PNG: clustered bars, one group per row of a CSV
# (first line: column names; first column: the row's label), one bar per
# chosen column. Every bench/*/run.sh writes its table as CSV and calls this.
#
#   bench/plot.sh CSV PNG TITLE YLABEL COLUMNS [log]
#
# COLUMNS are 1-based column numbers, comma-separated ("2,4,6"); "log" puts
# the y axis on a log scale (for costs that span orders of magnitude).
# Without gnuplot it says so and exits 0: the CSV is the result, the plot a
# view of it, and a long benchmark run should not fail for the view.
set -euo pipefail
[ $# -ge 5 ] || { echo "usage: $0 CSV PNG TITLE YLABEL COLUMNS [log]" >&2; exit 2; }
csv=$1 png=$2 title=$3 ylabel=$4 columns=$5 scale=${6:-linear}
command -v gnuplot >/dev/null || {
	echo "plot.sh: no gnuplot (apt-get install gnuplot-nox): $png not drawn" >&2
	exit 0
}
rows=$(($(wc -l <"$csv") - 1))
width=$((700 + rows * 90))
[ "$width" -le 2000 ] || width=2000
logscale=
[ "$scale" = log ] && logscale="set logscale y"
# labels never hold commas (the run.sh scripts write them so): plain split
gnuplot <<GP
set terminal pngcairo noenhanced size $width,560 font "sans,9"
set output "$png"
set datafile separator ","
set title "$title"
set ylabel "$ylabel"
$logscale
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key outside right top vertical
set xtics rotate by -30 left nomirror
set bmargin 9
set yrange [0:*]
$( [ "$scale" = log ] && echo "set yrange [*:*]" )
plot for [c in "${columns//,/ }"] "$csv" using (column(int(c)) > 0 ? column(int(c)) : NaN):xtic(1) title columnhead(int(c))
GP
echo "plot: $png"
