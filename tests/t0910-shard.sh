#!/bin/sh
# Sharding a fleet: shd-ingest --shard K/N gives disjoint shards whose
# union is the fleet, and the cron path run by GNU parallel on local shards
# (scripts/shard-parallel) gives the unsharded run's alerts, resource for
# resource.
. "$SHD_TESTS/lib.sh"

command -v gen-fleet >/dev/null 2>&1 || PATH="$SHD_BUILD/tools:$PATH"
command -v gen-fleet >/dev/null 2>&1 || skip "no gen-fleet"

gen-fleet -n 24 -w 1.5 -s 7 --metrics cpu,mem >"$T/fleet.csv"
shd-ingest -q -i 5m "$T/fleet.csv" -o "$T/all.shd"
shd-cat -H "$T/all.shd" | sort >"$T/all.csv"

# disjoint shards, their union the fleet; the same shard every time
: >"$T/union.csv"
for k in 1 2 3 4; do
	shd-ingest -q --shard "$k/4" -i 5m "$T/fleet.csv" -o "$T/s$k.shd"
	shd-cat -H -c resource "$T/s$k.shd" | sort -u >"$T/r$k.txt"
	shd-cat -H "$T/s$k.shd" >>"$T/union.csv"
done
sort "$T/union.csv" | cmp -s - "$T/all.csv" || fail "the shards' union is not the fleet"
[ "$(cat "$T"/r?.txt | sort | uniq -d | wc -l)" = 0 ] || fail "shards overlap"
[ "$(cat "$T"/r?.txt | wc -l)" = 24 ] || fail "resources lost"
n=0
for k in 1 2 3 4; do [ -s "$T/r$k.txt" ] && n=$((n + 1)); done
[ $n -ge 3 ] || fail "24 resources in fewer than 3 of 4 shards"
# shd-cat --shard picks the same resources from the whole stream
for k in 1 2 3 4; do
	shd-cat -H --shard "$k/4" "$T/all.shd" | sort >"$T/c$k.csv"
	shd-cat -H "$T/s$k.shd" | sort | cmp -s - "$T/c$k.csv" ||
		fail "shd-cat --shard $k/4 differs from shd-ingest --shard $k/4"
done
expect_status 2 shd-cat --shard 1/0 "$T/all.shd"
shd-ingest -q --shard 2/4 -i 5m "$T/fleet.csv" -o "$T/again.shd"
cmp -s "$T/again.shd" "$T/s2.shd" || fail "shard 2/4 differs between runs"
expect_status 2 shd-ingest --shard 5/4 "$T/fleet.csv"
expect_status 2 shd-ingest --shard 0/4 "$T/fleet.csv"
expect_status 2 shd-ingest --shard two "$T/fleet.csv"

# the cron path per shard under GNU parallel = the unsharded run
command -v parallel >/dev/null 2>&1 || skip "no GNU parallel (scripts/deps installs it)"
shd-train -q --horizon 6 --epochs 1 --hidden 8 --max-windows 2000 \
	-o "$T/m.model" "$T/all.shd"
shd-predict -q -m "$T/m.model" "$T/all.shd" | shd-drift -q --all \
	>"$T/alerts-1.shd" || [ $? = 1 ]
sh "$SHD_TOP/scripts/shard-parallel" -n 4 -j 2 -m "$T/m.model" -x --all \
	-o "$T/shards" "$T/fleet.csv" >/dev/null 2>"$T/err" ||
	{ cat "$T/err" >&2; fail "shard-parallel failed"; }
shd-cat -H "$T/alerts-1.shd" | sort >"$T/a1.csv"
shd-cat -H "$T/shards/alerts.shd" | sort >"$T/a4.csv"
[ -s "$T/a1.csv" ] || fail "no alert rows"
cmp -s "$T/a1.csv" "$T/a4.csv" ||
	fail "sharded alerts differ: $(diff "$T/a1.csv" "$T/a4.csv" | head -5)"
exit 0
