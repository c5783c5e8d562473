// Rate limiting per client. The policy is data: the rules' `rateLimits` section, validated by the core
// and read here once from its configure report (core.report.rateLimits). Per request this module only
// picks a bucket from the decision the core already made, and asks the RateLimiterDurableObject that counts
// the client (objects/rate_limiter_durable_object.js; limiterObjectName) to count it — exactly, which Workers KV cannot.
//
// Bucket: the core's decision (kDecRateBucket: default, bypass, or a class; none for exempt paths). Each
// bucket is its own quota.
//
// Failure policy: fail OPEN. If the RATE_LIMITER binding is missing, or the object throws, takes longer
// than RPC_TIMEOUT_MS or answers something that is not a verdict, the request is served without a verdict (and without X-RateLimit-* headers), the
// failure is counted (tierErrors.rateLimiter) and logged at most once a minute. The trade-off: while the
// limiter is down, clients are not limited — but a rate limiter outage never becomes an API outage, and
// the origin keeps the cache in front of it. Failing closed would turn every limiter hiccup into 429s for
// everyone.
//
// Who counts as a client (hashed identities, never raw tokens or addresses): client_identity.js.
// The ABI constants directly (not through core_bridge.js, which loads the Wasm module), so this file
// also loads in plain Node for its unit tests.
import * as ABI from "./generated/abi_layout.js";
import { makeRoomIn } from "./bounded_map.js";
import { metrics } from "./metrics.js";
import { logEvent } from "./responses.js";
import { withTimeout } from "./timeouts.js";
import { intVar } from "./runtime_config.js";
import { isolate } from "./isolate_context.js";
import { identitiesFor } from "./client_identity.js";

// Who a request counts against (client_identity.js); re-exported for the tests and tools that import it from here.
export { clientIdentity } from "./client_identity.js";

// The RPC is on the path of every limited request; past this the request is served unlimited.
const RPC_TIMEOUT_MS = 300;
const FAILURE_LOG_INTERVAL_MS = 60_000;
const MAX_DENIALS_REMEMBERED = 10_000;
const HEADER_LIMIT = "x-ratelimit-limit";
const HEADER_REMAINING = "x-ratelimit-remaining";
const HEADER_RESET = "x-ratelimit-reset";
const NOT_LIMITED = Object.freeze({ limited: false, headers: Object.freeze({}) });

// Quota slices: an isolate does not ask the limiter object about every request. It takes a slice of
// the client's quota (1/SLICE_DIVISOR of its tightest window, at least 1) and spends it locally until
// it runs out or the window turns. The object counts whole slices, so the limit is still never exceeded;
// the price is that unspent slices count as used, so a client spread over many isolates may be cut off
// up to one slice per isolate early, and X-RateLimit-Remaining is this isolate's view. Small limits
// (under SLICE_DIVISOR per window) get slices of 1: every request is counted by the object.
const SLICE_DIVISOR = 20;
const MAX_SLICE = 1000;
const MAX_ALLOWANCES = 10_000;
// RATE_LIMITER_SHARDS when unset (limiterObjectName).
const DEFAULT_LIMITER_SHARDS = 16;

// Per-isolate state: isolate.rateLimiter (isolate_context.js), read as `limiter()` at the time of use:
//   stats            counters for /api/v1/cache/health
//   allowances       unspent slices by identity|bucket → {left, untilMs, verdict}
//   lastFailureLogAt, failuresSinceLog   the failure log's rate limit
//   denials          denials the limiter answered, by identity|bucket → {resetAtMs, limit, window}: until the
//                    window turns the answer cannot change (denied requests are not counted and counts only
//                    grow), so a client hammering while limited is answered here without a round trip.
//                    Cleared when the limits change.
//   cachedPolicy     the rules' limits turned into lookups, for one core report and env
//   ipIdentities     hashed client addresses (client_identity.js)
//   queues           per-key queues of calls to the limiter object
const limiter = () => isolate.rateLimiter;

// Which object counts an identity. shards = 0: one object per identity — placed near the client's first
// request, but every new client costs a new object (its first call creates it). shards = n: the identity's
// hash picks one of n objects, created once and kept warm by everyone's calls. Rows carry the identity in
// both cases, so counts stay exact per identity either way; changing the setting starts new counts for the
// current windows.
export function limiterObjectName(identity, shards = 0) {
  if (!shards) return `rl:${identity}`;
  const hex = /^[a-z]+:([0-9a-f]{8})/.exec(identity)?.[1];
  return `rl-shard:${hex ? Number.parseInt(hex, 16) % shards : 0}`;
}

