#!/bin/sh
# scripts/slurm-array.sh - the cron path over a fleet split into 8 shards as
# a Slurm job array: task K (SLURM_ARRAY_TASK_ID, 1-based) runs shard K of
# 8 and writes out/alerts-K.shd; afterwards, in shard order,
#   cat out/alerts-[1-8].shd > alerts.shd
# is the fleet's alert stream. Submit from a directory every node sees:
#   sbatch scripts/slurm-array.sh
# (change --array and N together).
#SBATCH --job-name=shd-shards
#SBATCH --array=1-8
#SBATCH --cpus-per-task=1
#SBATCH --mem=2G
#SBATCH --time=00:10:00
#SBATCH --output=out/shard-%a.log
set -eu
N=8
K=${SLURM_ARRAY_TASK_ID:?run me with sbatch}
mkdir -p out
shd-ingest -q --shard "$K/$N" -i 5m exports/* |
	shd-predict -q -m fleet.model |
	shd-drift -q -c fleet.json >"out/alerts-$K.shd" || [ $? -le 1 ]
