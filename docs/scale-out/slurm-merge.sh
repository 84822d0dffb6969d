#!/bin/bash
# The merge, after every task of the array succeeded (sbatch --dependency=afterok:<array job id>).
# It refuses a set with a shard missing or given twice, naming it.
#SBATCH --job-name=maskscan-merge
#SBATCH --mem=4G
#SBATCH --time=01:00:00
#SBATCH --output=maskscan-merge.log
set -euo pipefail
maskscan merge states/shard-*.state --out results/ --save-state results.state
