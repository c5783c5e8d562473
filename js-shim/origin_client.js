// Talks to the origin: builds the upstream request (the header fields the core's forwarding plan allows),
// enforces ORIGIN_TIMEOUT_MS with an abort signal, classifies failures (timeout → 504, unreachable → 502),
// buffers cacheable bodies up to a limit (larger ones stream through), and coalesces concurrent fetches of one
// key in this isolate.
import { HOP_HEADER, isOwnLoopAnswer } from "./loop_guard.js";
import { isolate } from "./isolate_context.js";

export class OriginError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind; // "timeout" | "unreachable" | "config" | "invalid-response" | "loop"
    this.status = kind === "timeout" ? 504 : kind === "loop" ? 508 : 502;
  }
}

export function originUrl(cfg, originTarget) {
  if (!cfg.backendUrl) throw new OriginError("config", "BACKEND_URL is not a valid URL");
  // The backend may live under a path prefix (https://host/api): targets are appended to it.
  const base = cfg.backendUrl.href.replace(/\/$/, "");
  return base + originTarget;
}

// The size of all the request's headers (names, values and separators), as the origin would receive them.
export function forwardedHeaderBytes(request) {
  let total = 0;
  for (const [name, value] of request.headers) total += name.length + value.length + 4;
  return total;
}

// Per forwarding plan (the core's report): the allow list of a cacheable fetch as a Set, with each rule's keyed
// fields added; the drop list of a pass-through as a Set. Built once per plan (isolate.forwardingPlans).
function planOf(forwarding) {
  let plan = isolate.forwardingPlans.get(forwarding);
  if (!plan) {
    const base = new Set(forwarding.cacheable);
    plan = {
      cacheable: base,
      byRule: forwarding.byRule.map((names) => (names.length ? new Set([...base, ...names]) : base)),
      passThroughDropped: new Set(forwarding.passThroughDropped),
    };
    isolate.forwardingPlans.set(forwarding, plan);
  }
  return plan;
}

// The names a Connection field lists (hop-by-hop for this connection only).
function connectionListed(request) {
  const connection = request.headers.get("connection");
  return connection ? new Set(connection.split(",").map((n) => n.trim().toLowerCase()).filter(Boolean)) : null;
}

// Only the named cookies of a Cookie field (credentials.cookies), or the field as is when no cookie is named.
function credentialCookies(value, named) {
  if (!Array.isArray(named)) return value;
  const kept = value.split(";").map((p) => p.trim()).filter((p) => named.includes(p.split("=", 1)[0].trim()));
  return kept.length ? kept.join("; ") : null;
}

// The header fields sent to the origin. A cacheable fetch (its response may be served to others) carries only
// what the core's allow list names — anything else a client sends could change what gets cached without being
// part of the key (issue #14, F8) — plus the worker's own validators; client conditionals and ranges are the
// worker's to answer. A pass-through (never stored) carries the client's fields but hop-by-hop ones, the
// Connection-listed ones, cf-* and the core's list of fields that redirect an origin.
// forwarding: core.forwarding; credentials: core.credentials; ruleIndex: the decision's (kNone: none).
// variantFields: the names a stored response of this key varies on (Vary): they select the variant, so they
// are keyed, and forwarded.
export function upstreamHeaders(request, { cacheable, validators, forwarding, credentials, ruleIndex, variantFields } = {}) {
  const headers = new Headers();
  const plan = planOf(forwarding);
  const listed = connectionListed(request);
  const allowed = cacheable ? (plan.byRule[ruleIndex] || plan.cacheable) : null;
  for (const [name, value] of request.headers) {
    if (listed?.has(name) || name.startsWith("cf-")) continue;
    if (allowed ? !allowed.has(name) && !variantFields?.includes(name) : plan.passThroughDropped.has(name)) continue;
    if (name === "cookie" && cacheable) {
      const kept = credentialCookies(value, credentials?.cookies);
      if (kept !== null) headers.append(name, kept);
      continue;
    }
    headers.append(name, value);
  }
  if (validators?.etag) headers.set("if-none-match", validators.etag);
  if (validators?.lastModified) headers.set("if-modified-since", validators.lastModified);
  return headers;
}

// fetch with a deadline covering the response headers; the body has its own read below.
// hop: loop_guard.js's hopFor(): init.headers (a Headers) carries it, and an answer saying the fetch came back to
// this worker is a loop error rather than a response.
export async function fetchOrigin(url, init, timeoutMs, hop) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new OriginError("timeout", `origin did not answer within ${timeoutMs} ms`)), timeoutMs);
  if (hop) init.headers.set(HOP_HEADER, hop.value);
  try {
    const res = await fetch(url, { ...init, signal: controller.signal, redirect: "manual" });
    if (hop && isOwnLoopAnswer(res, hop)) {
      await res.body?.cancel().catch(() => {});
      throw new OriginError("loop", "BACKEND_URL leads back to this worker: its origin fetch arrived at the worker itself, and the loop was stopped there");
    }
    return res;
  } catch (err) {
    if (err instanceof OriginError) throw err;
    if (controller.signal.aborted) throw new OriginError("timeout", `origin did not answer within ${timeoutMs} ms`);
    throw new OriginError("unreachable", `origin unreachable: ${err && err.message ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

// Reads at most maxBytes of the body. Returns {body: Uint8Array} when it fits, else {stream} that
// replays what was read and continues with the rest (the response is passed through, not stored).
export async function bufferBody(response, maxBytes, timeoutMs) {
  if (!response.body) return { body: new Uint8Array(0) };
  const declared = Number.parseInt(response.headers.get("content-length") || "", 10);
  if (Number.isFinite(declared) && declared > maxBytes) return { stream: response.body };
  const reader = response.body.getReader();
  const chunks = [];
  let total = 0;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const remaining = deadline - Date.now();
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new OriginError("timeout", "origin body stalled")), Math.max(1, remaining));
    });
    let step;
    try {
      step = await Promise.race([reader.read(), timeout]);
    } catch (err) {
      reader.cancel().catch(() => {});
      throw err instanceof OriginError ? err : new OriginError("unreachable", `origin body failed: ${err?.message || err}`);
    } finally {
      clearTimeout(timer);
    }
    if (step.done) break;
    chunks.push(step.value);
    total += step.value.byteLength;
    if (total > maxBytes) {
      const pending = chunks.slice();
      const stream = new ReadableStream({
        pull(controller) {
          if (pending.length) return controller.enqueue(pending.shift());
          return reader.read().then(({ done, value }) => (done ? controller.close() : controller.enqueue(value)));
        },
        cancel(reason) {
          return reader.cancel(reason);
        },
      });
      return { stream };
    }
  }
  if (chunks.length === 1) return { body: chunks[0] };
  const body = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    body.set(c, offset);
    offset += c.byteLength;
  }
  return { body };
}

// SingleFlight moved to its own file (single_flight.js); re-exported for the callers that knew it here.
export { SingleFlight } from "./single_flight.js";
