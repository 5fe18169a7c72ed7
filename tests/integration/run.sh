#!/usr/bin/env bash
# Integration test runner.
#
#   tests/integration/run.sh [--unit] [--fuzz] [--keep] [-t SECONDS] [NAME...]
#
# Runs every tests/integration/test_*.sh (or the NAMEs given, with or without
# the test_ prefix and .sh suffix) one after another, each in its own process
# with its own namespaces, config, DPDK file prefix and control socket, under a
# timeout (default 180 s; a test can ask for another with a "# timeout: N"
# line near its top).  Prints PASS/FAIL/SKIP per test, the log of every test
# that failed, and as its last line "N passed, N failed".  Exit status 0 only
# if nothing failed.  A test exits 77 to be skipped.
#
# --fuzz  build the libFuzzer targets with clang (build-fuzz/, ASan+UBSan) and
#         run each for a CI-sized number of inputs, counted like the others.
# --unit  first run the cmocka unit suites (meson test --suite unit) and count
#         them in the summary (this is what `make test` does).
# --keep  keep each test's work dir (configs, logs) under /run/sluice-test.
# --workers N  run every test with N workers (the multi-worker pass, `make
#         test-mw`): eal.lcores "0-N" where the machine has N+1 CPUs, else
#         the --lcores map "0@0,(1-N)@1" (N worker threads sharing CPU 1).
#         A test that cannot run on several workers yet says so in a
#         "# workers: 1 REASON" line near its top and is skipped, with the
#         reason, in such a pass.
#
# SLT_TCP_SELFCHECK=1 (environment) runs the test_tcp_*.sh scripts against
# plain forwarding, to check the scripts themselves (scripts/lib.sh says what
# it skips); `make test` never sets it.
#
# Tests run sequentially on purpose: the poll-mode data plane spins its
# lcores, and this machine has few cores; test_run.sh also uses the fixed
# demo names, so it must never overlap another test.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
source "$here/../../scripts/lib.sh"

unit=0
fuzz=0
keep=0
default_timeout=180
workers=0
names=()
while (($#)); do
	case $1 in
	--unit) unit=1 ;;
	--fuzz) fuzz=1 ;;
	--keep) keep=1 ;;
	-t) default_timeout=$2; shift ;;
	--workers)
		[[ ${2:-} =~ ^[0-9]+$ ]] && (($2 >= 1 && $2 <= 16)) ||
			{ echo "run.sh: --workers wants 1..16" >&2; exit 2; }
		workers=$2
		shift
		;;
	-h | --help) sed -n '2,32s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) names+=("$1") ;;
	esac
	shift
done

[[ $(id -u) -eq 0 ]] || { echo "run.sh: integration tests need root" >&2; exit 2; }

passed=0
failed=0
skipped=0
failed_names=()
skipped_names=()
mkdir -p /run/sluice-test
chmod 700 /run/sluice-test
rundir=$(mktemp -d /run/sluice-test/run.XXXXXX)
current_pid=
current_state=

interrupted() {
	trap - INT TERM
	echo "run.sh: interrupted; stopping the running test" >&2
	if [[ -n $current_pid ]]; then
		kill -TERM "$current_pid" 2>/dev/null || true
		wait "$current_pid" 2>/dev/null || true
	fi
	[[ -n $current_state ]] && SL_NS_SWEEP=1 sl_cleanup_state "$current_state"
	echo "$passed passed, $((failed + 1)) failed"
	exit 130
}
trap interrupted INT TERM

# ------------------------------------------------------------------ unit tests ----
# Run one meson test suite and count its tests in the summary.
meson_suite() { # meson_suite BUILDDIR SUITE
	local build=$1 suite=$2 logbase urc=0 ulog name result
	echo "== $suite tests: meson test -C $build --suite $suite"
	logbase=$suite-$$
	meson test -C "$build" --suite "$suite" --print-errorlogs --logbase "$logbase" || urc=$?
	ulog=$build/meson-logs/$logbase.json
	if [[ -s $ulog ]]; then
		while IFS=$'\t' read -r name result; do
			case $result in
			OK | EXPECTEDFAIL) echo "PASS $suite/$name"; passed=$((passed + 1)) ;;
			SKIP) echo "SKIP $suite/$name"; skipped=$((skipped + 1)); skipped_names+=("$suite/$name") ;;
			*) echo "FAIL $suite/$name ($result)"; failed=$((failed + 1)); failed_names+=("$suite/$name") ;;
			esac
		done < <(jq -r '[.name, .result] | @tsv' "$ulog")
		rm -f "$ulog" "${ulog%.json}.txt"
	elif ((urc != 0)); then
		echo "FAIL $suite (meson test exited $urc without a test log)"
		failed=$((failed + 1))
		failed_names+=("$suite")
	else
		echo "(no $suite tests defined)"
	fi
}

