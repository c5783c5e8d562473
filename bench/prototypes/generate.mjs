// Builds the "project-proto" worker in bench/.proto/ (git-ignored): the CURRENT shim (working tree) with
// two proposed hot-path changes applied as text patches, so the bench can measure their gain against
// the shipped code in the same run. Nothing under js-shim/ is modified; the lead owns those files.
//
//   1. core_bridge.js: decideRequestFast(method, target, headers, nowMs) — one pass over the request
//      headers (the ABI slot values and the total header size together) instead of ~10 headers.get()
//      calls plus a separate pass in cache_handler.js's headerBytes(); ASCII fast paths for writing the
//      target/header values into the scratch region and for reading key/target/tags back.
//   2. cache_handler.js: responseFromEntry builds the response headers from a per-entry plain-object
//      template (stored headers + x-worker-* + x-cache-tier, built once per entry) spread into one
//      object, instead of `new Headers(entry.headers)` (an array of pairs: the slow conversion path in
//      workerd) followed by ~8 set() calls. CORS is applied to the response's headers as before.
//
// If a patch no longer applies (the shim changed), the prototype is not built and the bench says so.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const protoDir = join(root, "bench/.proto");

const FAST_BRIDGE_METHODS = `
  // ---- prototype (bench/prototypes/generate.mjs) ----
  putAscii(cursor, value) {
    const n = value.length;
    if (cursor + n > this.scratch + ABI.kScratchBytes) return this.putString(cursor, value);
    const u8 = this.u8;
    for (let i = 0; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c > 0x7f) return this.putString(cursor, value);
      u8[cursor + i] = c;
    }
    return cursor + n;
  }

  readAscii(offset, length) {
    if (length === 0) return "";
    if (length > 256) return this.readString(offset, length);
    const u8 = this.u8;
    let out = "";
    for (let i = 0; i < length; i++) {
      const c = u8[offset + i];
      if (c > 0x7f) return this.readString(offset, length);
      out += String.fromCharCode(c);
    }
    return out;
  }

  decideRequestFast(method, target, headers, nowMs) {
    this.refreshViews();
    if (!this.slotOf) {
      this.slotOf = new Map(this.requestHeaderNames.map((name, slot) => [name, slot]));
      this.slotValues = new Array(ABI.kReqHeaderSlots).fill(null);
    }
    const slotOf = this.slotOf;
    const values = this.slotValues;
    values.fill(null);
    let totalHeaderBytes = 0;
    for (const [name, value] of headers) {
      totalHeaderBytes += name.length + value.length + 4;
      const slot = slotOf.get(name);
      if (slot !== undefined && slot < ABI.kReqHeaderSlots) values[slot] = value;
    }
    const s = this.scratch;
    this.putF64(s, ABI.kReqNowMs, nowMs);
    this.putU32(s, ABI.kReqMethod, METHOD_CODES[method] || 0);
    this.putU32(s, ABI.kReqTotalHeaderBytes, totalHeaderBytes);
    let cursor = this.putAscii(s + ABI.kReqStrings, target);
    if (cursor < 0) return null;
    this.putU32(s, ABI.kReqUrlLength, cursor - (s + ABI.kReqStrings));
    for (let slot = 0; slot < ABI.kReqHeaderSlots; slot++) {
      const value = values[slot];
      if (value === null) {
        this.putU32(s, ABI.kReqHeaderLengths + slot * 4, ABI.kAbsent);
        continue;
      }
      const start = cursor;
      cursor = PRESENCE_ONLY.has(slot) ? cursor : this.putAscii(cursor, value);
      if (cursor < 0) return null;
      this.putU32(s, ABI.kReqHeaderLengths + slot * 4, cursor - start);
    }
    const action = this.exports.ec_decide_request();
    const r = this.result;
    const keyLength = this.getU32(r, ABI.kDecKeyLength);
    const targetLength = this.getU32(r, ABI.kDecOriginTargetLength);
    const tagsLength = this.getU32(r, ABI.kDecTagsLength);
    const strings = r + ABI.kDecStrings;
    return {
      action,
      reason: this.getU32(r, ABI.kDecReason),
      httpStatus: this.getU32(r, ABI.kDecHttpStatus),
      localRoute: this.getU32(r, ABI.kDecLocalRoute),
      classIndex: this.getU32(r, ABI.kDecClass),
      ruleIndex: this.getU32(r, ABI.kDecRule),
      ttlS: this.getU32(r, ABI.kDecTtlS),
      staleWhileRevalidateS: this.getU32(r, ABI.kDecStaleWhileRevalidateS),
      staleIfErrorS: this.getU32(r, ABI.kDecStaleIfErrorS),
      negativeTtlS: this.getU32(r, ABI.kDecNegativeTtlS),
      tiers: this.getU32(r, ABI.kDecTiers),
      flags: this.getU32(r, ABI.kDecFlags),
      shard: this.getU32(r, ABI.kDecShard),
      marketSession: this.getU32(r, ABI.kDecMarketSession),
      key: this.readAscii(strings, keyLength),
      originTarget: this.readAscii(strings + keyLength, targetLength),
      tags: tagsLength ? this.readAscii(strings + keyLength + targetLength, tagsLength) : "",
    };
  }

  decideResponse(`;

