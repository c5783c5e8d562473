// Fetching from the origin on the serving path: one fetch per key at a time in this isolate (coalescing),
// conditional when an entry's validators exist, interim responses resolved, the store verdict asked of the
// core, the entry written to the tiers, and background refreshes for stale-while-revalidate.
// The generated ABI constants, not core_bridge.js (which loads the Wasm module): this file loads in plain Node.
import * as ABI from "./generated/abi_layout.js";
import { metrics } from "./metrics.js";
import { OriginError, bufferBody, fetchOrigin, originUrl, upstreamHeaders } from "./origin_client.js";
import { isolate } from "./isolate_context.js";
import { evaluateFor, fieldsOf, fieldsWith } from "./response_assembly.js";
import { storeInTiers } from "./tiers/tier_set.js";
import { hopFor } from "./loop_guard.js";
import { UpstreamRefusal, answerRefusal, judgeUpstreamAnswer, scrubSecret, spendUpstreamCall, upstreamOf, upstreamRequest } from "./upstreams.js";

// Per-isolate coordination (isolate.originFlights, isolate.refreshFlights in isolate_context.js): one origin
// fetch per key at a time, one background refresh per key at a time.
export function originFetchInFlight(key) {
  return isolate.originFlights.has(key);
}

// A miss waits at most ORIGIN_TIMEOUT_MS from the request's arrival for the origin's answer to begin: time
// spent before the fetch (the rate limiter, the slower tiers, a lease wait) comes out of the origin's share
// rather than adding to it (docs/operations.md). Date.now() scale.
export function missDeadlineMs(rc) {
  return rc.now + rc.cfg.originTimeoutMs;
}

function originBudgetMs(rc) {
  return missDeadlineMs(rc) - Date.now();
}

// Interim heads and the final head the runtime may hand over as a body are bounded by this, on top of the
// body limit.
const INTERIM_HEAD_ALLOWANCE_BYTES = 64 * 1024;

// fetchOrigin, counted in the metrics: its latency, and success unless it failed or answered 5xx.
export async function fetchOriginCounted(url, init, timeoutMs, hop) {
  const started = Date.now();
  try {
    const res = await fetchOrigin(url, init, timeoutMs, hop);
    metrics.origin(Date.now() - started, res.status < 500);
    return res;
  } catch (err) {
    metrics.origin(Date.now() - started, false);
    throw err;
  }
}

// The origin's final response as {status, fields, response, body?}. A status outside 100-599 has no meaning a
// client could act on (RFC 9110 §15): 502. An interim status (1xx but 101) means the local runtime handed the
// rest of the exchange over as the body (src/interim_response.h): the final response is read from it, with
// its body already buffered.
export async function finalResponse(rc, res) {
  const status = res.status;
  if (status >= 200 && status <= 599) return { status, fields: fieldsOf(res.headers), response: res };
  if (status >= 100 && status <= 199 && status !== 101) {
    const buffered = await bufferBody(res, rc.cfg.maxCacheBodyBytes + INTERIM_HEAD_ALLOWANCE_BYTES, rc.cfg.originTimeoutMs);
    if (buffered.stream) {
      await buffered.stream.cancel().catch(() => {});
      throw new OriginError("invalid-response", `origin sent interim response ${status} and a final response too large to read`);
    }
    const parsed = rc.core.parseInterim(buffered.body);
    if (parsed.error === 0 && parsed.status >= 200 && parsed.status <= 599) {
      return { status: parsed.status, fields: parsed.fields, response: res, body: parsed.body };
    }
    throw new OriginError("invalid-response", `origin sent interim response ${status} without a readable final response`);
  }
  await res.body?.cancel().catch(() => {});
  throw new OriginError("invalid-response", `origin answered with status ${status}, which is not an HTTP status`);
}

// The verdict's fields with `bit`, and a Date when the core says the origin sent no valid one (RFC 9110
// §6.6.1: a cache adds it, as the time the response arrived).
function fieldsFor(fields, verdict, bit, nowMs) {
  const out = fieldsWith(fields, verdict.dispositions, bit);
  if (verdict.addDate) out.push(["date", new Date(nowMs).toUTCString()]);
  return out;
}

function headerValue(fields, name) {
  for (const [n, v] of fields) if (n === name) return v;
  return "";
}