function limitsOf(entry) {
  if (!entry || typeof entry !== "object") return null;
  const limits = {};
  if (Number.isSafeInteger(entry.perMinute) && entry.perMinute > 0) limits.perMinute = entry.perMinute;
  if (Number.isSafeInteger(entry.perDay) && entry.perDay > 0) limits.perDay = entry.perDay;
  return limits;
}

// The report's section turned into lookups, once per core instance and env. RATE_LIMIT=off switches the
// limiter off without a rules change; anything but "on"/"off" keeps it on (and says so once).
function policyFor(rc) {
  const report = rc.core.report;
  const state = limiter();
  if (state.cachedPolicy.report === report && state.cachedPolicy.env === rc.env) return state.cachedPolicy.policy;
  const section = report?.rateLimits || { enabled: false };
  const mode = String(rc.env.RATE_LIMIT ?? "on").trim().toLowerCase();
  if (mode !== "on" && mode !== "off") {
    logEvent("warn", "rate_limit_var_invalid", { value: String(rc.env.RATE_LIMIT).slice(0, 20), using: "on" });
  }
  const classes = new Map();
  for (const [name, entry] of Object.entries(section.classes || {})) classes.set(name, limitsOf(entry));
  const policy = {
    on: section.enabled === true && mode !== "off",
    shards: intVar(rc.env, "RATE_LIMITER_SHARDS", DEFAULT_LIMITER_SHARDS, { max: 4096 }),
    default: limitsOf(section.default),
    bypass: section.bypass ? limitsOf(section.bypass) : null,
    classes,
  };
  if (state.cachedPolicy.policy) {
    // The limits may have changed: old denials and slices no longer hold.
    state.denials.clear();
    state.allowances.clear();
  }
  state.cachedPolicy = { report, env: rc.env, policy };
  return policy;
}

// {name, limits} of the bucket the core chose, or null when nothing limits this request (exempt paths
// included: the core leaves them without a bucket).
function bucketFor(policy, decision, report) {
  const b = decision.rateBucket;
  if (b === undefined || b === ABI.kNone) return null;
  if (b === ABI.kRateBucketDefault) return policy.default ? { name: "default", limits: policy.default } : null;
  if (b === ABI.kRateBucketBypass) return policy.bypass ? { name: "bypass", limits: policy.bypass } : null;
  const name = report.classes?.[b - ABI.kRateBucketFirstClass];
  return name !== undefined && policy.classes.has(name) ? { name, limits: policy.classes.get(name) } : null;
}

function sliceFor(limits) {
  const tightest = Math.min(limits.perMinute || Infinity, limits.perDay || Infinity);
  return Math.max(1, Math.min(MAX_SLICE, Math.floor(tightest / SLICE_DIVISOR)));
}

// Adds a grant to the identity's unspent slice: grants for the same window add up (two calls answered
// close together must not lose each other's leftovers, which were counted). A grant for another window
// replaces the slice (the old window's leftovers cannot be spent any more).
function rememberAllowance(key, granted, verdict) {
  const untilMs = verdict.leaseUntilMs ?? verdict.resetAtMs;
  const held = limiter().allowances.get(key);
  if (held && held.untilMs === untilMs) {
    held.left += granted;
    held.verdict = verdict;
    return held;
  }
  // A forgotten slice is simply lost (it was counted, so this errs on the strict side).
  if (!held) makeRoomIn(limiter().allowances, MAX_ALLOWANCES);
  const allowance = { left: granted, untilMs, verdict };
  limiter().allowances.set(key, allowance);
  return allowance;
}

function hasLimit(limits) {
  return Boolean(limits && (limits.perMinute || limits.perDay));
}

function failOpen(reason, err) {
  limiter().stats.failedOpen++;
  metrics.tierError("rateLimiter");
  limiter().failuresSinceLog++;
  const now = Date.now();
  if (now - limiter().lastFailureLogAt < FAILURE_LOG_INTERVAL_MS) return NOT_LIMITED;
  logEvent("warn", "rate_limiter_failed_open", {
    reason, message: err ? String(err?.message || err).slice(0, 200) : undefined, failures: limiter().failuresSinceLog,
  });
  limiter().lastFailureLogAt = now;
  limiter().failuresSinceLog = 0;
  return NOT_LIMITED;
}

