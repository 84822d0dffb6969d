#!/bin/bash
# maskscan over a Slurm job array: task i scans shard i of the masks and saves its state.
#   jobid=$(sbatch --parsable --array=0-63 slurm-shards.sh)
#   sbatch --dependency=afterok:$jobid slurm-merge.sh
# Any contiguous range of task ids works (--array=1-64 too); --shard auto takes the shard count
# from SLURM_ARRAY_TASK_COUNT. Run both from the folder that holds masks/ (shared storage).
#SBATCH --job-name=maskscan-shards
#SBATCH --cpus-per-task=4
#SBATCH --mem=2G
#SBATCH --time=02:00:00
#SBATCH --output=maskscan-shard-%a.log
set -euo pipefail
mkdir -p states
maskscan scan masks/ --labels woodscape --heatmaps --shard auto --no-progress \
  --save-state "states/shard-${SLURM_ARRAY_TASK_ID}.state"