// storedAtMs may precede the response's arrival (a request's start: see fetchFromOrigin); the initial age
// is then reduced by the difference, so initial age + time since storedAtMs is still the response's age.
export function entryFromOrigin(rc, decision, status, stored, body, verdict, storedAtMs, responseTimeMs) {
  return {
    key: decision.key,
    status,
    headers: stored,
    body,
    storedAtMs,
    ttlS: verdict.ttlS,
    staleWhileRevalidateS: verdict.staleWhileRevalidateS,
    staleIfErrorS: verdict.staleIfErrorS,
    staleIfUnreachableS: verdict.staleIfUnreachableS,
    initialAgeS: Math.max(0, verdict.ageS - Math.floor(Math.max(0, responseTimeMs - storedAtMs) / 1000)),
    classIndex: decision.classIndex,
    etag: headerValue(stored, "etag"),
    lastModified: headerValue(stored, "last-modified"),
    tags: decision.tags ? decision.tags.split("\n") : [],
    variant: variantOf(rc.request, verdict.variantNames),
  };
}

// The request's values of the fields the response varies on (Vary), as the entry keeps them; an absent
// field is kept as LF, which no field value can contain (src/variant.h).
const VARIANT_ABSENT = "\n";
function variantOf(request, names) {
  return names.map((name) => [name, request.headers.get(name) ?? VARIANT_ABSENT]);
}

function unreadable(rc) {
  return new OriginError("invalid-response", "origin response header fields could not be read (too many or too large)");
}

// A 304 answering the worker's conditional request for staleEntry: the entry renewed with the 304's fields
// (RFC 9111 §4.3.4) and stored again, or null when the 304 is about another representation.
// An entry's stored fields with its validators among them (entries of envelope v1/v2 may hold the validators
// in their own fields only).
function storedFieldsWithValidators(entry) {
  const fields = entry.headers.slice();
  if (entry.etag && !fields.some(([n]) => n === "etag")) fields.push(["etag", entry.etag]);
  if (entry.lastModified && !fields.some(([n]) => n === "last-modified")) fields.push(["last-modified", entry.lastModified]);
  return fields;
}

function renewFromNotModified(rc, decision, tiers, staleEntry, staleTier, final, requestTimeMs, nowMs) {
  const merged = rc.core.mergeNotModified(storedFieldsWithValidators(staleEntry), final.fields);
  if (merged.match !== ABI.NotModifiedMatch.Matches) return null;
  metrics.revalidated();
  // The 304's own Age counts for the renewed entry's age; it is never stored (the core drops it).
  const age = final.fields.filter(([n]) => n === "age");
  const fields = merged.merged.concat(age);
  const verdict = rc.core.decideResponse(decision, staleEntry.status, fields, { nowMs, requestTimeMs, bodyLength: staleEntry.body.byteLength });
  if (!verdict.dispositions) throw unreadable(rc);
  const stored = fieldsFor(fields, verdict, ABI.HeaderDisposition.Store, nowMs);
  if (!verdict.storable) {
    return { kind: "response", status: staleEntry.status, forward: fieldsFor(fields, verdict, ABI.HeaderDisposition.Forward, nowMs), body: staleEntry.body, entry: null, shareable: false, verdict };
  }
  // A new object without the stale one's per-entry caches (its header template holds the old headers).
  const { _headerTemplate, _size, ...stale } = staleEntry;
  const renewed = {
    ...stale, headers: stored, storedAtMs: nowMs, ttlS: verdict.ttlS, initialAgeS: verdict.ageS,
    variant: variantOf(rc.request, verdict.variantNames),
    staleWhileRevalidateS: verdict.staleWhileRevalidateS, staleIfErrorS: verdict.staleIfErrorS,
    staleIfUnreachableS: verdict.staleIfUnreachableS, etag: headerValue(stored, "etag"), lastModified: headerValue(stored, "last-modified"),
  };
  // When the stale copy came from KV, KV's copy is left as it is: its body and validators are still
  // right, and KV writes are spent on new content. Memory, edge and Durable Objects take the renewal; a
  // reader of KV's older copy revalidates it in turn (a 304, no body) until KV expires it (ttl + the
  // longer stale window). A renewal of a copy KV does not hold goes through KV's admission as usual.
  const mask = staleTier === "kv" ? verdict.tiers & ~ABI.TierBit.Kv : verdict.tiers;
  storeInTiers(tiers, decision, renewed, mask, rc.ctx, rc.log);
  return { kind: "revalidated", entry: renewed };
}