function rememberDenial(key, verdict) {
  makeRoomIn(limiter().denials, MAX_DENIALS_REMEMBERED); // a forgotten denial is simply asked again
  limiter().denials.set(key, { resetAtMs: verdict.resetAtMs, limit: verdict.limit, window: verdict.window });
}

function headersOf(verdict, retryAfterS, bucket, rc) {
  const headers = {
    [HEADER_LIMIT]: String(verdict.limit),
    [HEADER_REMAINING]: String(verdict.remaining),
    [HEADER_RESET]: String(verdict.resetS),
  };
  if (retryAfterS) headers["retry-after"] = String(retryAfterS);
  if (rc.cfg.debugHeaders) headers["x-ratelimit-bucket"] = `${bucket}; window=${verdict.window}`;
  return headers;
}

function limitedResponse(rc, bucket, verdict) {
  const retryAfterS = Math.max(1, Math.ceil((verdict.resetAtMs - rc.now) / 1000));
  const headers = headersOf({ ...verdict, remaining: 0, resetS: retryAfterS }, retryAfterS, bucket, rc);
  const what = bucket === "default" ? "requests" : bucket === "bypass" ? "cache-bypassing (nocache) requests" : `${bucket} requests`;
  const message = `rate limit exceeded: at most ${verdict.limit} ${what} per ${verdict.window} for this client; retry in ${retryAfterS} s`;
  return { limited: true, headers, response: rc.error(429, message, headers) };
}

// → {limited, headers: {name: value}, response?}. When limited, `response` is the 429 to send (JSON
// {error, message, status} with Retry-After and the X-RateLimit-* headers); otherwise `headers` are the
// X-RateLimit-* headers for the response being served (empty when the request is not limited at all).
// X-RateLimit-Reset is in seconds from now, like Retry-After.
// identity: the client's identity, or a function returning (a promise of) it.
export async function checkRateLimit(rc, decision, identity) {
  const policy = policyFor(rc);
  if (!policy.on) return NOT_LIMITED;
  const bucket = bucketFor(policy, decision, rc.core.report);
  if (!bucket || !hasLimit(bucket.limits)) {
    if (decision.rateBucket === ABI.kNone) limiter().stats.exempt++;
    return NOT_LIMITED;
  }
  limiter().stats.checked++;

  // The identity may be passed lazily: hashing it is only worth doing once a limit applies.
  if (typeof identity === "function") identity = await identity();
  const key = `${identity}|${bucket.name}`;
  const answer = answeredLocally(rc, key, bucket.name) || (rc.env.RATE_LIMITER ? await askLimiter(rc, key, identity, bucket) : failOpen("binding-missing"));
  // The 429 is built here, by the request it answers: a Response made while another request's call was
  // being handled would belong to that request (workerd refuses a body from another request's context).
  return answer.denied ? limitedResponse(rc, bucket.name, answer.denied) : answer;
}

// From this isolate's memory, without a call: a denial until its window turns ({denied}), or a request from
// the identity's unspent slice ({limited: false, headers}). null when the limiter object must be asked.
function answeredLocally(rc, key, bucketName) {
  const denied = limiter().denials.get(key);
  if (denied) {
    if (denied.resetAtMs > rc.now) {
      limiter().stats.limited++;
      limiter().stats.limitedLocally++;
      return { denied };
    }
    limiter().denials.delete(key);
  }
  const slice = limiter().allowances.get(key);
  if (slice && slice.left > 0 && rc.now < slice.untilMs) {
    slice.left--;
    limiter().stats.servedFromSlice++;
    const resetS = Math.max(1, Math.ceil((slice.verdict.resetAtMs - rc.now) / 1000));
    return { limited: false, headers: headersOf({ ...slice.verdict, remaining: slice.verdict.remaining + slice.left, resetS }, 0, bucketName, rc) };
  }
  return null;
}

