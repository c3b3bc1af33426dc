#!/usr/bin/env bash
# Fails when a renderer (anything under renderers/) or a diff (every
# controller/*/*_diff.c) is not pure: it may include only lib/ and state/
# headers, the renderers of its own engine, and for a diff its own engine's
# controller headers plus the plan/driver types; it may call no spawn,
# file, clock, random or environment function. Same input, same bytes: that
# is what the golden tests rely on (docs/contributing.md).
#
# check-pure.sh [ROOT]: ROOT defaults to the repository (a test points it at
# a copy with a planted violation to see the check fail).
root=${1:-"$(dirname "$0")/.."}
cd "$root" || exit 1
files=$( (git ls-files -co --exclude-standard 'renderers/*.c' 'renderers/*.h' \
  'controller/*_diff.c' 2>/dev/null || find renderers controller -name '*.[ch]') |
  grep -E '^renderers/|_diff\.c$' | sort -u)
[ -n "$files" ] || { echo "purity check FAILED: no renderer or diff file found"; exit 1; }
# Library headers with side effects: neither may be included.
banned_inc='^(lib/(spawn|fileio|log)\.h|state/(store|store_map|auth|commit)\.h)$'
# Calls with side effects or hidden inputs.
banned_call='\b(spawn_[a-z_]+|file_write_atomic|file_read|file_exists|mkdir_p|fopen|fdopen|open|openat|creat|read|write|unlink|rename|opendir|mkdir|stat|lstat|time|clock_gettime|gettimeofday|localtime|localtime_r|rand|random|srand|getrandom|RAND_bytes|RAND_priv_bytes|getenv|secure_getenv|setenv|sleep|usleep|nanosleep|fork|kill)[[:space:]]*\('
bad=0
for f in $files; do
  n=0
  case $f in
    renderers/*/*) eng=${f#renderers/}; eng=${eng%%/*} ;;
    controller/*/*) eng=${f#controller/}; eng=${eng%%/*} ;;
    *) eng= ;;
  esac
  while IFS= read -r inc; do
    ok=0
    case $inc in
      lib/* | state/*) ok=1 ;;
      renderers/nat_render.h) ok=1 ;;
    esac
    [ -n "$eng" ] && case $inc in renderers/"$eng"/*) ok=1 ;; esac
    if [[ $f == *_diff.c ]]; then
      case $inc in controller/"$eng"/* | controller/plan.h | controller/driver.h) ok=1 ;; esac
    fi
    [[ $inc =~ $banned_inc ]] && ok=0
    if [ $ok = 0 ]; then
      echo "$f: includes \"$inc\": a renderer or diff may not"; bad=1
    fi
  done < <(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]+)".*/\1/p' "$f")
  # Strip comments and strings before looking for calls.
  hits=$(sed -E 's://.*$::; s:"([^"\\]|\\.)*":"":g' "$f" |
    perl -0pe 's{/\*.*?\*/}{ }gs' | grep -nE "$banned_call" | grep -vE '^[0-9]+:[[:space:]]*\*' || true)
  if [ -n "$hits" ]; then
    while IFS= read -r h; do echo "$f: calls a function with side effects: $h"; done <<<"$hits"
    bad=1
  fi
done
if [ $bad != 0 ]; then
  echo "purity check FAILED"
  exit 1
fi
echo "purity check: ok ($(wc -w <<<"$files") files)"
