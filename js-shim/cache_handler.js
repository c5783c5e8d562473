// Request dispatch on the serving path: asks the core for a decision, authenticates and rate limits, and
// runs the action — a lookup through the tiers (memory first, then the slower tiers with cross-isolate
// coalescing), a refresh, a pass-through (with unsafe-method invalidation afterwards), a rejection or a
// local endpoint. Origin fetches live in origin_fetch.js, response assembly in response_assembly.js; every
// choice (key, TTL, tiers, freshness, storability, fields) comes from the core.
import { ABI, withCore } from "./core_bridge.js";
import { preflightResponse } from "./cors.js";
import { metrics } from "./metrics.js";
import { isolate } from "./isolate_context.js";
import { CACHE_STATUS, cacheStatusValue, logEvent, stampWorkerHeaders } from "./responses.js";
import { OriginError, originUrl, upstreamHeaders } from "./origin_client.js";
import {
  coalescedFetch, fetchFromOrigin, fetchOriginCounted, finalResponse, missDeadlineMs, originErrorResponse, originFetchInFlight,
  refreshInBackground,
} from "./origin_fetch.js";
import { NULL_BODY_STATUSES, evaluateFor, fieldsWith, responseFromEntry, responseFromResult } from "./response_assembly.js";
import { applyDownstreamToHeaders } from "./downstream.js";
import { RequestContext, debugHeaders, rawTarget } from "./request_context.js";
import { lookupSlowTiers, noteKvRequest, noteServedForKv, tierAllowed, tiersFor } from "./tiers/tier_set.js";
import { maybeFlushMetrics } from "./control_sync.js";
import { handleLocalRoute } from "./local_routes.js";
import { invalidate } from "./purge.js";
import { withRateLimit } from "./rate_limiter.js";
import { AUTH_MODES, PUBLIC_ACCESS, authenticate, recordOriginVerdict } from "./auth.js";
import { hopFor, ownSubrequestResponse, selfFetchProblem } from "./loop_guard.js";
import { mountRejectionMessage, unmountedAnswer } from "./mount.js";
import { UpstreamRefusal, answerRefusal, secretMissingMessage } from "./upstreams.js";

export { rawTarget };

// The tiers for a request that may reach them; it counts for KV's write admission.
function requestTiers(rc, decision) {
  const tiers = tiersFor(rc.env, rc.cfg, rc.core, rc.url);
  if (tiers.kvAdmission) noteKvRequest(tiers, decision, rc.warming);
  return tiers;
}

function originStatusOf(result) {
  return result.kind === "stream" ? result.response.status : result.kind === "revalidated" ? result.entry.status : result.status;
}