// Requests waiting for the limiter object, by identity|bucket. One call at a time per identity and bucket in
// this isolate; the requests that arrive while it is out queue behind it and are answered from its grant, in
// arrival order. Each call asks for the larger of a slice and the queue's length, so a burst from one client
// costs a few calls, and every request granted is counted once (issue #18: concurrent requests each used to
// call and overwrite each other's leftovers, losing most of the counted quota).
//
// workerd ties I/O to the request that started it and drops a finished request's continuations, so a call is
// always made by a queued request that waits for it (one whose own answer is still pending), and a call
// still marked in flight past its deadline is given up on rather than waited for. Kept in limiter().queues.
// A queued request waits at most this long (its own timer: workerd treats a request that waits only on
// another request's I/O as hung), then is served without a verdict, as when the object does not answer.
const QUEUE_WAIT_MS = 2 * RPC_TIMEOUT_MS + 100;
const GIVE_UP_MARGIN_MS = 100;
const QUEUE_TIMED_OUT = Symbol("queue wait timed out");

async function askLimiter(rc, key, identity, bucket) {
  let queue = limiter().queues.get(key);
  if (!queue) {
    queue = { waiters: [], busy: null };
    limiter().queues.set(key, queue);
  }
  const me = { rc, result: null, wake: null };
  const settled = new Promise((resolve) => {
    me.wake = resolve;
  });
  queue.waiters.push(me);
  let timer;
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => resolve(QUEUE_TIMED_OUT), QUEUE_WAIT_MS);
  });
  try {
    while (!me.result) {
      if (!queue.busy || Date.now() - queue.busy.since > RPC_TIMEOUT_MS + GIVE_UP_MARGIN_MS) {
        const busy = { since: Date.now(), promise: null };
        busy.promise = serveQueue(key, queue, identity, bucket, me).finally(() => {
          if (queue.busy === busy) queue.busy = null;
        });
        queue.busy = busy;
      }
      // Awake when this request is answered, or when the call in flight ends (the next may be this one's).
      if ((await Promise.race([settled, queue.busy.promise, timedOut])) === QUEUE_TIMED_OUT && !me.result) {
        const i = queue.waiters.indexOf(me);
        if (i >= 0) queue.waiters.splice(i, 1);
        return failOpen("timeout");
      }
    }
    return me.result;
  } finally {
    clearTimeout(timer);
    if (limiter().queues.get(key) === queue && queue.waiters.length === 0 && !queue.busy) limiter().queues.delete(key);
  }
}

function answer(waiter, result) {
  waiter.result = result;
  waiter.wake();
}

// One round for the queue, run by `sender` (a queued request): what memory can answer first (a slice left,
// a denial), then — if the sender itself is still unanswered — one call, whose outcome answers the queue.
async function serveQueue(key, queue, identity, bucket, sender) {
  while (queue.waiters.length) {
    const local = answeredLocally(queue.waiters[0].rc, key, bucket.name);
    if (!local) break;
    answer(queue.waiters.shift(), local);
  }
  if (sender.result || queue.waiters.length === 0) return;
  const want = Math.min(MAX_SLICE, Math.max(sliceFor(bucket.limits), queue.waiters.length));
  const outcome = await callLimiter(sender.rc, identity, bucket, want);
  if (outcome.failed) {
    for (const w of queue.waiters.splice(0)) answer(w, failOpen(outcome.failed, outcome.err));
    return;
  }
  const verdict = outcome.verdict;
  if (verdict.allowed) {
    const allowance = rememberAllowance(key, verdict.granted, verdict);
    // Served in arrival order from the grant; whoever is left asks again (or finds a denial).
    let served = 0;
    while (queue.waiters.length) {
      const local = answeredLocally(queue.waiters[0].rc, key, bucket.name);
      if (!local) break;
      answer(queue.waiters.shift(), local);
      served++;
    }
    if (served === 0 && queue.waiters.length) {
      // The grant's window had already ended by this isolate's clock: the request that asked spends one of
      // it all the same (it was counted), rather than asking again.
      allowance.left = Math.max(0, allowance.left - 1);
      const i = queue.waiters.indexOf(sender);
      if (i >= 0) queue.waiters.splice(i, 1);
      answer(sender, { limited: false, headers: headersOf({ ...verdict, remaining: verdict.remaining + allowance.left, resetS: 1 }, 0, bucket.name, sender.rc) });
    }
    return;
  }
  limiter().stats.limited += queue.waiters.length;
  rememberDenial(key, verdict);
  // Once per client and window in an isolate (later denials come from its memory): no log flood. The
  // client is named by its kind and 8 hex digits of its hash, enough to correlate lines.
  const colon = identity.indexOf(":");
  sender.rc.log("warn", "rate_limited", {
    bucket: bucket.name, window: verdict.window, limit: verdict.limit, client: colon < 0 ? identity : identity.slice(0, colon + 9),
  });
  for (const w of queue.waiters.splice(0)) answer(w, { denied: verdict });
}

