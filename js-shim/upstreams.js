// Upstream APIs behind the worker (issue #15): the I/O around the core's decisions for a rule with an `origin`.
// The core says which upstream (decision.origin), what it is asked for (decision.originTarget), where its secret
// goes (the report's credential: a query parameter or a header, and the secret's NAME), which windows a call must
// fit and what to do when it does not, and which answers are errors. This module reads env[secret] and adds it
// to the upstream request only — never to a key, a log line, a header or body sent to a client, a metric — asks
// the quota counter (UpstreamQuotaDurableObject) and reports what it did.
// The generated ABI constants, not core_bridge.js (which loads the Wasm module): this file loads in plain Node.
import * as ABI from "./generated/abi_layout.js";
import { metrics } from "./metrics.js";
import { OriginError } from "./origin_client.js";
import { withTimeout } from "./timeouts.js";

// The counter is on the path of every upstream call; past this it counts as unavailable (no call is made).
const COUNTER_TIMEOUT_MS = 2000;
// Request fields an upstream may see: content negotiation only. The client's credentials (Authorization,
// cookies) are for this worker or BACKEND_URL, never for a third-party API.
const FORWARDED_TO_UPSTREAM = ["accept", "accept-language", "accept-charset"];
const WINDOW_NAMES = { [ABI.QuotaWindowKind.Minute]: "minute", [ABI.QuotaWindowKind.Day]: "day" };

// The core refused the call (quota spent, or the counter unavailable). Carries the counter's facts so the caller
// can ask the core again with the stale entry it holds (lookup), and the core's answer without one.
export class UpstreamRefusal extends OriginError {
  constructor(upstream, facts, outcome) {
    super("quota", `upstream ${upstream.name}: no call allowed now`);
    this.status = outcome.status || 503;
    this.upstream = upstream;
    this.facts = facts;
    this.outcome = outcome;
  }
}

// The upstream answered with an error in disguise (errorBodyKeys), or echoed its own credential: never stored,
// never sent; a stale entry answers instead when there is one (an OriginError, as an unreachable origin is).
export class UpstreamAnswerError extends OriginError {
  constructor(upstream, message) {
    super("upstream-error", `upstream ${upstream.name}: ${message}`);
    this.upstream = upstream;
  }
}

export function upstreamOf(rc, decision) {
  if (decision.origin === undefined || decision.origin === ABI.kNone) return null;
  const upstream = rc.core.upstreams[decision.origin];
  return upstream ? { ...upstream, index: decision.origin } : null;
}

function secretValue(env, upstream) {
  const name = upstream.credential?.secret;
  const value = name ? env[name] : undefined;
  return typeof value === "string" && value.length > 0 ? value : null;
}

// Replaces the secret's value (as is and URL-encoded) in text that may reach a log or a client.
export function scrubSecret(text, secret) {
  if (!secret || typeof text !== "string") return text;
  let out = text.split(secret).join("<secret>");
  const encoded = encodeURIComponent(secret);
  if (encoded !== secret) out = out.split(encoded).join("<secret>");
  return out;
}

