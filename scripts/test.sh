#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Run skiff's test suites and end with one summary line.
#   scripts/test.sh                 unit + bpf + integration + soak (+ fuzz unless SAN=1)
#   scripts/test.sh unit|bpf|integration|soak|fuzz ...   only those
# SAN=1 runs everything from the AddressSanitizer/UBSan build (build-san/).
# fuzz: the libFuzzer harnesses of tests/fuzz/ (always ASan/UBSan, clang,
# build-fuzz/), FUZZ_SECONDS (default 20) each; see docs/fuzzing.md.
# soak: tests/soak/soak.py, mixed traffic through the impaired link with a
# skiffd SIGKILL and restart halfway, SOAK_SECS (default 180 here; `make
# soak` runs 1800) of traffic; see docs/soak.md.
# Exit status: 0 when every suite passed, 1 otherwise.
set -u
# a chroot's "/" is not a mount point: ip netns needs one (scripts/rootmount.sh)
. "$(dirname "$0")/rootmount.sh"
skiff_root_mount "$0" "$@"
cd "$(dirname "$0")/.."

SAN=${SAN:-0}
if [ "$SAN" = 1 ]; then BUILD=build-san; else BUILD=build; fi
export SKIFF_BUILD="$PWD/$BUILD"
# ASan: fail on leaks too; UBSan: stop at the first report.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The sanitizer pass moves 5 MiB, not 20, through the impaired relay
# (tests/integration/tcpnet.py: IMPAIRED_SIZE): same paths, minutes less.
[ "$SAN" = 1 ] && export SKIFF_IMPAIRED_MIB=${SKIFF_IMPAIRED_MIB:-5}

suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then
	suites=(unit bpf integration soak)
	[ "$SAN" = 1 ] || suites+=(fuzz)
fi

scripts/deps.sh || exit 1
summary=()
failed=0

# Build target $2 and run every test binary of $BUILD/tests/$1 (suite name $1).
run_bins() {
	local suite=$1 target=$2 pass=0 fail=0 t
	make -s SAN="$SAN" "$target" >/dev/null || { summary+=("$suite: BUILD FAILED"); failed=1; return; }
	for t in "$BUILD/tests/$suite"/test_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		if "$t" >"$t.log" 2>&1; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			echo "---- FAILED: $t (log: $t.log)"
			tail -n 40 "$t.log"
		fi
	done
	summary+=("$suite: $pass/$((pass + fail)) binaries passed")
	[ $fail -eq 0 ] || failed=1
}

run_unit() {
	run_bins unit unit-bins
}

run_bpf() {
	# no BPF object may reach glibc or an arch header (docs/bpf-build.md)
	scripts/check-bpf-headers.sh || { summary+=("bpf: HEADER CHECK FAILED"); failed=1; }
	if [ "$(id -u)" -ne 0 ]; then summary+=("bpf: SKIPPED (needs root)"); failed=1; return; fi
	run_bins bpf bpf-test-bins
}

run_integration() {
	if [ "$(id -u)" -ne 0 ]; then summary+=("integration: SKIPPED (needs root)"); failed=1; return; fi
	make -s SAN="$SAN" all >/dev/null || { summary+=("integration: BUILD FAILED"); failed=1; return; }
	local log="$BUILD/integration.log" rc
	/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	summary+=("integration: $(grep -E '^[0-9]+ (passed|failed)|(passed|failed|error)' "$log" | tail -n 1 | tr -d '=' | sed 's/^ *//')")
	[ "$rc" -eq 0 ] || failed=1
}

run_soak() {
	if [ "$(id -u)" -ne 0 ]; then summary+=("soak: SKIPPED (needs root)"); failed=1; return; fi
	make -s SAN="$SAN" all tools >/dev/null || { summary+=("soak: BUILD FAILED"); failed=1; return; }
	local log="$BUILD/soak.log" rc secs=${SOAK_SECS:-180}
	SOAK_SECS=$secs SAN="$SAN" /usr/bin/python3 tests/soak/soak.py 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -eq 0 ]; then
		summary+=("soak: OK (${secs}s)")
	else
		summary+=("soak: FAILED (${secs}s, log: $log)")
		failed=1
	fi
}

# Replay tests/fuzz/regress/<target>/ and the seeds (tests/fuzz/seeds.py),
# then fuzz each target for FUZZ_SECONDS from them, one at a time; a crash
# fails the suite and leaves its input in build-fuzz/fuzz-<target>/.
run_fuzz() {
	local secs=${FUZZ_SECONDS:-20} pass=0 fail=0 bin t dir reg dict opt
	make -s fuzz-bins >/dev/null || { summary+=("fuzz: BUILD FAILED"); failed=1; return; }
	/usr/bin/python3 tests/fuzz/seeds.py build-fuzz/seeds || { summary+=("fuzz: SEEDS FAILED"); failed=1; return; }
	for bin in build-fuzz/tests/fuzz/fuzz_*; do
		case "$bin" in *.*) continue ;; esac
		t=$(basename "$bin")
		if [ "$t" = fuzz_xdp ] && [ "$(id -u)" -ne 0 ]; then
			echo "fuzz_xdp: skipped (runs the XDP program in the kernel: needs root)"
			continue
		fi
		dir=build-fuzz/fuzz-$t
		reg=()
		[ -d "tests/fuzz/regress/$t" ] && reg=("tests/fuzz/regress/$t")
		dict=()
		[ -f "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")
		# tests/fuzz/<target>.options: more libFuzzer flags, one line
		[ -f "tests/fuzz/$t.options" ] && read -r -a opt <"tests/fuzz/$t.options" && dict+=("${opt[@]}")
		mkdir -p "$dir/corpus"
		if "$bin" -runs=0 "${reg[@]}" "build-fuzz/seeds/$t" >"$dir/log" 2>&1 &&
			"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
				-artifact_prefix="$dir/" -print_final_stats=1 "${dict[@]}" \
				"$dir/corpus" "build-fuzz/seeds/$t" >>"$dir/log" 2>&1; then
			pass=$((pass + 1))
			grep -E '^#[0-9]+[[:space:]]+DONE' "$dir/log" | tail -n 1 | sed "s|^|$t: |"
		else
			fail=$((fail + 1))
			echo "---- FAILED: $t (log: $dir/log; input: $dir/crash-* / leak-* / timeout-*)"
			grep -vE '^(#|INFO)' "$dir/log" | tail -n 40
		fi
	done
	summary+=("fuzz: $pass/$((pass + fail)) targets passed (${secs}s each)")
	[ $fail -eq 0 ] || failed=1
}

for s in "${suites[@]}"; do
	case "$s" in
	unit) run_unit ;;
	bpf) run_bpf ;;
	integration) run_integration ;;
	soak) run_soak ;;
	fuzz) run_fuzz ;;
	*) echo "test.sh: unknown suite '$s' (unit, bpf, integration, soak, fuzz)" >&2; exit 2 ;;
	esac
done

status=OK
[ $failed -eq 0 ] || status=FAILED
tag=""
[ "$SAN" = 1 ] && tag=" [ASan/UBSan]"
echo "skiff tests${tag}: $status — $(IFS=';'; echo "${summary[*]}" | sed 's/;/; /g')"
exit $failed
