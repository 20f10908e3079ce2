#!/bin/bash
# Train (or continue, --resume) the five ensemble members with the default
# recipe and the no-retrieval LM baseline, then measure next-tactic accuracy
# and collect the numbers for `dco report`. About 50 minutes per CE model on
# one of 2 CPU cores (DCOstep about a third more); run it again to continue after an
# interruption. Models go under models/ (not committed); numbers under
# benchmarks/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
DCO="${DCO:-dco}"
$DCO train --out models/ce --loss ce --eval-every 100 --no-progress --resume
$DCO train --out models/n8 --loss dcostep --n 8 --eval-every 100 --no-progress --resume
$DCO train --out models/lm-noret --loss ce --retrieval-tokens 0 --eval-every 100 --no-progress --resume
for n in 4 16 32; do
  $DCO train --out models/n$n --loss dcostep --n $n --eval-every 100 --no-progress --resume
done
python -m benchmarks.tactic_accuracy --lm models/lm-noret --lm-retrieval models/ce --models models
$DCO report --models models
