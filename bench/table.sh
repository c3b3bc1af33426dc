# bench/table.sh - sourced by the bench scripts: row FIGURE TARGET ATLAS
# [BASELINE] adds one line to the table `make bench` prints at the end
# (bench/run.sh sets BENCH_TABLE; a script run alone prints its rows as it
# goes). Values are text: the script formats them. Not a bench itself.
row() {
  local line
  line=$(printf '%s\t%s\t%s\t%s' "$1" "$2" "$3" "${4:--}")
  if [ -n "${BENCH_TABLE:-}" ]; then
    printf '%s\n' "$line" >> "$BENCH_TABLE"
  else
    printf 'ROW  %s\n' "$line"
  fi
}
# ratio A B: A / B with one decimal ("-" when either is missing or B is 0)
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.1f", a / b }'
}
