// The serving path: asks the core for a decision, then moves bytes accordingly — memory tier, slower
// tiers, the origin (coalesced, conditional when validators exist), stale serving — and assembles the
// response. Every choice (key, TTL, tiers, freshness, storability) comes from the core.
import { ABI, withCore } from "./core_bridge.js";
import { applyCors, applyCorsToFields, preflightResponse } from "./cors.js";
import { metrics } from "./metrics.js";
import {
  CACHE_STATUS, isForwardableResponseHeader, jsonError, logEvent, stampWorkerHeaders, storedHeaderPairs,
} from "./responses.js";
import {
  OriginError, SingleFlight, bufferBody, fetchOrigin, forwardedHeaderBytes, originUrl, upstreamHeaders,
} from "./origin_client.js";
import {
  lookupSlowTiersCoalesced, noteKvRequest, noteServedForKv, storeInTiers, tierAllowed, tiersFor,
} from "./tiers/tier_set.js";
import { maybeFlushMetrics } from "./control_sync.js";
import { handleLocalRoute } from "./local_routes.js";
import { withRateLimit } from "./rate_limiter.js";
import { PUBLIC_ACCESS, authenticate, recordOriginVerdict } from "./auth.js";

// Per-isolate coordination, owned here: one origin fetch per key at a time, one background refresh
// per key at a time.
const originFlights = new SingleFlight();
const refreshFlights = new SingleFlight();

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

// The request-target exactly as received (origin-form), so the core sees what the client sent —
// including dot segments and odd encodings it must reject — rather than a URL parser's repair of it.
export function rawTarget(requestUrl) {
  const pathStart = requestUrl.indexOf("/", requestUrl.indexOf("//") + 2);
  if (pathStart < 0) return "/";
  const hash = requestUrl.indexOf("#", pathStart);
  return hash < 0 ? requestUrl.slice(pathStart) : requestUrl.slice(pathStart, hash);
}

class RequestContext {
  constructor(request, env, ctx, cfg, core, now, url = request.url) {
    this.request = request;
    // request.url is a getter that builds a new string on every read: read once.
    this.url = url;
    this.env = env;
    this.ctx = ctx;
    this.cfg = cfg;
    this.core = core;
    this.now = now;
    this.isHead = request.method === "HEAD";
  }
  log(level, event, fields) {
    logEvent(level, event, fields);
  }
  stamp(headers) {
    stampWorkerHeaders(headers, this.cfg);
    applyCors(this.request, headers, this.cfg);
  }
  error(status, message, extra) {
    const res = jsonError(status, message, this.cfg, extra);
    applyCors(this.request, res.headers, this.cfg);
    return res;
  }
  // A request that reaches the origin carries every header the client sent, so it is held to the rules'
  // maxHeaderBytes here, before any origin fetch. A cache hit reads only the headers the policy uses
  // (core_bridge.js), and does not walk the rest: a Headers iteration costs more than the decision.
  headersTooLargeForOrigin() {
    if (this.forwardedBytes === undefined) this.forwardedBytes = forwardedHeaderBytes(this.request);
    return this.forwardedBytes > this.core.maxHeaderBytes;
  }
  rejectHeadersTooLarge() {
    metrics.rejected();
    const reason = "request:headers-too-large";
    this.log("warn", "request_rejected", { reason, status: 431, method: this.request.method, headerBytes: this.forwardedBytes });
    return this.error(431, `request rejected: ${reason}`);
  }
}

function debugReason(rc, decision) {
  const report = rc.core.report;
  const parts = [report.reasons[decision.reason] || String(decision.reason)];
  if (decision.classIndex !== ABI.kNone) parts.push(`class=${report.classes[decision.classIndex]}`);
  if (decision.ruleIndex !== ABI.kNone) parts.push(`rule=${report.ruleNames[decision.ruleIndex]}`);
  if (decision.ttlS) parts.push(`ttl=${decision.ttlS}`);
  if (decision.marketSession) parts.push(`market=${report.sessions[decision.marketSession]}`);
  return parts.join("; ");
}

// A key as a header value: keys of rules with `vary` hold "\n" separators and the header values, which
// may be any text; a header value must be printable Latin-1. Everything else is percent-escaped (UTF-8).
function keyHeaderValue(key) {
  return key.replace(/[^\x20-\x7e]/gu, (c) => encodeURIComponent(c));
}

