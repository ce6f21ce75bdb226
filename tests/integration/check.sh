# Sourced by the shell integration tests: one place for how a check is
# counted and said. The caller sets failures=0 passes=0 first.

check() { # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then passes=$((passes + 1)); echo "ok   $name"
  else failures=$((failures + 1)); echo "FAIL $name"; fi
}
