#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Style gate run by CI: every C file opens with an SPDX line, no trailing
# whitespace, indentation with tabs (kernel style, see .clang-format).
set -u
cd "$(dirname "$0")/.."
bad=0
for f in $(git ls-files '*.c' '*.h'); do
	if ! head -n 1 "$f" | grep -q 'SPDX-License-Identifier'; then
		echo "$f: first line must be an SPDX-License-Identifier"
		bad=1
	fi
	if grep -nE '[[:space:]]+$' "$f" | head -n 3 | sed "s|^|$f:|" | grep .; then
		bad=1
	fi
	if grep -nE '^( {8})+[^ *]' "$f" | head -n 3 | sed "s|^|$f: spaces for indent: |" | grep .; then
		bad=1
	fi
done
[ $bad -eq 0 ] && echo "check-style: OK"
exit $bad
