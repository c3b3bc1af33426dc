#!/usr/bin/env bash
# Fails when a source outside tests/ calls system(), popen() or "sh -c":
# external programs run only through lib/spawn.c with an argv array.
cd "$(dirname "$0")/.." || exit 1
hits=$(git ls-files -co --exclude-standard '*.c' '*.h' 2>/dev/null | grep -v '^tests/' |
  xargs -r grep -nE '\b(system|popen|execl|execlp)[[:space:]]*\(|"/bin/sh"|"sh",[[:space:]]*"-c"' || true)
if [ -n "$hits" ]; then
  echo "no-shell check FAILED: programs must run through lib/spawn.c:"
  echo "$hits"
  exit 1
fi
echo "no-shell check: ok"
