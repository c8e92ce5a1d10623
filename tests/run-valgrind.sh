#!/bin/sh
# Runs the pipeline tests (run-shell.sh) with every shd-* program of
# $SHD_BUILD under valgrind's memcheck: $SHD_BUILD/valgrind/ gets a script
# per program that execs valgrind on the real binary, and becomes the
# SHD_BUILD of the tests (its tools/ and tests/ link to the real ones).
# A memory error makes the program exit 99 (not 1: shd-drift and shd-plan
# answer with 1), so the test that ran it fails; each report is kept in
# $SHD_BUILD/valgrind/log/PROGRAM.PID and printed at the end.
# VALGRIND_LEAK=full also counts definite leaks as errors (default: no),
# and shows only those: a program that exits on an error leaves its
# stream's xxhash state, which libxxhash aligns inside its block, "possibly
# lost" (an inner pointer), and that is no leak.
# SHD_VALGRIND=1 is exported: a test that cannot run under valgrind (timing,
# LD_PRELOAD, kill -9 of the program) skips with its reason.
# Slow (35 minutes on one core): `make check-valgrind`, not part of
# `make check`.
# With arguments, only those tests: sh tests/run-valgrind.sh t0230-unseen.
# VALGRIND_JOBS=N runs N tests at a time (make check-valgrind
# VALGRIND_JOBS=2).
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${SHD_BUILD:?set SHD_BUILD to the build directory}"
leak=${VALGRIND_LEAK:-no}
if ! command -v valgrind >/dev/null 2>&1; then
	echo "run-valgrind: valgrind is not installed" >&2
	echo "hint: apt-get install valgrind" >&2
	exit 1
fi
# Valgrind runs FMA instructions through a software helper, some hundred
# times slower than the rest of its translated code: OpenBLAS's Haswell
# kernels, lib/lstm.c's own AVX2+FMA products and glibc's FMA variants of
# expf and the like made one small shd-train 250x slower than native (perf
# on valgrind: 70% of its time in that helper), and a whole pass hours.
# So the programs run here on OpenBLAS's Sandybridge kernels (AVX, no FMA;
# a recognised core, so lib/lstm.c calls cblas_sgemm) and glibc's variants
# without FMA: the same shd-train 40x native under memcheck. Memcheck checks
# the memory the code touches; the arithmetic kernel is the one thing not
# the same as a native run (unit-lstm checks the LSTM against plain loops
# natively, on the kernels this machine picks).
coretype=Prescott
grep -qw avx /proc/cpuinfo 2>/dev/null && coretype=Sandybridge
vg="$SHD_BUILD/valgrind"
rm -rf "$vg"
mkdir -p "$vg/log" || exit 1
for p in "$SHD_BUILD"/shd-*; do
	n=$(basename "$p")
	case $n in *.*) continue ;; esac
	[ -f "$p" ] && [ -x "$p" ] || continue
	cat >"$vg/$n" <<EOF
#!/bin/sh
OPENBLAS_CORETYPE=$coretype GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA
export OPENBLAS_CORETYPE GLIBC_TUNABLES
exec valgrind -q --error-exitcode=99 --leak-check=$leak \\
	--errors-for-leak-kinds=definite --show-leak-kinds=definite \\
	--log-file='$vg/log/$n.%p' \\
	'$p' "\$@"
EOF
	chmod +x "$vg/$n"
done
ln -s "$SHD_BUILD/tools" "$vg/tools"
ln -s "$SHD_BUILD/tests" "$vg/tests"

SHD_VALGRIND=1
export SHD_VALGRIND
jobs=${VALGRIND_JOBS:-1}
if [ $# = 0 ] && [ "$jobs" = 1 ]; then
	SHD_BUILD="$vg" sh "$here/run-shell.sh"
	rc=$?
else
	# the environment of run-shell.sh; the named tests (or all), JOBS at
	# a time, each one's output kept and printed in order at the end
	PATH="$vg:$PATH" SHD_BUILD="$vg" SHD_TESTS="$here" \
		SHD_TOP=$(dirname "$here")
	export PATH SHD_BUILD SHD_TESTS SHD_TOP
	if [ $# = 0 ]; then
		for t in "$here"/t[0-9]*.sh; do
			set -- "$@" "$(basename "$t" .sh)"
		done
	fi
	mkdir -p "$vg/out"
	for t in "$@"; do
		t=${t%.sh}
		echo "${t##*/}"
	done | xargs -P "$jobs" -I{} sh -c \
		'sh "$1/$2.sh" >"$3/$2.out" 2>&1; echo $? >"$3/$2.rc"' \
		sh "$here" {} "$vg/out"
	rc=0 pass=0 fail=0 skip=0
	for t in "$@"; do
		t=${t%.sh}
		t=${t##*/}
		st=$(cat "$vg/out/$t.rc" 2>/dev/null || echo 1)
		case $st in
		0) pass=$((pass + 1)); echo "ok - $t" ;;
		77) skip=$((skip + 1))
		    echo "ok - $t # SKIP $(tail -n 1 "$vg/out/$t.out")" ;;
		*) fail=$((fail + 1)); rc=1; echo "not ok - $t (exit $st)"
		   tail -n 30 "$vg/out/$t.out" | sed 's/^/#   /' ;;
		esac
	done
	echo "shell: $pass passed, $fail failed, $skip skipped"
fi
nlog=0
for f in "$vg"/log/*; do
	[ -s "$f" ] || continue
	nlog=$((nlog + 1))
	echo "# $f"
	sed 's/^/#   /' "$f"
done
echo "valgrind: $nlog report(s) in $vg/log"
[ "$rc" = 0 ] && [ "$nlog" = 0 ]
