// The checks a cache shard applies to what its RPC callers send (cache_shard_durable_object.js): a caller in
// another isolate may send anything, so every argument is checked before it reaches SQLite, and a bad one is a
// thrown TypeError/RangeError the caller sees — never a row written from it.

// The platform's limit for multi-key storage calls; batch RPCs refuse more rather than truncate silently.
export const MAX_BATCH_KEYS = 128;

export function toBytes(value) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError("value must be bytes (Uint8Array or ArrayBuffer)");
}

export function checkKey(key) {
  if (typeof key !== "string" || key.length === 0) throw new TypeError("key must be a non-empty string");
  return key;
}

export function checkBatch(list, what) {
  if (!Array.isArray(list)) throw new TypeError(`${what} must be an array`);
  if (list.length > MAX_BATCH_KEYS) throw new RangeError(`at most ${MAX_BATCH_KEYS} ${what} per call (got ${list.length})`);
  return list;
}

// Tags are stored as "\n" + tags.join("\n") + "\n" so a tag matches with instr(tags, "\n" + tag + "\n").
export function tagString(tags) {
  if (!Array.isArray(tags) || tags.length === 0) return "";
  return `\n${tags.filter((t) => typeof t === "string" && t && !t.includes("\n")).join("\n")}\n`;
}