// One call to the identity's limiter object: {verdict} (checked) or {failed: reason, err}.
async function callLimiter(rc, identity, bucket, want) {
  const policy = policyFor(rc);
  let answer;
  try {
    // A fresh stub per call: a stub that saw an error stays broken.
    const namespace = rc.env.RATE_LIMITER;
    const stub = namespace.get(namespace.idFromName(limiterObjectName(identity, policy.shards)));
    limiter().stats.rpcs++;
    answer = await withTimeout(stub.hit(identity, bucket.name, bucket.limits, rc.now, want), RPC_TIMEOUT_MS, "rate limiter");
  } catch (err) {
    return { failed: /timed out/.test(String(err?.message)) ? "timeout" : "error", err };
  }
  const verdict = checkedVerdict(answer, want);
  return verdict ? { verdict } : { failed: "bad-answer" };
}

const WINDOW_NAMES = new Set(["minute", "day"]);

// The object's answer, if it is one this module can act on; null for anything else (the request is then
// served without a verdict, like any limiter failure): a 429 must never be built from nonsense (a limit of
// "x", a reset in NaN seconds).
function checkedVerdict(v, want) {
  if (!v || typeof v !== "object" || typeof v.allowed !== "boolean") return null;
  if (!Number.isSafeInteger(v.limit) || v.limit <= 0 || !WINDOW_NAMES.has(v.window)) return null;
  if (typeof v.resetAtMs !== "number" || !Number.isFinite(v.resetAtMs) || v.resetAtMs <= 0) return null;
  if (!v.allowed) return { allowed: false, limit: v.limit, window: v.window, resetAtMs: v.resetAtMs };
  if (!Number.isSafeInteger(v.remaining) || v.remaining < 0) return null;
  // An object of an earlier release grants one request per call and does not say so.
  const granted = v.granted === undefined ? 1 : v.granted;
  if (!Number.isSafeInteger(granted) || granted < 1 || granted > want) return null;
  const leaseUntilMs = typeof v.leaseUntilMs === "number" && Number.isFinite(v.leaseUntilMs) ? Math.min(v.leaseUntilMs, v.resetAtMs) : v.resetAtMs;
  return { allowed: true, limit: v.limit, window: v.window, resetAtMs: v.resetAtMs, remaining: v.remaining, granted, leaseUntilMs };
}

// The serving actions, rate limited: counts the request against each of its identities, answers 429 when
// one is over its limit (before anything is served, so a limited request never reaches the origin), else
// serves and adds the X-RateLimit-* headers of the identity with the least left.
export async function withRateLimit(rc, decision, serve) {
  const policy = policyFor(rc);
  let limit = NOT_LIMITED;
  if (policy.on && decision.rateBucket !== ABI.kNone) {
    for (const identity of await identitiesFor(rc, decision)) {
      const l = await checkRateLimit(rc, decision, identity);
      if (l.limited) return l.response;
      const current = limit.headers[HEADER_REMAINING];
      if (current === undefined || Number(l.headers[HEADER_REMAINING]) < Number(current)) limit = l;
    }
  } else {
    await checkRateLimit(rc, decision, "unused"); // counts the exempt request in the stats
  }
  const res = await serve();
  const names = Object.keys(limit.headers);
  if (names.length === 0) return res;
  try {
    for (const n of names) res.headers.set(n, limit.headers[n]);
    return res;
  } catch {
    // Immutable headers (a response passed through as fetched): copy it.
    const copy = new Response(res.body, res);
    for (const n of names) copy.headers.set(n, limit.headers[n]);
    return copy;
  }
}

export function rateLimiterStats() {
  return { ...limiter().stats, denialsRemembered: limiter().denials.size };
}
