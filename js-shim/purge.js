// POST /api/v1/cache/purge: {"keys": ["/path?query", ...]} | {"prefix": "/path/"} | {"tags": ["t", ...]}.
// Keys and prefixes are request paths, normalised by the core exactly like a request (so the caller
// never needs to know the key format). A purge
//   1. appends records to the control object's purge log (DO-backed deployments), which every isolate
//      pulls within a few seconds to drop matching memory entries and to hide matching edge entries
//      (the Cache API cannot be enumerated, and is per location);
//   2. deletes from the shared tier (the key's shard for keys; every shard for prefix/tags; KV by
//      listing for prefix/tags);
//   3. deletes from this isolate's memory and this location's edge cache: exact keys in both; prefix and
//      tags through the tier interface (tiers/tier.js), which the edge tier refuses (the Cache API cannot be
//      listed): the answer then names it under `hiddenByPurgeLog`, since step 1 is what reaches it.
// The log is written first so an entry re-stored by a request racing the purge is still hidden.
import { requireAdmin } from "./admin_auth.js";
import { controlStub } from "./control_sync.js";
import { isolate } from "./isolate_context.js";
import { metrics } from "./metrics.js";
import { purgeWorkersCache } from "./downstream.js";
import { jsonResponse } from "./responses.js";
import { tiersFor } from "./tiers/tier_set.js";
import { purgeByPattern } from "./tiers/tier.js";
import { withTimeout } from "./timeouts.js";

export const MAX_PURGE_BODY_BYTES = 64 * 1024;
const MAX_KEYS = 1000;
const MAX_TAGS = 100;
const MAX_STRING = 2048;
const TIMEOUT_MS = 10_000;

// Reads at most `limit` bytes: a body without (or with a lying) Content-Length is cut off, not buffered.
async function readCapped(request, limit) {
  if (!request.body) return { text: "" };
  const reader = request.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return { tooLarge: true };
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return { text: new TextDecoder().decode(all) };
}

// Returns {spec} or {status, message}.
export function parsePurgeSpec(body) {
  const shape = 'expected exactly one of {"keys": ["/path?query", ...]}, {"prefix": "/path/"} or {"tags": ["tag", ...]}';
  if (!body || typeof body !== "object" || Array.isArray(body)) return { status: 400, message: `purge body must be a JSON object: ${shape}` };
  const fields = Object.keys(body);
  const unknown = fields.filter((f) => !["keys", "prefix", "tags"].includes(f));
  if (unknown.length) return { status: 400, message: `unknown field${unknown.length > 1 ? "s" : ""} ${unknown.map((f) => JSON.stringify(f)).join(", ")}: ${shape}` };
  if (fields.length !== 1) return { status: 400, message: shape };
  const isPath = (s) => typeof s === "string" && s.startsWith("/") && s.length <= MAX_STRING;
  if ("keys" in body) {
    const keys = body.keys;
    if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_KEYS) return { status: 400, message: `"keys" must be an array of 1 to ${MAX_KEYS} request paths` };
    const bad = keys.findIndex((k) => !isPath(k));
    if (bad >= 0) return { status: 400, message: `"keys"[${bad}] must be a request path starting with "/" (at most ${MAX_STRING} characters)` };
    return { spec: { kind: "keys", keys: [...new Set(keys)] } };
  }
  if ("prefix" in body) {
    const prefix = body.prefix;
    if (!isPath(prefix)) return { status: 400, message: `"prefix" must be a request path starting with "/" (at most ${MAX_STRING} characters)` };
    if (prefix.includes("?") || prefix.includes("#")) return { status: 400, message: '"prefix" is a path: no query or fragment' };
    return { spec: { kind: "prefix", prefix } };
  }
  const tags = body.tags;
  if (!Array.isArray(tags) || tags.length === 0 || tags.length > MAX_TAGS) return { status: 400, message: `"tags" must be an array of 1 to ${MAX_TAGS} tags` };
  const bad = tags.findIndex((t) => typeof t !== "string" || !t || t.length > 256 || /[\n,]/.test(t));
  if (bad >= 0) return { status: 400, message: `"tags"[${bad}] must be a non-empty string of at most 256 characters without commas or newlines` };
  return { spec: { kind: "tags", tags: [...new Set(tags)] } };
}

function reasonName(core, d) {
  return d ? core.report.reasons[d.reason] || `reason ${d.reason}` : "request target too large";
}

