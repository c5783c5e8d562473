// Talks to the origin: builds the upstream request (only safe headers), enforces ORIGIN_TIMEOUT_MS with
// an abort signal, classifies failures (timeout → 504, unreachable → 502), buffers cacheable bodies up
// to a limit (larger ones stream through), and coalesces concurrent fetches of one key in this isolate.

// Request headers never forwarded. Hop-by-hop ones are per connection. The rest are "unkeyed" inputs an
// attacker could use to make the origin produce content that is then cached for everyone (host and
// URL overrides, method overrides): the cache key does not contain them, so the origin must not see them.
const DROPPED_REQUEST_HEADERS = new Set([
  "host", "connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "trailer",
  "transfer-encoding", "upgrade", "content-length",
  "x-forwarded-host", "x-forwarded-server", "x-forwarded-scheme", "x-forwarded-proto", "x-forwarded-port",
  "x-forwarded-prefix", "x-host", "x-original-url", "x-rewrite-url", "x-original-host", "forwarded",
  "x-http-method-override", "x-http-method", "x-method-override",
]);
// On cacheable fetches the worker owns revalidation and needs full bodies: client conditionals and
// ranges are not forwarded (they are answered from the cache instead).
const DROPPED_ON_CACHEABLE = new Set(["if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range", "range", "cache-control", "pragma"]);

export class OriginError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind; // "timeout" | "unreachable" | "config"
    this.status = kind === "timeout" ? 504 : 502;
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

export function upstreamHeaders(request, { cacheable, validators } = {}) {
  const headers = new Headers();
  for (const [name, value] of request.headers) {
    if (DROPPED_REQUEST_HEADERS.has(name) || name.startsWith("cf-") || (cacheable && DROPPED_ON_CACHEABLE.has(name))) continue;
    headers.append(name, value);
  }
  if (validators?.etag) headers.set("if-none-match", validators.etag);
  if (validators?.lastModified) headers.set("if-modified-since", validators.lastModified);
  return headers;
}

// fetch with a deadline covering the response headers; the body has its own read below.
export async function fetchOrigin(url, init, timeoutMs) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new OriginError("timeout", `origin did not answer within ${timeoutMs} ms`)), timeoutMs);
  try {
    return await fetch(url, { ...init, signal: controller.signal, redirect: "manual" });
  } catch (err) {
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

// Single-flight per key within this isolate: the first caller runs `work`, later callers for the same
// key await the same promise. The entry is removed when it settles, success or failure.
export class SingleFlight {
  constructor() {
    this.inflight = new Map();
    this.coalesced = 0;
  }
  run(key, work) {
    const existing = this.inflight.get(key);
    if (existing) {
      this.coalesced++;
      return { promise: existing, leader: false };
    }
    const promise = (async () => work())();
    this.inflight.set(key, promise);
    const clear = () => {
      if (this.inflight.get(key) === promise) this.inflight.delete(key);
    };
    promise.then(clear, clear);
    return { promise, leader: true };
  }
  has(key) {
    return this.inflight.has(key);
  }
}