// Fetches the key from the origin (GET, even for HEAD, so the result can be stored), decides
// storability with the core, stores, and returns a shareable result:
//   {kind: "response", status, forward ([name, value][] for the client), body (Uint8Array), entry|null,
//    shareable, verdict}
//   {kind: "stream", response, stream, forward}   too large to buffer: passed through, not stored
//   {kind: "revalidated", entry}    304 on a conditional refresh: the old entry renewed
// Throws OriginError on network failure, timeout or a response that is not HTTP.
// staleTier: the tier staleEntry was read from ("kv" means KV holds that copy).
// options.background: a stale-while-revalidate refresh (an upstream's day reserve is not for it).
export async function fetchFromOrigin(rc, decision, tiers, staleEntry, staleTier = null, options = {}) {
  const validators = staleEntry && (staleEntry.etag || staleEntry.lastModified)
    ? { etag: staleEntry.etag, lastModified: staleEntry.lastModified } : null;
  // A rule with an `origin` (upstreams.js): the call must fit the upstream's quota, and carries its secret.
  const upstream = upstreamOf(rc, decision);
  let url, headers, timeoutMs = rc.cfg.originTimeoutMs, secret = null;
  if (upstream) {
    const purpose = options.background ? ABI.UpstreamPurpose.Background : rc.warming ? ABI.UpstreamPurpose.Warm : ABI.UpstreamPurpose.Client;
    await spendUpstreamCall(rc, decision, upstream, purpose);
    ({ url, headers, timeoutMs, secret } = upstreamRequest(rc, decision, upstream, validators));
  } else {
    url = originUrl(rc.cfg, decision.originTarget);
    headers = upstreamHeaders(rc.request, {
      cacheable: true, validators, forwarding: rc.core.forwarding, credentials: rc.core.credentials, ruleIndex: decision.ruleIndex,
      variantFields: rc.variantFields,
    });
    // The client's User-Agent is not forwarded (unkeyed input); the origin sees the cache itself.
    headers.set("user-agent", rc.warming ? "edge-cache-warmer" : `edge-cache/${rc.cfg.version}`);
  }
  const requestTimeMs = Date.now();
  // The miss's budget (missDeadlineMs) counts from the request's arrival with this origin's own timeout: time
  // already spent on the limiter and the cache tiers comes out of it.
  const budgetMs = rc.now + timeoutMs - Date.now();
  if (budgetMs <= 0) {
    throw new OriginError("timeout", `no time left for the origin: the request's ${timeoutMs} ms went to the cache tiers`);
  }
  let res, final;
  try {
    // The loop guard's hop goes to upstreams too: an ORIGIN_URLS entry that leads back here is stopped the same way.
    res = await fetchOriginCounted(url, { method: "GET", headers }, budgetMs, hopFor(rc.request, rc.cfg));
    final = await finalResponse(rc, res);
  } catch (err) {
    // A runtime's error text may quote the URL: the secret in it never reaches a log or a client.
    if (secret && err instanceof OriginError) err.message = scrubSecret(err.message, secret);
    throw err;
  }
  const nowMs = Date.now();

  if (final.status === 304 && validators) {
    const renewed = renewFromNotModified(rc, decision, tiers, staleEntry, staleTier, final, requestTimeMs, nowMs);
    if (renewed) return renewed;
    // The 304 names another representation than the one stored: ask again, unconditionally.
    rc.log("warn", "not_modified_mismatch", { key: decision.key });
    return fetchFromOrigin(rc, decision, tiers, null, null, options);
  }

  let body = final.body;
  if (!body) {
    const buffered = await bufferBody(res, rc.cfg.maxCacheBodyBytes, rc.cfg.originTimeoutMs);
    if (buffered.stream) {
      const verdict = rc.core.decideResponse(decision, final.status, final.fields, { nowMs, requestTimeMs, streamed: true });
      if (!verdict.dispositions) {
        await buffered.stream.cancel().catch(() => {});
        throw unreadable(rc);
      }
      return { kind: "stream", response: res, stream: buffered.stream, forward: fieldsFor(final.fields, verdict, ABI.HeaderDisposition.Forward, nowMs), verdict };
    }
    body = buffered.body;
  }
  // An upstream's error in disguise is never stored (the throw skips the store); 429 / 5xx are marked so the
  // caller answers stale instead when it can.
  const upstreamError = upstream ? judgeUpstreamAnswer(rc, upstream, secret, final.status, body, final.fields).errorStatus : false;
  const verdict = rc.core.decideResponse(decision, final.status, final.fields, { nowMs, requestTimeMs, bodyLength: body.byteLength });
  if (!verdict.dispositions) throw unreadable(rc);
  const result = {
    kind: "response", status: final.status, forward: fieldsFor(final.fields, verdict, ABI.HeaderDisposition.Forward, nowMs),
    body, entry: null, shareable: verdict.shareable, verdict, upstreamError,
  };
  if (verdict.storable) {
    const stored = fieldsFor(final.fields, verdict, ABI.HeaderDisposition.Store, nowMs);
    // storedAtMs is when the request started: a purge issued while this fetch was in flight hides it.
    result.entry = entryFromOrigin(rc, decision, final.status, stored, body, verdict, rc.now, nowMs);
    storeInTiers(tiers, decision, result.entry, verdict.tiers, rc.ctx, rc.log);
  }
  return result;
}