// The storage-key prefix for a path prefix: the core's key for the prefix path, cut after the path
// (the key is originBase + path, then "?query", "\n" vary values or "#sha256=" when hashed).
export function keyPrefixFor(core, prefixPath) {
  const d = core.decideRequest("GET", prefixPath, new Headers(), Date.now(), 0);
  if (!d || !d.key) return { error: `the prefix is not a cacheable path (${reasonName(core, d)})` };
  let key = d.key;
  const cut = key.search(/[?\n#]/);
  if (cut >= 0) key = key.slice(0, cut);
  // The normaliser may drop a trailing slash; the caller's "/a/" must not also match "/ab".
  if (prefixPath.endsWith("/") && !key.endsWith("/")) key += "/";
  return { key };
}

export async function handlePurge(rc) {
  const denied = await requireAdmin(rc, "/api/v1/cache/purge");
  if (denied) return denied;
  const type = (rc.request.headers.get("content-type") || "").toLowerCase();
  if (!type.startsWith("application/json")) return rc.error(415, "purge expects a JSON body (Content-Type: application/json)");
  const declared = Number.parseInt(rc.request.headers.get("content-length") || "0", 10);
  if (declared > MAX_PURGE_BODY_BYTES) return rc.error(413, `purge body larger than ${MAX_PURGE_BODY_BYTES} bytes`);
  const read = await readCapped(rc.request, MAX_PURGE_BODY_BYTES);
  if (read.tooLarge) return rc.error(413, `purge body larger than ${MAX_PURGE_BODY_BYTES} bytes`);
  let body;
  try {
    body = JSON.parse(read.text);
  } catch {
    rc.log("warn", "purge_bad_request", { problem: "invalid JSON" });
    return rc.error(400, "purge body is not valid JSON");
  }
  const parsed = parsePurgeSpec(body);
  if (!parsed.spec) {
    rc.log("warn", "purge_bad_request", { problem: parsed.message });
    return rc.error(parsed.status, parsed.message);
  }
  return executePurge(rc, parsed.spec);
}

export async function executePurge(rc, spec) {
  const tiers = tiersFor(rc.env, rc.cfg, rc.core, rc.request.url);
  const rejected = [];
  let targets = []; // {path, key} for exact keys
  let records;
  if (spec.kind === "keys") {
    for (const path of spec.keys) {
      const d = rc.core.decideRequest("GET", path, new Headers(), Date.now(), 0);
      if (!d || !d.key) rejected.push({ path, reason: reasonName(rc.core, d) });
      else targets.push({ path, key: d.key });
    }
    if (targets.length === 0) return rc.error(400, `none of the keys is a cacheable path: ${rejected.map((r) => `${r.path} (${r.reason})`).join(", ")}`);
    records = targets.map((t) => ({ kind: "key", value: t.key }));
  } else if (spec.kind === "prefix") {
    const p = keyPrefixFor(rc.core, spec.prefix);
    if (p.error) return rc.error(400, p.error);
    spec.keyPrefix = p.key;
    records = [{ kind: "prefix", value: p.key }];
  } else {
    records = spec.tags.map((t) => ({ kind: "tag", value: t }));
  }

  const errors = [];
  const result = { kind: spec.kind, seq: null, propagated: false, removed: { memory: 0, edge: 0, shared: 0 }, sharedTier: tiers.shared ? tiers.shared.name : "none" };

  // 1. The purge log: other isolates and locations learn of the purge from it.
  let at = Date.now();
  const stub = controlStub(rc.env);
  if (stub) {
    try {
      const r = await withTimeout(stub.recordPurge(records), TIMEOUT_MS, "purge log");
      result.seq = r.seq;
      result.propagated = true;
      at = r.at;
    } catch (err) {
      errors.push({ step: "purge-log", message: String(err?.message || err) });
    }
  }
  // This isolate hides matching entries at once, whatever the control object said.
  for (const r of records) isolate.purgeLog.add({ ...r, at });

  // 2. The shared tier.
  if (tiers.shared) {
    try {
      const shared = tiers.shared;
      const r = spec.kind === "keys" ? await withTimeout(shared.purgeKeys(targets), TIMEOUT_MS, "shared purge")
        : await withTimeout(purgeByPattern(shared, spec), TIMEOUT_MS, "shared purge");
      result.removed.shared = r.removed;
      if (r.truncated) errors.push({ step: "shared", message: "more matching KV entries remain: repeat the purge" });
    } catch (err) {
      errors.push({ step: "shared", message: String(err?.message || err) });
    }
  }

  // 3. Cloudflare's Workers Cache in front of the worker, when there is one: by key tag, prefix or tag.
  result.workersCache = await purgeWorkersCache(rc, {
    keys: spec.kind === "keys" ? targets.map((t) => t.key) : [],
    prefixes: spec.kind === "prefix" ? [spec.prefix] : [],
    tags: spec.kind === "tags" ? spec.tags : [],
  });
  if (result.workersCache.error) errors.push({ step: "workers-cache", message: result.workersCache.error });

  // 4. This isolate's memory, and this location's edge cache for exact keys.
  if (spec.kind === "keys") {
    for (const t of targets) if (tiers.memory.delete(t.key)) result.removed.memory++;
    if (tiers.edge) {
      const deleted = await Promise.all(targets.map((t) => withTimeout(Promise.resolve(tiers.edge.delete(t.key)), TIMEOUT_MS, "edge delete").catch((err) => {
        errors.push({ step: "edge", message: String(err?.message || err) });
        return false;
      })));
      result.removed.edge = deleted.filter(Boolean).length;
    }
  } else {
    result.removed.memory = (await purgeByPattern(tiers.memory, spec)).removed;
    if (tiers.edge) {
      try {
        const r = await withTimeout(purgeByPattern(tiers.edge, spec), TIMEOUT_MS, "edge purge");
        result.removed.edge = r.removed;
        if (r.reachedBy) result.hiddenByPurgeLog = [tiers.edge.name];
      } catch (err) {
        errors.push({ step: "edge", message: String(err?.message || err) });
      }
    }
  }

  if (spec.kind === "keys") result.keys = targets.map((t) => t.key);
  if (spec.kind === "prefix") result.keyPrefix = spec.keyPrefix;
  if (spec.kind === "tags") result.tags = spec.tags;
  if (rejected.length) result.rejected = rejected;
  rc.log(errors.length ? "warn" : "info", "purge", {
    kind: spec.kind, count: records.length, removed: result.removed, seq: result.seq, rejected: rejected.length, errors: errors.length,
  });
  if (errors.length) {
    // Partly done: say what happened and that repeating the (idempotent) purge is safe.
    return jsonResponse({ error: "bad_gateway", status: 502, message: "purge incomplete: a storage tier failed; repeating the purge is safe", ...result, errors }, 502, rc.cfg);
  }
  return jsonResponse({ ok: true, ...result }, 200, rc.cfg);
}

// Unsafe-method invalidation (RFC 9111 §4.4): the purge records the core chose after a successful POST, PUT,
// PATCH or DELETE ([{kind: "key"|"prefix", value}]). This isolate forgets the entries before the response
// goes out (its purge log hides every tier's older copies from then on); the purge log carries the records to
// every other isolate and location; the shared tier and this location's edge cache delete in the background.
export function invalidate(rc, records) {
  if (records.length === 0) return;
  metrics.invalidated(records.length);
  const at = Date.now();
  for (const r of records) isolate.purgeLog.add({ ...r, at });
  const tiers = tiersFor(rc.env, rc.cfg, rc.core, rc.url);
  const keys = records.filter((r) => r.kind === "key").map((r) => r.value);
  const prefixes = records.filter((r) => r.kind === "prefix").map((r) => r.value);
  for (const key of keys) tiers.memory.delete(key);
  for (const prefix of prefixes) tiers.memory.purgePrefix(prefix);
  rc.log("info", "invalidated", { method: rc.request.method, records: records.length });
  rc.ctx.waitUntil((async () => {
    const steps = [];
    const stub = controlStub(rc.env);
    if (stub) steps.push(withTimeout(stub.recordPurge(records), TIMEOUT_MS, "purge log"));
    if (tiers.shared) {
      if (keys.length) steps.push(withTimeout(tiers.shared.purgeKeys(keys.map((key) => ({ key }))), TIMEOUT_MS, "shared purge"));
      for (const prefix of prefixes) steps.push(withTimeout(tiers.shared.purgePrefix(prefix), TIMEOUT_MS, "shared purge"));
    }
    if (tiers.edge) for (const key of keys) steps.push(withTimeout(Promise.resolve(tiers.edge.delete(key)), TIMEOUT_MS, "edge delete"));
    // Workers Cache: the keys' tags; a prefix record (every variant of one key) as its request path.
    const base = rc.core.report?.originBase || "";
    const paths = prefixes.map((p) => (p.startsWith(base) ? p.slice(base.length) : p).split(/[?\n]/)[0]).filter((p) => p.startsWith("/"));
    steps.push(purgeWorkersCache(rc, { keys, prefixes: paths }));
    const results = await Promise.allSettled(steps);
    const failed = results.filter((r) => r.status === "rejected");
    if (failed.length) {
      // Every isolate of this location already hides the entries (purge log); a missed shared-tier delete
      // leaves a copy that the log hides until it expires.
      rc.log("warn", "invalidation_incomplete", { failed: failed.length, message: String(failed[0].reason?.message || failed[0].reason) });
    }
  })());
}