const FAST_RESPONSE_FROM_ENTRY = `// ---- prototype (bench/prototypes/generate.mjs): headers from a per-entry plain-object template ----
function entryHeaderTemplate(rc, entry, tier) {
  const t = entry._headerTemplate;
  if (t && t.source === entry.headers && t.tier === tier && t.cfg === rc.cfg) return t.headers;
  const headers = {};
  for (const [n, v] of entry.headers) headers[n] = n in headers ? \`\${headers[n]}, \${v}\` : v;
  headers["x-worker-version"] = rc.cfg.version;
  headers["x-worker-environment"] = rc.cfg.environment;
  if (tier) headers["x-cache-tier"] = tier;
  entry._headerTemplate = { source: entry.headers, tier, cfg: rc.cfg, headers };
  return headers;
}

function responseFromEntry(rc, entry, decision, cacheStatus, { tier, ageS }) {
  if (rc.cfg.debugHeaders) return responseFromEntryShipped(rc, entry, decision, cacheStatus, { tier, ageS });
  const headers = { ...entryHeaderTemplate(rc, entry, tier), "cache-status": cacheStatus };
  if (ageS !== undefined) {
    headers["cache-age"] = String(ageS);
    headers.age = String(ageS);
  }
  const notModified = entry.status >= 200 && entry.status < 300 && clientConditionalMatches(rc.request, entry);
  const body = notModified || rc.isHead || NULL_BODY_STATUSES.has(entry.status) ? null : entry.body;
  if (body !== null) headers["content-length"] = String(entry.body.byteLength);
  const res = new Response(body, { status: notModified ? 304 : entry.status, headers });
  applyCors(rc.request, res.headers, rc.cfg);
  return res;
}

function responseFromEntryShipped(`;

function patch(text, from, to, what) {
  if (!text.includes(from)) throw new Error(`prototype patch "${what}" no longer applies`);
  return text.replace(from, to);
}

// Rewrites `from "./x.js"` imports to the shipped modules, except the ones given in `local`.
function rewriteImports(text, local) {
  return text.replace(/from "\.\/([^"]+)"/g, (m, path) => (local.includes(path) ? m : `from "../../js-shim/${path}"`))
    .replace(/import "\.\/([^"]+)"/g, (m, path) => (local.includes(path) ? m : `import "../../js-shim/${path}"`));
}

// Returns {ok: true} or {ok: false, error}. Always leaves a usable bench/.proto/core_bridge.js (for the
// decision fixture): the patched bridge, or a fallback that maps decideRequestFast to decideRequest.
export function generatePrototype() {
  rmSync(protoDir, { recursive: true, force: true });
  mkdirSync(protoDir, { recursive: true });
  const shim = (f) => readFileSync(join(root, "js-shim", f), "utf8");
  const local = ["core_bridge.js", "cache_handler.js"];
  try {
    let bridge = shim("core_bridge.js");
    bridge = patch(bridge, "\n  decideResponse(", FAST_BRIDGE_METHODS, "bridge: decideRequestFast");
    writeFileSync(join(protoDir, "core_bridge.js"), rewriteImports(bridge, local));

    let handler = shim("cache_handler.js");
    handler = patch(handler,
      "c.decideRequest(request.method, rawTarget(request.url), request.headers, now, headerBytes(request.headers))",
      "c.decideRequestFast(request.method, rawTarget(request.url), request.headers, now)", "handler: decideRequestFast");
    handler = patch(handler, "function responseFromEntry(", FAST_RESPONSE_FROM_ENTRY, "handler: responseFromEntry");
    if (!/import \{[^}]*\bapplyCors\b[^}]*\} from "\.\/cors\.js"/.test(handler)) throw new Error('prototype patch "handler: applyCors import" no longer applies');
    writeFileSync(join(protoDir, "cache_handler.js"), rewriteImports(handler, local));

    writeFileSync(join(protoDir, "worker.js"), rewriteImports(shim("worker.js"), local));
    return { ok: true, files: readdirSync(protoDir) };
  } catch (err) {
    writeFileSync(join(protoDir, "core_bridge.js"), [
      'export * from "../../js-shim/core_bridge.js";',
      'import { getCore as shippedGetCore, withCore as shippedWithCore } from "../../js-shim/core_bridge.js";',
      "const alias = (c) => { c.decideRequestFast ??= (m, t, h, now) => c.decideRequest(m, t, h, now, 0); return c; };",
      "export const getCore = (env) => alias(shippedGetCore(env));",
      "export const withCore = (env, fn) => shippedWithCore(env, (c) => fn(alias(c)));",
      "",
    ].join("\n"));
    return { ok: false, error: String(err.message || err) };
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) console.log(generatePrototype());