// AUTH_MODE=origin and a token this isolate has not seen judged: the origin answers this request with
// the client's own credentials (no cache read, no coalescing), and its verdict is remembered.
async function judgedByOrigin(rc, decision) {
  if (rc.headersTooLargeForOrigin()) return rc.rejectHeadersTooLarge();
  const tiers = requestTiers(rc, decision);
  metrics.miss();
  try {
    const result = await fetchFromOrigin(rc, decision, tiers, null);
    recordOriginVerdict(rc, rc.auth.originCheck, originStatusOf(result));
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
  // it, or waits for another isolate's fetch that holds the lease (cross-isolate coalescing); a lookup of
  // the key already under way in this isolate is joined rather than repeated (tier_set.js).
  // The whole miss — the slower tiers, lease waits included, and the origin — is held to the request's
  // budget: ORIGIN_TIMEOUT_MS from its arrival (origin_fetch.js missDeadlineMs).
  let lease = null;
  if (!found && !originFetchInFlight(decision.key)) {
    const deadline = missDeadlineMs(rc);
    ({ found, lease } = await lookupSlowTiers(tiers, decision, rc.ctx, rc.log, Math.max(0, deadline - Date.now()) + 1000, deadline));
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
  // The entry found, whatever its freshness: an upstream whose quota refuses the call may be answered by it.
  let staleAtHand = null;
  if (found) {
    staleTier = found.tier;
    // The request fields the stored response varies on reach the origin too: they select the variant, and
    // a conditional request must carry them (RFC 9111 §4.3.1).
    if (found.entry.variant?.length) rc.variantFields = found.entry.variant.map(([name]) => name);
    const evaluation = evaluateFor(rc, found.entry, decision);
    staleAtHand = { entry: found.entry, tier: found.tier, evaluation };
    switch (evaluation.freshness) {
      case ABI.Freshness.Fresh:
        metrics.hit(found.tier);
        // The dashboard's top keys (top_keys.js): one Map get and set; nothing allocated for a key already counted.
        isolate.topKeys.hit(decision.key);
        if (tiers.kvAdmission) noteServedForKv(tiers, decision, found.entry, found.tier, rc.ctx, rc.log, rc.now);
        return responseFromEntry(rc, found.entry, decision, CACHE_STATUS.HIT, { tier: found.tier, evaluation });
      case ABI.Freshness.StaleRevalidate:
        metrics.stale();
        refreshInBackground(rc, decision, tiers, found.entry, found.tier);
        return responseFromEntry(rc, found.entry, decision, CACHE_STATUS.STALE, { tier: found.tier, evaluation });
      case ABI.Freshness.StaleIfErrorOnly:
        staleForError = { entry: found.entry, tier: found.tier, evaluation };
        staleForValidators = found.entry;
        break;
      case ABI.Freshness.StaleIfUnreachableOnly:
        staleForError = { entry: found.entry, tier: found.tier, evaluation, unreachableOnly: true };
        staleForValidators = found.entry;
        break;
      case ABI.Freshness.VariantMismatch:
        // Another variant of the resource (Vary): this request's response is fetched unconditionally.
        staleTier = null;
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
    if (err instanceof UpstreamRefusal) {
      const answer = answerRefusal(rc, decision, err, staleAtHand);
      if (!answer.stale) return answer.response;
      metrics.staleInsteadOfError();
      return responseFromEntry(rc, staleAtHand.entry, { ...decision, reason: answer.reason }, CACHE_STATUS.STALE, staleAtHand);
    }
    if (staleForError && err instanceof OriginError) {
      metrics.staleInsteadOfError();
      rc.log("warn", "served_stale_on_error", { kind: err.kind, key: decision.key });
      return responseFromEntry(rc, staleForError.entry, decision, CACHE_STATUS.STALE, staleForError);
    }
    return originErrorResponse(rc, err);
  } finally {
    // After the fetch, always: if the entry was stored, waiters already have it; otherwise they are
    // told to fetch for themselves.
    if (lease) rc.ctx.waitUntil(lease.release());
  }
  // 5xx — and an upstream's 429 — is an error the stale entry answers instead of.
  if (staleForError && !staleForError.unreachableOnly && result.kind === "response" && (result.status >= 500 || result.upstreamError)) {
    metrics.staleInsteadOfError();
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

// Pass-through: the request goes to the origin as the client sent it (method, body, the forwardable
// headers), and the response comes back with the fields the core lets through, plus our headers. Never
// stored. After an unsafe method, the cached resources it changed are invalidated (RFC 9111 §4.4).
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
  const method = rc.request.method;
  const init = { method, headers: upstreamHeaders(rc.request, { cacheable: false, forwarding: rc.core.forwarding }) };
  if (method !== "GET" && method !== "HEAD") init.body = rc.request.body;
  let final;
  try {
    const res = await fetchOriginCounted(url, init, rc.cfg.originTimeoutMs, hopFor(rc.request, rc.cfg));
    final = await finalResponse(rc, res);
  } catch (err) {
    return originErrorResponse(rc, err);
  }
  rc.originStatus = final.status; // what the origin itself answered (auth verdicts are taken from this only)
  const nowMs = Date.now();
  // The body goes through as the origin encoded it, so its content-encoding goes with it.
  const verdict = rc.core.decideResponse(decision, final.status, final.fields, { nowMs, keepContentEncoding: !final.body, streamed: true });
  if (!verdict.dispositions) {
    await final.response.body?.cancel().catch(() => {});
    return originErrorResponse(rc, new OriginError("invalid-response", "origin response header fields could not be read (too many or too large)"));
  }
  if (method !== "GET" && method !== "HEAD" && method !== "OPTIONS") {
    const location = final.fields.find(([n]) => n === "location")?.[1] ?? null;
    const contentLocation = final.fields.find(([n]) => n === "content-location")?.[1] ?? null;
    const records = rc.core.decideInvalidation({
      method, status: final.status, target: rawTarget(rc.url), host: new URL(rc.url).hostname, location, contentLocation, nowMs,
    });
    invalidate(rc, records);
  }
  const headers = new Headers(fieldsWith(final.fields, verdict.dispositions, ABI.HeaderDisposition.Forward));
  if (verdict.addDate) headers.set("date", new Date(nowMs).toUTCString());
  applyDownstreamToHeaders(rc, decision, headers, { remainingS: 0, originOwn: verdict.downstreamOrigin });
  if (markBypass) headers.set("cache-status", cacheStatusValue(rc.cfg, CACHE_STATUS.BYPASS, undefined, final));
  rc.stamp(headers);
  debugHeaders(rc, headers, decision);
  const body = NULL_BODY_STATUSES.has(final.status) || method === "HEAD" ? null : final.body ?? final.response.body;
  return new Response(body, { status: final.status, headers });
}

// ---- entry point -------------------------------------------------------------------------------

// options.warming: the request comes from the cron's warm list (scheduled.js).
//   withoutCore: an error that leaves this request to be answered without the core (worker.js, after the core
//   trapped twice on it): the plain proxy below, as when the core cannot be built.
export async function handleRequest(request, env, ctx, cfg, { warming = false, withoutCore = null } = {}) {
  const now = Date.now();
  metrics.request();
  // A timestamp comparison unless a flush of this isolate's counters (and a purge-log pull) is due.
  // Before any route, ops endpoints included: a worker that only sees health checks still reports.
  maybeFlushMetrics(env, ctx, now);
  // The worker's own origin fetch, come back (loop_guard.js): stopped before anything else is done for it.
  const looped = ownSubrequestResponse(request, cfg);
  if (looped) {
    metrics.rejected();
    return looped;
  }
  const url = request.url;
  let core;
  let decision;
  try {
    if (withoutCore) throw withoutCore;
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
    const pathname = new URL(url).pathname;
    // Without the core nothing can place a path under MOUNT_PATH: health only, at the mount as written.
    const unmounted = unmountedAnswer(cfg, pathname);
    if (unmounted === "health" || (!unmounted && pathname === "/health")) {
      return handleLocalRoute(rc, { localRoute: ABI.LocalRoute.Health }, { coreError: String(err?.message || err) });
    }
    if (unmounted === "refuse") return rc.error(503, "the core is unavailable, and without it paths under MOUNT_PATH cannot be mapped to the origin");
    return degradedPassThrough(rc);
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
      // A misconfigured AUTH_MODE (empty, misspelt) refuses to serve rather than serve without auth.
      if (!AUTH_MODES.includes(cfg.authMode)) {
        metrics.rejected();
        rc.log("error", "auth_mode_invalid", { mode: cfg.authMode.slice(0, 40) });
        return rc.error(503, `AUTH_MODE ${JSON.stringify(cfg.authMode.slice(0, 40))} is not one of ${AUTH_MODES.join(", ")}: the worker serves nothing until it is fixed`);
      }
      // BACKEND_URL under the worker's own mount on this host: every origin fetch would come back (loop_guard.js).
      const selfFetch = selfFetchProblem(core.report, cfg, url);
      if (selfFetch) {
        metrics.rejected();
        rc.log("error", "backend_under_mount", { mount: core.report.mount.path });
        return rc.error(503, selfFetch);
      }
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
      const extra = decision.httpStatus === 405
        ? { allow: reason === "upstream:method-not-allowed" ? "GET, HEAD" : "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS" } : undefined;
      if (reason === "upstream:secret-missing") return rc.error(503, `${secretMissingMessage(core, decision)} (${reason})`);
      if (reason === "upstream:no-judge") {
        return rc.error(503, `this route is served by an upstream API, which cannot judge a client's credentials in AUTH_MODE=origin: declare the upstream "public": true in the rules, or use AUTH_MODE=jwt (${reason})`);
      }
      return rc.error(decision.httpStatus || 400, mountRejectionMessage(core.report, reason) ?? `request rejected: ${reason}`, extra);
    }
    case ABI.Action.ServeLocal:
      if (decision.localRoute === ABI.LocalRoute.Preflight) return preflightResponse(request, cfg, (h) => stampWorkerHeaders(h, cfg));
      // The worker's own endpoints count like any request (the core gives them the default bucket): health
      // and metrics probes cannot be used to load the worker for free.
      return withRateLimit(rc, decision, () => handleLocalRoute(rc, decision, {}));
    default:
      return rc.error(500, "unknown decision");
  }
}

// Without a core (it failed to start, or trapped and could not be rebuilt): a plain proxy, nothing cached,
// only the hop-by-hop fields of the origin's answer dropped (the core's field plan is not available).
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade", "content-length"]);
async function degradedPassThrough(rc) {
  let res;
  try {
    const headers = new Headers();
    for (const [n, v] of rc.request.headers) if (!HOP_BY_HOP.has(n) && n !== "host" && !n.startsWith("cf-")) headers.append(n, v);
    const init = { method: rc.request.method, headers };
    if (rc.request.method !== "GET" && rc.request.method !== "HEAD") init.body = rc.request.body;
    res = await fetchOriginCounted(originUrl(rc.cfg, rawTarget(rc.url)), init, rc.cfg.originTimeoutMs, hopFor(rc.request, rc.cfg));
  } catch (err) {
    return originErrorResponse(rc, err);
  }
  if (res.status < 200 || res.status > 599) {
    await res.body?.cancel().catch(() => {});
    return originErrorResponse(rc, new OriginError("invalid-response", `origin answered with status ${res.status}`));
  }
  const headers = new Headers();
  for (const [n, v] of res.headers) if (!HOP_BY_HOP.has(n)) headers.append(n, v);
  rc.stamp(headers);
  return new Response(NULL_BODY_STATUSES.has(res.status) ? null : res.body, { status: res.status, headers });
}