// Coalesced origin fetch: concurrent misses for one key share the leader's result when it is
// shareable; otherwise each follower fetches for itself.
//
// The leader's promise belongs to the leader's request. workerd cancels continuations of a promise whose
// creating request has ended, and treats a request with nothing pending in its own context as hung —
// so a follower never waits on the leader alone: it also holds a timer of its own, and if the leader's
// result has not reached it by the origin deadline (plus a margin), it fetches for itself.
const FOLLOWER_MARGIN_MS = 1000;
const FELL_THROUGH = Symbol("leader result did not arrive");

export async function coalescedFetch(rc, decision, tiers, staleEntry, staleTier) {
  const flight = isolate.originFlights.run(decision.key, () => fetchFromOrigin(rc, decision, tiers, staleEntry, staleTier));
  if (flight.leader) return flight.promise;
  metrics.coalesced();
  let timer;
  const ownDeadline = new Promise((resolve) => {
    timer = setTimeout(() => resolve(FELL_THROUGH), Math.max(0, originBudgetMs(rc)) + FOLLOWER_MARGIN_MS);
  });
  let result;
  try {
    // A failed origin is failed for the followers too (the await rethrows): no retry storm.
    result = await Promise.race([flight.promise, ownDeadline]);
  } finally {
    clearTimeout(timer);
  }
  if (result === FELL_THROUGH) {
    rc.log("warn", "coalesced_wait_expired", { key: decision.key });
    return fetchFromOrigin(rc, decision, tiers, staleEntry, staleTier);
  }
  // The leader's response was selected by the leader's request fields (Vary): shared only when this
  // request's values of them match.
  const entry = result.entry;
  const sameVariant = !entry || entry.variant.length === 0 ||
    evaluateFor(rc, entry, decision).freshness !== ABI.Freshness.VariantMismatch;
  if (sameVariant && (result.kind === "revalidated" || (result.kind === "response" && result.shareable))) return result;
  return fetchFromOrigin(rc, decision, tiers, staleEntry, staleTier);
}

// stale-while-revalidate: one background refresh per key at a time.
export function refreshInBackground(rc, decision, tiers, staleEntry, staleTier) {
  if (rc.headersTooLargeForOrigin()) return; // the stale entry is served; a later request refreshes it
  const flight = isolate.refreshFlights.run(decision.key, async () => {
    try {
      await fetchFromOrigin(rc, decision, tiers, staleEntry, staleTier, { background: true });
    } catch (err) {
      if (err instanceof UpstreamRefusal) {
        // The core's answer for a background refresh it refused is to skip it: the stale entry was served.
        metrics.upstream(err.upstream.name, "skipped");
        rc.log("info", "background_refresh_skipped", { upstream: err.upstream.name, reason: rc.core.report.reasons[err.outcome.reason] });
        return;
      }
      rc.log("warn", "background_refresh_failed", { message: String(err?.message || err) });
    }
  });
  if (flight.leader) rc.ctx.waitUntil(flight.promise);
}

export function originErrorResponse(rc, err) {
  // A call the upstream's quota does not allow, and no stale entry at hand: the core's 503 with Retry-After.
  if (err instanceof UpstreamRefusal) return answerRefusal(rc, null, err, null).response;
  if (err instanceof OriginError) {
    metrics.miss();
    rc.log("warn", "origin_error", { kind: err.kind, message: err.message });
    return rc.error(err.status, err.kind === "config" ? "the worker's BACKEND_URL is not configured correctly" : err.message);
  }
  throw err;
}