// The upstream request: the URL in force + the core's target, the secret where the core's report says, the
// negotiation fields, the worker's validators and user agent. A client-supplied value for the credential is
// already out of the target (the core dropped it) and out of the fields (only the negotiation ones are copied).
export function upstreamRequest(rc, decision, upstream, validators) {
  const secret = secretValue(rc.env, upstream);
  let url = upstream.url + decision.originTarget;
  const headers = new Headers();
  for (const name of FORWARDED_TO_UPSTREAM) {
    const value = rc.request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  if (validators?.etag) headers.set("if-none-match", validators.etag);
  if (validators?.lastModified) headers.set("if-modified-since", validators.lastModified);
  headers.set("user-agent", rc.warming ? "edge-cache-warmer" : `edge-cache/${rc.cfg.version}`);
  const c = upstream.credential;
  if (c && secret !== null) {
    if (c.query) url += `${decision.originTarget.includes("?") ? "&" : "?"}${encodeURIComponent(c.query)}=${encodeURIComponent(secret)}`;
    else if (c.header) headers.set(c.header, `${c.prefix || ""}${secret}`);
  }
  return { url, headers, secret, timeoutMs: upstream.timeoutMs || rc.cfg.originTimeoutMs };
}

function counterStub(env, upstream) {
  const ns = env.UPSTREAM_QUOTA;
  return ns ? ns.get(ns.idFromName(`quota:${upstream.name}`)) : null;
}

// Asks the counter for one call of `upstream` and the core what that means. Returns when the call may be made;
// throws UpstreamRefusal otherwise. purpose: ABI.UpstreamPurpose.
export async function spendUpstreamCall(rc, decision, upstream, purpose) {
  const nowMs = Date.now();
  const windows = rc.core.upstreamQuotaAsk(upstream.index, purpose, nowMs);
  if (windows.length === 0) {
    metrics.upstream(upstream.name, "calls");
    return;
  }
  const facts = { origin: upstream.index, purpose, count: ABI.QuotaCount.Unavailable, nowMs, resetAtMs: 0 };
  const stub = counterStub(rc.env, upstream);
  if (stub) {
    try {
      const answer = await withTimeout(stub.spend(`quota:${upstream.name}`, windows, nowMs), COUNTER_TIMEOUT_MS, "upstream quota counter");
      facts.count = answer.granted ? ABI.QuotaCount.Granted : ABI.QuotaCount.Denied;
      if (answer.binding) Object.assign(facts, { bindingKind: answer.binding.kind, bindingCount: answer.binding.count, resetAtMs: answer.binding.resetAtMs });
    } catch (err) {
      metrics.tierError("upstreamQuota");
      rc.log("error", "upstream_quota_unavailable", { upstream: upstream.name, message: String(err?.message || err).slice(0, 200) });
    }
  } else {
    rc.log("error", "upstream_quota_unavailable", { upstream: upstream.name, message: "the UPSTREAM_QUOTA binding is missing" });
  }
  const outcome = rc.core.upstreamQuotaVerdict(facts);
  if (outcome.call === ABI.UpstreamCall.Spend) {
    metrics.upstream(upstream.name, "calls");
    return;
  }
  metrics.upstream(upstream.name, "denied");
  throw new UpstreamRefusal(upstream, facts, outcome);
}

// After a refusal, with the entry this request found (if any): the core's answer — serve it stale, refuse
// with Retry-After, or (a background refresh) skip. Returns {stale: true, reason} or {response}.
export function answerRefusal(rc, decision, err, staleAtHand) {
  const outcome = staleAtHand
    ? rc.core.upstreamQuotaVerdict({ ...err.facts, staleFreshness: staleAtHand.evaluation.freshness })
    : err.outcome;
  const reasonName = rc.core.report.reasons[outcome.reason] || "upstream:quota-exhausted";
  if (outcome.call === ABI.UpstreamCall.ServeStale) {
    metrics.upstream(err.upstream.name, "stale");
    rc.log("warn", "upstream_quota_stale", { upstream: err.upstream.name, reason: reasonName, key: decision.key });
    return { stale: true, reason: outcome.reason };
  }
  metrics.upstream(err.upstream.name, "refused");
  const retryAfterS = Math.max(1, outcome.retryAfterS || 1);
  const window = WINDOW_NAMES[err.facts.bindingKind] || "minute";
  const why = reasonName === "upstream:quota-unavailable"
    ? "its quota counter is unavailable, so no call is made"
    : `its ${window} budget is spent`;
  rc.log("warn", "upstream_quota_refused", { upstream: err.upstream.name, reason: reasonName, retryAfterS });
  return {
    response: rc.error(outcome.status || 503, `upstream ${err.upstream.name}: ${why} and no cached answer is at hand; retry in ${retryAfterS} s (${reasonName})`,
      { "retry-after": String(retryAfterS) }),
  };
}

// Whether the upstream's answer is an error (the core decides from its status and, for 2xx, its body's
// top-level JSON keys), and that it does not echo the secret. Throws UpstreamAnswerError for an error body
// or an echo; returns {errorStatus: true} for a 429 / 5xx (the caller serves stale instead when it can).
export function judgeUpstreamAnswer(rc, upstream, secret, status, body, fields) {
  if (secret && echoes(secret, body, fields)) {
    metrics.upstream(upstream.name, "errors");
    rc.log("error", "upstream_echoed_credential", { upstream: upstream.name, status });
    throw new UpstreamAnswerError(upstream, "its answer contained the worker's credential; it was discarded");
  }
  const judged = rc.core.upstreamResponseError(upstream.index, status, body);
  if (judged.verdict === ABI.UpstreamResponse.ErrorBody) {
    metrics.upstream(upstream.name, "errors");
    const key = upstream.errorBodyKeys?.[judged.marker] ?? "?";
    rc.log("warn", "upstream_error_body", { upstream: upstream.name, status, marker: key });
    throw new UpstreamAnswerError(upstream, `answered ${status} with an error body (${JSON.stringify(key)}); not cached`);
  }
  if (judged.verdict === ABI.UpstreamResponse.ErrorStatus) {
    metrics.upstream(upstream.name, "errors");
    return { errorStatus: true };
  }
  return { errorStatus: false };
}

const latin1 = new TextDecoder("latin1");
function echoes(secret, body, fields) {
  const forms = [secret, encodeURIComponent(secret)];
  for (const [, value] of fields) if (forms.some((f) => value.includes(f))) return true;
  if (!body || body.length < secret.length) return false;
  const text = latin1.decode(body);
  return forms.some((f) => text.includes(f));
}

// The message of a 503 for a route whose upstream's secret is not set: the secret's name, never a value.
export function secretMissingMessage(core, decision) {
  const upstream = core.upstreams[decision.origin];
  const secret = upstream?.credential?.secret || "(unknown)";
  return `upstream ${upstream?.name || "?"} is not configured: the worker secret ${secret} is not set`;
}

// The problems /health reports: missing secrets and invalid ORIGIN_URLS entries (names only).
export function upstreamProblems(core) {
  const problems = [];
  for (const u of core?.upstreams || []) {
    if (u.credential && u.credential.secretSet === false) {
      problems.push(`upstream ${u.name}: the secret ${u.credential.secret} is not set; its routes (${u.rules.join(", ")}) answer 503`);
    }
  }
  for (const u of core?.upstreams || []) {
    if (u.refusedInOriginMode) {
      problems.push(`upstream ${u.name}: AUTH_MODE=origin cannot judge its clients (the upstream only sees the worker's key); its routes (${u.rules.join(", ")}) answer 503 until the rules declare it "public": true or AUTH_MODE is jwt`);
    }
  }
  for (const p of core?.report?.upstreams?.problems || []) problems.push(p);
  return problems;
}

// Per upstream: what this worker did (merged counters) and the budget left now (exact, from the counter).
export async function describeUpstreams(rc, counters) {
  const out = {};
  const nowMs = Date.now();
  await Promise.all((rc.core.upstreams || []).map(async (u, index) => {
    const get = (what) => counters[`upstream.${u.name}.${what}`] || 0;
    const entry = {
      url: u.url,
      secret: u.credential ? { name: u.credential.secret, set: u.credential.secretSet !== false } : null,
      quota: u.quota,
      calls: get("calls"), denied: get("denied"), stale: get("stale"), refused: get("refused"), errors: get("errors"), skipped: get("skipped"),
      budget: null,
    };
    const windows = rc.core.upstreamQuotaAsk(index, ABI.UpstreamPurpose.Client, nowMs);
    const stub = windows.length ? counterStub(rc.env, { name: u.name }) : null;
    if (stub) {
      try {
        const state = await withTimeout(stub.state(`quota:${u.name}`, windows), COUNTER_TIMEOUT_MS, "upstream quota counter");
        entry.budget = {};
        for (const w of state) {
          entry.budget[WINDOW_NAMES[w.kind] || String(w.kind)] = {
            limit: w.limit, used: w.count, left: w.left, denied: w.denied, resetAt: new Date(w.resetAtMs).toISOString(),
          };
        }
      } catch (err) {
        entry.budget = { error: String(err?.message || err).slice(0, 200) };
      }
    }
    out[u.name] = entry;
  }));
  return out;
}
