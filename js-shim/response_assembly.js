// Response assembly: the bytes the client gets, built from a stored entry (hits, stale answers, 304s) or
// from an origin result (misses, pass-throughs). Which fields are sent, the Age, the conditional outcome
// and whether anything is stored come from the core; this module copies them into a Response.
// The generated ABI constants, not core_bridge.js (which loads the Wasm module): this file loads in plain Node.
import * as ABI from "./generated/abi_layout.js";
import { applyCorsToFields } from "./cors.js";
import { CACHE_STATUS, cacheStatusValue } from "./responses.js";
import { debugHeaders, debugReason, keyHeaderValue } from "./request_context.js";
import { applyDownstreamToFields, applyDownstreamToHeaders } from "./downstream.js";

export const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

// A message's fields as [name, value] pairs, in order (names lower-case, as the runtime gives them).
export function fieldsOf(headers) {
  const out = [];
  for (const pair of headers) out.push(pair);
  return out;
}

// The pairs whose disposition (from the core's store verdict) has `bit` set.
export function fieldsWith(fields, dispositions, bit) {
  const out = [];
  for (let i = 0; i < fields.length; i++) if ((dispositions[i] & bit) !== 0) out.push(fields[i]);
  return out;
}

// The client's preconditions and If-Range, read only when the decision says it sent a precondition or a range.
export function clientPreconditions(request) {
  const h = request.headers;
  return { ifNoneMatch: h.get("if-none-match"), ifModifiedSince: h.get("if-modified-since"), ifRange: h.get("if-range") };
}

// The hit path's response headers come from a plain-object template built once per entry (stored
// headers plus the worker's version headers): `new Headers(arrayOfPairs)` followed by several set()
// calls costs about twice as much CPU per hit in workerd as one `new Headers(object)`.
function headerTemplate(rc, entry) {
  let t = entry._headerTemplate;
  if (t && t["x-worker-version"] === rc.cfg.version && t["x-worker-environment"] === rc.cfg.environment) return t;
  t = {};
  for (const [n, v] of entry.headers) t[n] = t[n] === undefined ? v : `${t[n]}, ${v}`;
  t["x-worker-version"] = rc.cfg.version;
  t["x-worker-environment"] = rc.cfg.environment;
  entry._headerTemplate = t;
  return t;
}

// A stored entry as the answer. The headers are assembled in one plain object and handed to the Response as
// is: no Headers object, no set() calls (each is a call into the runtime).
//   evaluation: the core's evaluation of the entry for this request ({ageS, remainingS, conditional}); its
//   `conditional` is NotModified when the client's precondition matched (then the answer is a 304).
export function responseFromEntry(rc, entry, decision, cacheStatus, { tier, evaluation }) {
  const fields = { ...headerTemplate(rc, entry), "cache-status": cacheStatusValue(rc.cfg, cacheStatus, evaluation) };
  const ageS = String(evaluation.ageS);
  fields["cache-age"] = ageS;
  fields.age = ageS;
  if (tier) fields["x-cache-tier"] = tier;
  applyCorsToFields(rc.request, fields, rc.cfg);
  if (rc.cfg.debugHeaders) {
    fields["x-cache-reason"] = debugReason(rc, decision);
    if (decision.key) fields["x-cache-key"] = keyHeaderValue(decision.key);
  }
  applyDownstreamToFields(rc, decision, fields, {
    remainingS: evaluation.remainingS, ageS: evaluation.ageS, entry, servedFromTiers: cacheStatus === CACHE_STATUS.HIT && tier !== undefined,
  });
  if (evaluation.conditional === ABI.ConditionalOutcome.NotModified) {
    return new Response(null, { status: 304, headers: fields });
  }
  if (evaluation.range === ABI.RangeOutcome.Partial) {
    // One byte range of the stored body (RFC 9110 §14.4); the core resolved it against the body's length.
    const length = entry.body.byteLength;
    fields["content-range"] = `bytes ${evaluation.rangeFirst}-${evaluation.rangeLast}/${length}`;
    fields["content-length"] = String(evaluation.rangeLast - evaluation.rangeFirst + 1);
    return new Response(entry.body.subarray(evaluation.rangeFirst, evaluation.rangeLast + 1), { status: 206, headers: fields });
  }
  if (evaluation.range === ABI.RangeOutcome.Unsatisfiable) {
    fields["content-range"] = `bytes */${entry.body.byteLength}`;
    return new Response(null, { status: 416, headers: fields });
  }
  const body = rc.isHead || NULL_BODY_STATUSES.has(entry.status) ? null : entry.body;
  if (body !== null) fields["content-length"] = String(entry.body.byteLength);
  return new Response(body, { status: entry.status, headers: fields });
}

// The core's evaluation of an entry for this request, with the client's precondition when it sent one.
export function evaluateFor(rc, entry, decision, nowMs = rc.now) {
  const asks = (decision.flags & (ABI.DecisionFlag.Conditional | ABI.DecisionFlag.Range)) !== 0;
  return rc.core.evaluateEntry(entry, decision, nowMs, asks ? clientPreconditions(rc.request) : undefined, rc.request.headers);
}

// An origin result as the answer:
//   {kind: "revalidated", entry}   a 304 renewed the stored entry: answered from it
//   {kind: "stream", response, forward}   too large to buffer: the origin's body streams through
//   {kind: "response", status, forward, body, verdict}   a buffered origin response
export function responseFromResult(rc, decision, result, cacheStatus) {
  if (result.kind === "revalidated") {
    return responseFromEntry(rc, result.entry, decision, cacheStatus, { evaluation: evaluateFor(rc, result.entry, decision, Date.now()) });
  }
  // A range asked of a response just stored is served from the entry, as a hit would be.
  if (result.kind === "response" && result.entry && (decision.flags & ABI.DecisionFlag.Range) !== 0) {
    const evaluation = evaluateFor(rc, result.entry, decision, Date.now());
    if (evaluation.range !== ABI.RangeOutcome.Full) return responseFromEntry(rc, result.entry, decision, cacheStatus, { evaluation });
  }
  const headers = new Headers(result.forward);
  if (result.verdict?.ageS > 0) headers.set("age", String(result.verdict.ageS));
  // A browser never keeps a MISS under a class's browserTtl: its replays would say MISS for what was then a
  // cached answer (the frontends count cache-status). It revalidates once, and keeps the HIT.
  applyDownstreamToHeaders(rc, decision, headers, { remainingS: 0, originOwn: Boolean(result.verdict?.downstreamOrigin) });
  if (result.kind === "stream") {
    headers.set("cache-status", cacheStatusValue(rc.cfg, CACHE_STATUS.BYPASS));
    rc.stamp(headers);
    debugHeaders(rc, headers, decision);
    return new Response(rc.isHead ? null : result.stream, { status: result.response.status, headers });
  }
  headers.set("cache-status", cacheStatusValue(rc.cfg, cacheStatus, undefined, result));
  rc.stamp(headers);
  debugHeaders(rc, headers, decision);
  if (result.verdict && rc.cfg.debugHeaders) headers.set("x-cache-store", rc.core.report.reasons[result.verdict.reason] || "");
  const body = rc.isHead || NULL_BODY_STATUSES.has(result.status) ? null : result.body;
  return new Response(body, { status: result.status, headers });
}