if ((unit)); then
	meson_suite "$SL_BUILD" unit
fi

# ------------------------------------------------------------------ fuzz smoke ----
# libFuzzer needs clang: a separate build dir with ASan+UBSan, CI-sized runs.
if ((fuzz)); then
	fbuild=${SLUICE_FUZZ_BUILD:-$SL_ROOT/build-fuzz}
	if [[ ! -f $fbuild/build.ninja ]]; then
		rm -rf "$fbuild"
		CC=clang meson setup "$fbuild" "$SL_ROOT" -Dfuzz=true -Dtests=false \
			-Db_sanitize=address,undefined >"$SL_ROOT/build-fuzz.setup.log" 2>&1 ||
			{ cat "$SL_ROOT/build-fuzz.setup.log"; }
	fi
	if ninja -C "$fbuild" >/dev/null; then
		meson_suite "$fbuild" fuzz
	else
		ninja -C "$fbuild" 2>&1 | tail -30
		echo "FAIL fuzz (build)"
		failed=$((failed + 1))
		failed_names+=(fuzz-build)
	fi
fi

# ----------------------------------------------------------- integration tests ----
tests=()
if ((${#names[@]})); then
	for n in "${names[@]}"; do
		n=${n%.sh}
		n=${n#test_}
		[[ -f $here/test_$n.sh ]] || { echo "run.sh: no test $here/test_$n.sh" >&2; exit 2; }
		tests+=("$here/test_$n.sh")
	done
else
	for t in "$here"/test_*.sh; do
		[[ -e $t ]] && tests+=("$t")
	done
fi

mw=
if ((workers > 0)); then
	if (($(nproc) > workers)); then
		export SL_LCORES="0-$workers"
	elif ((workers == 1)); then
		export SL_LCORES="0-1"
	else
		export SL_LCORES="0@0,(1-$workers)@1"
	fi
	mw=" with $workers workers, eal.lcores $SL_LCORES"
	export SL_RUN_WORKERS=$workers # tests may size their bulk for the second pass
fi
echo "== integration tests (${#tests[@]}$mw; logs in $rundir)"
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	if ((workers > 1)) && only1=$(sed -n '1,30s/^# workers: *1 *\(.*\)/\1/p' "$t" | head -n1) &&
		[[ -n $only1 ]]; then
		echo "SKIP $name: one worker only: $only1"
		skipped=$((skipped + 1))
		skipped_names+=("$name")
		continue
	fi
	tmo=$(sed -n '1,30s/^# timeout: *\([0-9][0-9]*\).*/\1/p' "$t" | head -n1)
	tmo=${tmo:-$default_timeout}
	log=$rundir/$name.log
	current_state=$rundir/$name.state
	: >"$current_state"
	start=$SECONDS
	rc=0
	keepv=
	((keep == 0)) || keepv=1
	SLT_STATE=$current_state SLT_KEEP=$keepv \
		timeout -k 15 "$tmo" bash "$t" >"$log" 2>&1 &
	current_pid=$!
	wait "$current_pid" || rc=$?
	current_pid=
	# Whatever the test left behind (it was killed, or its trap failed).
	if [[ -s $current_state ]]; then
		echo "(cleaning up after $name)" >>"$log"
		SL_NS_SWEEP=1 sl_cleanup_state "$current_state" >>"$log" 2>&1 || true
	fi
	current_state=
	dur=$((SECONDS - start))
	case $rc in
	0)
		echo "PASS $name (${dur}s)"
		passed=$((passed + 1))
		;;
	77)
		echo "SKIP $name: $(grep -m1 '^SKIP' "$log" | sed 's/^SKIP:* *//')"
		skipped=$((skipped + 1))
		skipped_names+=("$name")
		;;
	*)
		why="exit status $rc"
		((rc == 124)) && why="timed out after ${tmo}s"
		((rc == 137)) && why="killed after timing out (${tmo}s + 15s)"
		echo "FAIL $name (${dur}s, $why)"
		echo "---------- log of $name ----------"
		if (($(wc -l <"$log") > 400)); then
			head -n 100 "$log"
			echo "[... $(($(wc -l <"$log") - 400)) lines cut; full log: $log ...]"
			tail -n 300 "$log"
		else
			cat "$log"
		fi
		echo "---------- end of $name ----------"
		failed=$((failed + 1))
		failed_names+=("$name")
		;;
	esac
done

((${#failed_names[@]} == 0)) || echo "failed: ${failed_names[*]}"
((skipped == 0)) || echo "skipped: ${skipped_names[*]}"
if ((failed == 0 && keep == 0)); then
	rm -rf "$rundir"
else
	echo "logs: $rundir"
fi
echo "$passed passed, $failed failed"
((failed == 0))
