# targets.sh - the fuzz targets and their seed inputs (sourced by run.sh and
# seeds.sh). A target is tests/fuzz/fuzz_NAME.c; its seeds are the files of
# tests/fuzz/corpus/NAME/ (hand-made inputs, and every input that once
# crashed: a regression) and the golden files listed here.
FUZZ_TARGETS=$(cd tests/fuzz && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
fuzz_seeds() {
  local g=tests/unit/golden
  case $1 in
    yaml) ls $g/yaml/*.yaml $g/wg/input.yaml $g/singbox/input.yaml ;;
    links) ls $g/singbox/input.yaml ;;
    adopt_wg) ls $g/wg/server.conf $g/wg/client-*.conf ;;
    adopt_ovpn) ls $g/ovpn/server-*.conf $g/ovpn/ccd.txt ;;
    adopt_sb) ls $g/singbox/server*.json ;;
  esac
  [ -d "tests/fuzz/corpus/$1" ] && find "tests/fuzz/corpus/$1" -type f | sort
  return 0
}
