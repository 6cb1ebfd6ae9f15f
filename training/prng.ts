/**
 * mulberry32: a small seeded generator of floats in [0, 1), the same sequence on every machine (a step's
 * batch is the same when a run resumes; a fuzz test's cases are the same in every CI run).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
