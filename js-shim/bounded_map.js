// Per-isolate memos (auth verdicts, rate-limit slices and denials) are Maps kept under a size bound:
// when one is full, its oldest tenth (insertion order) is forgotten at once, so trimming is rare. A
// forgotten entry is simply worked out again. No imports: rate_limiter.js also loads in plain Node.
export function makeRoomIn(map, maxEntries) {
  if (map.size < maxEntries) return;
  const keep = Math.floor(maxEntries * 0.9);
  for (const k of map.keys()) {
    if (map.size <= keep) break;
    map.delete(k);
  }
}
