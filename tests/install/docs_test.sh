#!/usr/bin/env bash
# guardian(1) and the completions are generated from the command line and the schema (issue 16):
# the page renders without warnings and names every subcommand, setting, environment variable
# and exit code; bash completes subcommands, flags and enum values; zsh parses the script.
# The README's exit-code table is the generator's output, not a second text.
#   usage: docs_test.sh GUARDIAN_BIN DOCS_DIR README
set -euo pipefail
guardian=$1
docs=$2
readme=$3
fail() { echo "FAIL: $*" >&2; exit 1; }

page=$(mktemp); trap 'rm -f "$page" "$page.err"' EXIT
MANWIDTH=100 MANPAGER=cat man --warnings -l "$docs/guardian.1" >"$page" 2>"$page.err" || fail "man failed: $(cat "$page.err")"
[ ! -s "$page.err" ] || fail "man warned: $(cat "$page.err")"
# Every key and variable of the schema, as `guardian config keys --json` lists them.
while read -r word; do
  grep -qF -- "$word" "$page" || fail "the manual page does not name $word"
done < <("$guardian" config keys --json | /usr/bin/python3 -c '
import json, sys
for key in json.load(sys.stdin):
    print(key["key"])
    if key["env"]: print(key["env"])
    if key.get("flag"): print(key["flag"] if key["flag"].startswith("-") else "--" + key["flag"])')
for word in "guardian run" "guardian runs show" "guardian runs tests" "guardian serve" "guardian config show" "guardian plugins" "guardian doctor" \
            124 125 126 127 "report.json" "EXIT STATUS" "FILES" "ENVIRONMENT"; do
  grep -qF -- "$word" "$page" || fail "the manual page does not name '$word'"
done
! grep -q "__generate" "$page" || fail "the hidden generator is in the manual"

# bash: what the completion function offers for a command line ending at the cursor.
complete_bash() {
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _guardian; echo "${COMPREPLY[*]}"' \
    sh "$docs/guardian.bash" "$@"
}
[ "$(complete_bash guardian ru)" = "run runs" ] || fail "bash: 'guardian ru' -> '$(complete_bash guardian ru)'"
[ "$(complete_bash guardian runs t)" = "tests" ] || fail "bash: 'guardian runs t'"
[ "$(complete_bash guardian config s)" = "show" ] || fail "bash: 'guardian config s'"
[ "$(complete_bash guardian run --mode '')" = "dev test prod" ] || fail "bash: --mode values: '$(complete_bash guardian run --mode '')'"
[[ " $(complete_bash guardian run --test-t) " == *" --test-timeout "* ]] || fail "bash: run flags"
[[ " $(complete_bash guardian serve --mode pr) " == " prod " ]] || fail "bash: serve --mode"
[ -z "$(complete_bash guardian __gen)" ] || fail "bash: the hidden generator is offered"
zsh -n "$docs/_guardian" || fail "zsh: the completion does not parse"
# README.md: the block between the exit-codes markers, indentation removed, is exactly the table
# `guardian __generate exit-codes` prints (so it can only change where the man page's does).
embedded=$(sed -n '/<!-- exit-codes:/,/<!-- \/exit-codes -->/p' "$readme" | sed '1d;$d' | sed 's/^  //')
[ -n "$embedded" ] || fail "README.md has no exit-codes block"
[ "$embedded" = "$("$guardian" __generate exit-codes)" ] ||
  fail "README.md's exit-code table differs from 'guardian __generate exit-codes'; paste its output between the markers"
# and the manual page says the same: each meaning's start (the page wraps long lines).
while IFS='|' read -r _ code meaning _; do
  start=$(echo "$meaning" | sed 's/^ *//;s/ *$//' | cut -c1-30)
  grep -qF -- "$start" "$page" || fail "the manual page's EXIT STATUS lacks '$start' ($code)"
done < <("$guardian" __generate exit-codes | tail -n +3)

echo "docs: manual page and completions OK"
