# Sourced by the shell integration tests: one place for how a check is
# counted and said. The caller sets failures=0 passes=0 first.

check() { # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then passes=$((passes + 1)); echo "ok   $name"
  else failures=$((failures + 1)); echo "FAIL $name"; fi
}
contains() { grep -q -- "$2" <<<"$1"; } # contains TEXT PATTERN

# Bounded polling for something that happens, instead of a fixed sleep.
wait_for() { # wait_for TENTHS COMMAND...
  local n=$1; shift
  for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
  return 1
}