function debugHeaders(rc, headers, decision) {
  if (!rc.cfg.debugHeaders) return;
  headers.set("x-cache-reason", debugReason(rc, decision));
  if (decision.key) headers.set("x-cache-key", keyHeaderValue(decision.key));
}

// ---- responses from entries ----------------------------------------------------------------------

function clientConditionalMatches(request, entry) {
  const inm = request.headers.get("if-none-match");
  if (inm !== null) {
    if (!entry.etag) return false;
    const weak = (t) => t.trim().replace(/^W\//, "");
    const want = weak(entry.etag);
    return inm.trim() === "*" || inm.split(",").some((t) => weak(t) === want);
  }
  const ims = request.headers.get("if-modified-since");
  if (ims !== null && entry.lastModified) {
    const since = Date.parse(ims);
    const modified = Date.parse(entry.lastModified);
    return Number.isFinite(since) && Number.isFinite(modified) && modified <= since;
  }
  return false;
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

// The headers are assembled in one plain object and handed to the Response as is: no Headers object,
// no set() calls (each is a call into the runtime). Whether the client sent a conditional at all is a
// flag of the decision, so an unconditional request reads no more headers here.
function responseFromEntry(rc, entry, decision, cacheStatus, { tier, ageS }) {
  const fields = { ...headerTemplate(rc, entry), "cache-status": cacheStatus };
  if (ageS !== undefined) {
    fields["cache-age"] = String(ageS);
    fields.age = String(ageS);
  }
  if (tier) fields["x-cache-tier"] = tier;
  applyCorsToFields(rc.request, fields, rc.cfg);
  if (rc.cfg.debugHeaders) {
    fields["x-cache-reason"] = debugReason(rc, decision);
    if (decision.key) fields["x-cache-key"] = keyHeaderValue(decision.key);
  }
  if ((decision.flags & ABI.DecisionFlag.Conditional) !== 0 && entry.status >= 200 && entry.status < 300 &&
      clientConditionalMatches(rc.request, entry)) {
    return new Response(null, { status: 304, headers: fields });
  }
  const body = rc.isHead || NULL_BODY_STATUSES.has(entry.status) ? null : entry.body;
  if (body !== null) fields["content-length"] = String(entry.body.byteLength);
  return new Response(body, { status: entry.status, headers: fields });
}

// ---- the origin ----------------------------------------------------------------------------------

function entryFromOrigin(rc, decision, result, verdict) {
  return {
    key: decision.key,
    status: result.status,
    headers: storedHeaderPairs(result.headers),
    body: result.body,
    storedAtMs: rc.now,
    ttlS: verdict.ttlS,
    staleWhileRevalidateS: verdict.staleWhileRevalidateS,
    staleIfErrorS: verdict.staleIfErrorS,
    classIndex: decision.classIndex,
    etag: result.headers.get("etag") || "",
    lastModified: result.headers.get("last-modified") || "",
    tags: decision.tags ? decision.tags.split("\n") : [],
  };
}

// fetchOrigin, counted in the metrics: its latency, and success unless it failed or answered 5xx.
async function fetchOriginCounted(url, init, timeoutMs) {
  const started = Date.now();
  try {
    const res = await fetchOrigin(url, init, timeoutMs);
    metrics.origin(Date.now() - started, res.status < 500);
    return res;
  } catch (err) {
    metrics.origin(Date.now() - started, false);
    throw err;
  }
}

// The origin's response headers a client may see (origin_client.js decides which), in a new Headers.
function forwardedResponseHeaders(res, { keepContentEncoding = false } = {}) {
  const headers = new Headers();
  for (const [n, v] of res.headers) {
    if (isForwardableResponseHeader(n) || (keepContentEncoding && n === "content-encoding")) headers.append(n, v);
  }
  return headers;
}

// Fetches the key from the origin (GET, even for HEAD, so the result can be stored), decides
// storability with the core, stores, and returns a shareable result:
//   {kind: "response", status, headers (Headers, forwardable), body (Uint8Array), entry|null, shareable}
//   {kind: "stream", response}      too large to buffer: passed through, not stored
//   {kind: "revalidated", entry}    304 on a conditional refresh: the old entry renewed
// Throws OriginError on network failure / timeout.
// staleTier: the tier staleEntry was read from ("kv" means KV holds that copy).
async function fetchFromOrigin(rc, decision, tiers, staleEntry, staleTier = null) {
  const url = originUrl(rc.cfg, decision.originTarget);
  const validators = staleEntry && (staleEntry.etag || staleEntry.lastModified)
    ? { etag: staleEntry.etag, lastModified: staleEntry.lastModified } : null;
  const headers = upstreamHeaders(rc.request, { cacheable: true, validators });
  const res = await fetchOriginCounted(url, { method: "GET", headers }, rc.cfg.originTimeoutMs);

  if (res.status === 304 && staleEntry) {
    metrics.revalidated();
    // RFC 9111 §4.3.4: the stored headers are updated with those of the 304.
    const merged = new Headers(staleEntry.headers);
    for (const [n, v] of res.headers) if (isForwardableResponseHeader(n)) merged.set(n, v);
    const verdict = rc.core.decideResponse(decision, { status: staleEntry.status, headers: merged }, Date.now(), staleEntry.body.byteLength);
    if (!verdict.storable) return { kind: "response", status: staleEntry.status, headers: merged, body: staleEntry.body, entry: null, shareable: false };
    // A new object without the stale one's per-entry caches (its header template holds the old headers).
    const { _headerTemplate, _size, ...stale } = staleEntry;
    const renewed = {
      ...stale, headers: storedHeaderPairs(merged), storedAtMs: Date.now(), ttlS: verdict.ttlS,
      staleWhileRevalidateS: verdict.staleWhileRevalidateS, staleIfErrorS: verdict.staleIfErrorS,
    };
    // When the stale copy came from KV, KV's copy is left as it is: its body and validators are still
    // right, and KV writes are spent on new content. Memory, edge and Durable Objects take the renewal; a
    // reader of KV's older copy revalidates it in turn (a 304, no body) until KV expires it (ttl + the
    // longer stale window). A renewal of a copy KV does not hold goes through KV's admission as usual.
    const mask = staleTier === "kv" ? verdict.tiers & ~ABI.TierBit.Kv : verdict.tiers;
    storeInTiers(tiers, decision, renewed, mask, rc.ctx, rc.log);
    return { kind: "revalidated", entry: renewed };
  }

  const buffered = await bufferBody(res, rc.cfg.maxCacheBodyBytes, rc.cfg.originTimeoutMs);
  if (buffered.stream) return { kind: "stream", response: res, stream: buffered.stream };
  const result = { kind: "response", status: res.status, headers: forwardedResponseHeaders(res), body: buffered.body, entry: null, shareable: false };
  const verdict = rc.core.decideResponse(decision, res, Date.now(), buffered.body.byteLength);
  if (verdict.storable) {
    result.entry = entryFromOrigin(rc, decision, result, verdict);
    storeInTiers(tiers, decision, result.entry, verdict.tiers, rc.ctx, rc.log);
  }
  // Concurrent requests for this key may share the result only if it is the same for everyone:
  // a stored entry, or a server error without per-client state.
  const privateish = res.headers.has("set-cookie") || /private/i.test(res.headers.get("cache-control") || "");
  result.shareable = verdict.storable || (res.status >= 500 && !privateish);
  result.verdict = verdict;
  return result;
}

function responseFromResult(rc, decision, result, cacheStatus) {
  if (result.kind === "revalidated") return responseFromEntry(rc, result.entry, decision, cacheStatus, { ageS: 0 });
  if (result.kind === "stream") {
    const headers = new Headers();
    for (const [n, v] of result.response.headers) if (isForwardableResponseHeader(n)) headers.append(n, v);
    headers.set("cache-status", CACHE_STATUS.BYPASS);
    rc.stamp(headers);
    debugHeaders(rc, headers, decision);
    return new Response(rc.isHead ? null : result.stream, { status: result.response.status, headers });
  }
  const headers = new Headers(result.headers);
  headers.set("cache-status", cacheStatus);
  rc.stamp(headers);
  debugHeaders(rc, headers, decision);
  if (result.verdict && rc.cfg.debugHeaders) headers.set("x-cache-store", rc.core.report.reasons[result.verdict.reason] || "");
  const body = rc.isHead || NULL_BODY_STATUSES.has(result.status) ? null : result.body;
  return new Response(body, { status: result.status, headers });
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

async function coalescedFetch(rc, decision, tiers, staleEntry, staleTier) {
  const flight = originFlights.run(decision.key, () => fetchFromOrigin(rc, decision, tiers, staleEntry, staleTier));
  if (flight.leader) return flight.promise;
  metrics.coalesced();
  let timer;
  const ownDeadline = new Promise((resolve) => {
    timer = setTimeout(() => resolve(FELL_THROUGH), rc.cfg.originTimeoutMs + FOLLOWER_MARGIN_MS);
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
  if (result.kind === "revalidated" || (result.kind === "response" && result.shareable)) return result;
  return fetchFromOrigin(rc, decision, tiers, staleEntry, staleTier);
}

function originErrorResponse(rc, err) {
  if (err instanceof OriginError) {
    metrics.miss();
    rc.log("warn", "origin_error", { kind: err.kind, message: err.message });
    const res = rc.error(err.status, err.kind === "config" ? "the worker's BACKEND_URL is not configured correctly" : err.message);
    return res;
  }
  throw err;
}

// stale-while-revalidate: one background refresh per key at a time.
function refreshInBackground(rc, decision, tiers, staleEntry, staleTier) {
  if (rc.headersTooLargeForOrigin()) return; // the stale entry is served; a later request refreshes it
  const flight = refreshFlights.run(decision.key, async () => {
    try {
      await fetchFromOrigin(rc, decision, tiers, staleEntry, staleTier);
    } catch (err) {
      rc.log("warn", "background_refresh_failed", { message: String(err?.message || err) });
    }
  });
  if (flight.leader) rc.ctx.waitUntil(flight.promise);
}

// ---- actions -------------------------------------------------------------------------------------

// The tiers for a request that may reach them; it counts for KV's write admission.
function requestTiers(rc, decision) {
  const tiers = tiersFor(rc.env, rc.cfg, rc.core, rc.url);
  if (tiers.kvAdmission) noteKvRequest(tiers, decision, rc.warming);
  return tiers;
}

// AUTH_MODE=origin and a token this isolate has not seen judged: the origin answers this request with
// the client's own credentials (no cache read, no coalescing), and its verdict is remembered.
async function judgedByOrigin(rc, decision) {
  if (rc.headersTooLargeForOrigin()) return rc.rejectHeadersTooLarge();
  const tiers = requestTiers(rc, decision);
  metrics.miss();
  try {
    const result = await fetchFromOrigin(rc, decision, tiers, null);
    const status = result.kind === "stream" ? result.response.status : result.kind === "revalidated" ? result.entry.status : result.status;
    recordOriginVerdict(rc, rc.auth.originCheck, status);
    return responseFromResult(rc, decision, result, decision.action === ABI.Action.Refresh ? CACHE_STATUS.BYPASS : CACHE_STATUS.MISS);
  } catch (err) {
    return originErrorResponse(rc, err);
  }
}

async function lookup(rc, decision) {
  if (rc.auth?.originCheck) return judgedByOrigin(rc, decision);
  const tiers = requestTiers(rc, decision);
  let found = null;
  const memoryAllowed = tierAllowed(tiers, "memory", decision.tiers);
  if (memoryAllowed) {
    const entry = tiers.memory.get(decision.key);
    if (entry) found = { entry, tier: "memory" };
  }
  // A fetch of this key already in flight in this isolate: join it (below) rather than asking the
  // shared tier. Otherwise the shared tier either has the entry, or grants this isolate a lease to fetch
  // it, or waits for another isolate's fetch that holds the lease (cross-isolate coalescing).
  let lease = null;
  if (!found && !originFlights.has(decision.key)) {
    ({ found, lease } = await lookupSlowTiersCoalesced(tiers, decision, rc.ctx, rc.log, rc.cfg.originTimeoutMs + 1000));
    // Another request of this isolate may have fetched and stored the key while the slower tiers were
    // asked: without this second look it would be fetched (and written to KV) twice.
    if (!found && memoryAllowed) {
      const entry = tiers.memory.get(decision.key);
      if (entry) {
        found = { entry, tier: "memory" };
        if (lease) rc.ctx.waitUntil(lease.release());
        lease = null;
      }
    }
  }

  let staleForError = null;
  let staleForValidators = null;
  let staleTier = null;
  if (found) {
    staleTier = found.tier;
    const evaluation = rc.core.evaluateEntry(found.entry, decision, rc.now);
    switch (evaluation.freshness) {
      case ABI.Freshness.Fresh:
        metrics.hit(found.tier);
        if (tiers.kvAdmission) noteServedForKv(tiers, decision, found.entry, found.tier, rc.ctx, rc.log, rc.now);
        return responseFromEntry(rc, found.entry, decision, CACHE_STATUS.HIT, { tier: found.tier, ageS: evaluation.ageS });
      case ABI.Freshness.StaleRevalidate:
        metrics.stale();
        refreshInBackground(rc, decision, tiers, found.entry, found.tier);
        return responseFromEntry(rc, found.entry, decision, CACHE_STATUS.STALE, { tier: found.tier, ageS: evaluation.ageS });
      case ABI.Freshness.StaleIfErrorOnly:
        staleForError = { entry: found.entry, tier: found.tier, ageS: evaluation.ageS };
        staleForValidators = found.entry;
        break;
      default:
        staleForValidators = found.entry;
    }
  }

  let result;
  try {
    if (rc.headersTooLargeForOrigin()) return rc.rejectHeadersTooLarge();
    result = await coalescedFetch(rc, decision, tiers, staleForValidators, staleTier);
  } catch (err) {
    if (staleForError && err instanceof OriginError) {
      metrics.stale();
      rc.log("warn", "served_stale_on_error", { kind: err.kind, key: decision.key });
      return responseFromEntry(rc, staleForError.entry, decision, CACHE_STATUS.STALE, staleForError);
    }
    return originErrorResponse(rc, err);
  } finally {
    // After the fetch, always: if the entry was stored, waiters already have it; otherwise they are
    // told to fetch for themselves.
    if (lease) rc.ctx.waitUntil(lease.release());
  }
  if (staleForError && result.kind === "response" && result.status >= 500) {
    metrics.stale();
    return responseFromEntry(rc, staleForError.entry, decision, CACHE_STATUS.STALE, staleForError);
  }
  metrics.miss();
  return responseFromResult(rc, decision, result, CACHE_STATUS.MISS);
}

async function refresh(rc, decision) {
  if (rc.auth?.originCheck) return judgedByOrigin(rc, decision);
  if (rc.headersTooLargeForOrigin()) return rc.rejectHeadersTooLarge();
  const tiers = requestTiers(rc, decision);
  metrics.bypass();
  try {
    const result = await fetchFromOrigin(rc, decision, tiers, null);
    return responseFromResult(rc, decision, result, CACHE_STATUS.BYPASS);
  } catch (err) {
    return originErrorResponse(rc, err);
  }
}

// Pass-through: the request goes to the origin as the client sent it (method, body, end-to-end
// headers), and the response comes back untouched apart from our headers. Never stored.
async function passThrough(rc, decision, { markBypass }) {
  if (rc.headersTooLargeForOrigin()) return rc.rejectHeadersTooLarge();
  metrics.bypass();
  const target = decision.originTarget || rawTarget(rc.url);
  let url;
  try {
    url = originUrl(rc.cfg, target);
  } catch (err) {
    return originErrorResponse(rc, err);
  }
  const init = { method: rc.request.method, headers: upstreamHeaders(rc.request, { cacheable: false }) };
  if (rc.request.method !== "GET" && rc.request.method !== "HEAD") init.body = rc.request.body;
  let res;
  try {
    res = await fetchOriginCounted(url, init, rc.cfg.originTimeoutMs);
  } catch (err) {
    return originErrorResponse(rc, err);
  }
  rc.originStatus = res.status; // what the origin itself answered (auth verdicts are taken from this only)
  // The body goes through as the origin encoded it, so its content-encoding goes with it.
  const headers = forwardedResponseHeaders(res, { keepContentEncoding: true });
  if (markBypass) headers.set("cache-status", CACHE_STATUS.BYPASS);
  rc.stamp(headers);
  debugHeaders(rc, headers, decision);
  return new Response(NULL_BODY_STATUSES.has(res.status) ? null : res.body, { status: res.status, headers });
}

// ---- entry point -------------------------------------------------------------------------------

// options.warming: the request comes from the cron's warm list (scheduled.js).
export async function handleRequest(request, env, ctx, cfg, { warming = false } = {}) {
  const now = Date.now();
  metrics.request();
  // A timestamp comparison unless a flush of this isolate's counters (and a purge-log pull) is due.
  // Before any route, ops endpoints included: a worker that only sees health checks still reports.
  maybeFlushMetrics(env, ctx, now);
  const url = request.url;
  let core;
  let decision;
  try {
    decision = withCore(env, (c) => {
      core = c;
      return c.decideRequest(request.method, rawTarget(url), request.headers, now);
    });
  } catch (err) {
    // The core is unavailable (failed to instantiate, or trapped): degrade to a plain proxy rather
    // than fail the request. Nothing is cached while it is down.
    logEvent("error", "core_unavailable", { message: String(err?.message || err) });
    const rc = new RequestContext(request, env, ctx, cfg, null, now, url);
    rc.core = { report: { reasons: [], classes: [], ruleNames: [], sessions: [] } };
    if (new URL(url).pathname === "/health") return handleLocalRoute(rc, { localRoute: ABI.LocalRoute.Health }, { coreError: String(err?.message || err) });
    return passThrough(rc, { originTarget: "", reason: 0, classIndex: ABI.kNone, ruleIndex: ABI.kNone, key: "" }, { markBypass: false });
  }
  const rc = new RequestContext(request, env, ctx, cfg, core, now, url);
  rc.warming = warming;
  if (decision === null) {
    metrics.rejected();
    return rc.error(414, "the request target is too large");
  }

  // The serving actions count against the client's rate limit (rate_limiter.js): checked before anything
  // is served, so a limited request never reaches the origin; local routes and rejections are not limited.
  switch (decision.action) {
    case ABI.Action.Lookup:
    case ABI.Action.Refresh:
    case ABI.Action.Bypass: {
      // Auth comes before the cache: a hit must never be a way around the origin's access control.
      const auth = cfg.authMode === "none" ? PUBLIC_ACCESS : await authenticate(rc, decision);
      if (!auth.ok) {
        metrics.rejected();
        rc.log("warn", "auth_rejected", { status: auth.status, message: auth.message, mode: cfg.authMode });
        const extra = auth.status === 401 ? { "www-authenticate": 'Bearer realm="edge-cache"' } : undefined;
        return rc.error(auth.status, auth.message, extra);
      }
      rc.auth = auth;
      // The rate limit is per identity: the JWT subject when there is one (hence after auth).
      rc.authIdentity = auth.identity;
      if (decision.action === ABI.Action.Lookup) return withRateLimit(rc, decision, () => lookup(rc, decision));
      if (decision.action === ABI.Action.Refresh) return withRateLimit(rc, decision, () => refresh(rc, decision));
      const cacheable = request.method === "GET" || request.method === "HEAD";
      return withRateLimit(rc, decision, async () => {
        const res = await passThrough(rc, decision, { markBypass: cacheable });
        // Pass-through requests are judged by the origin anyway; remember its verdict — only the origin's:
        // an answer of the worker's own (431, 502, 504) says nothing about the token.
        if (auth.originCheck && rc.originStatus !== undefined) recordOriginVerdict(rc, auth.originCheck, rc.originStatus);
        return res;
      });
    }
    case ABI.Action.Reject: {
      metrics.rejected();
      const reason = core.report.reasons[decision.reason] || "rejected";
      rc.log("warn", "request_rejected", { reason, status: decision.httpStatus, method: request.method });
      const extra = decision.httpStatus === 405 ? { allow: "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS" } : undefined;
      return rc.error(decision.httpStatus || 400, `request rejected: ${reason}`, extra);
    }
    case ABI.Action.ServeLocal:
      if (decision.localRoute === ABI.LocalRoute.Preflight) return preflightResponse(request, cfg, (h) => stampWorkerHeaders(h, cfg));
      return handleLocalRoute(rc, decision, {});
    default:
      return rc.error(500, "unknown decision");
  }
}
