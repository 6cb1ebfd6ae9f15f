#!/usr/bin/env bash
# The GPU figures of docs/trainer_gpu.md in one run (about 5-8 minutes on one H100): batched vs serial
# generation and a train step at two random-model sizes, then data-parallel on 1 GPU vs 1 process.
# Usage from the repository root: bash tools/gpu_scale.sh OUT_DIR   (needs torch+CUDA, transformers, peft, accelerate)
set -uo pipefail
out="${1:-gpu_scale_out}"
mkdir -p "$out"
python -c "import torch, transformers, peft, accelerate; print('torch', torch.__version__, 'transformers', transformers.__version__, 'peft', peft.__version__, torch.cuda.get_device_name(0))" | tee "$out/env.txt"
timeout 420 python -m trainer.gpu_scale_check --out "$out" --requests 32 --max-tokens 128; rc1=$?
timeout 150 python -m trainer.gpu_dp_check --out "$out/dp" --backend hf --base-model random:qwen2-tiny,hidden=1024,layers=8 --nproc 1; rc2=$?
echo "gpu_scale_check exit $rc1, gpu_dp_check exit $rc2"
