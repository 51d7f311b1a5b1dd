#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Style gate run by CI: every C file opens with an SPDX line, no trailing
# whitespace, indentation with tabs (kernel style, see .clang-format);
# every counter documented in docs/counters.md.
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
# Every counter in include/skiff/skiff.h's X-macro lists has a row in
# docs/counters.md, and no row there names a counter that is gone (the
# AF_XDP socket's kernel counters at the end of that file are not X-macros).
hdr=$(awk '/^#define SKIFF_(XDP_COUNTERS|USTATS_[A-Z]+|DROPS)\(X\)/ { on = 1 }
	on { print } on && !/\\$/ { on = 0 }' include/skiff/skiff.h |
	sed 's|/\*.*\*/||g' | grep -o 'X([a-z0-9_]*)' | sed 's/^X(//; s/)$//' | sort)
doc=$(sed '/^## AF_XDP socket (kernel) counters/,$d' docs/counters.md |
	grep '^| `' | cut -d'|' -f2 | grep -o '`[a-z0-9_]*`' | tr -d '`' | sort)
if [ -z "$hdr" ]; then
	echo "check-style: no counters found in include/skiff/skiff.h"
	bad=1
fi
for c in $(comm -23 <(echo "$hdr") <(echo "$doc")); do
	echo "docs/counters.md: no row for counter $c (include/skiff/skiff.h)"
	bad=1
done
for c in $(comm -13 <(echo "$hdr") <(echo "$doc")); do
	echo "docs/counters.md: row for $c, which include/skiff/skiff.h does not have"
	bad=1
done
[ $bad -eq 0 ] && echo "check-style: OK"
exit $bad
