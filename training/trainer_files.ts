/**
 * The Python trainer's files that `python -m trainer serve` needs, relative to the repository root:
 * copied into mappa's cache when mappa runs from a URL or a compiled binary (runtime/package_files.ts).
 * tests/trainer_files_test.ts keeps this list equal to the package's files in git.
 */
export const TRAINER_FILES: readonly string[] = [
  "trainer/__init__.py",
  "trainer/__main__.py",
  "trainer/algorithm.py",
  "trainer/backend.py",
  "trainer/batching.py",
  "trainer/config.py",
  "trainer/data.py",
  "trainer/distributed.py",
  "trainer/errors.py",
  "trainer/gpu_check.py",
  "trainer/gpu_dp_check.py",
  "trainer/gpu_scale_check.py",
  "trainer/gpu_serve_check.py",
  "trainer/hf_backend.py",
  "trainer/hf_batch.py",
  "trainer/model.py",
  "trainer/policies.py",
  "trainer/safetensors_io.py",
  "trainer/sampling.py",
  "trainer/server.py",
  "trainer/tiny_backend.py",
  "trainer/tiny_batch.py",
  "trainer/tokenizer.py",
  "trainer/train.py",
];
