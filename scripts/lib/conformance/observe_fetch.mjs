// Preloaded (`node --import`) into the cache test suite's client. Wraps the fetch the suite calls to
// append one JSON line per exchange to $EDGE_CACHE_CONFORMANCE_OBSERVE, so the runner can tell which
// responses the worker made itself (its JSON errors, or a runtime error page) from the ones the suite's
// origin made. The response handed back to the suite is the original, unread.
//
// Two clients: the GitHub suite calls the global fetch; the npm package (0.4.x) imports node-fetch,
// which a resolve hook (node_fetch_hooks.mjs) swaps for an observed wrapper (observed_node_fetch.mjs).
import { appendFileSync } from "node:fs";
import { register } from "node:module";

const file = process.env.EDGE_CACHE_CONFORMANCE_OBSERVE;
const BODY_SAMPLE_CHARS = 400;

function headerValue(headers, name) {
  if (!headers) return undefined;
  const pairs = typeof headers.entries === "function" && !Array.isArray(headers) ? [...headers.entries()]
    : Array.isArray(headers) ? headers : Object.entries(headers);
  const hit = pairs.find(([n]) => String(n).toLowerCase() === name);
  return hit ? String(hit[1]) : undefined;
}

function record(entry) {
  try {
    appendFileSync(file, `${JSON.stringify(entry)}\n`);
  } catch {
    // Observation must never change the suite's outcome.
  }
}

// realFetch wrapped to record each exchange; any fetch with WHATWG-style Response objects (the global
// fetch, node-fetch 2).
export function observed(realFetch) {
  return async function observedFetch(input, init = {}) {
    const url = new URL(typeof input === "string" || input instanceof URL ? String(input) : input.url);
    const base = {
      at: Date.now(), method: init.method || "GET", path: url.pathname + url.search,
      testId: headerValue(init.headers, "test-id") ?? null, reqNum: headerValue(init.headers, "req-num") ?? null,
    };
    let res;
    try {
      res = await realFetch(input, init);
    } catch (err) {
      record({ ...base, error: `${err?.name || "Error"}: ${err?.cause?.code || err?.code || err?.message || err}` });
      throw err;
    }
    const entry = {
      ...base,
      status: res.status,
      // Set by the suite's origin on every /test/ response it makes.
      fromOrigin: res.headers.has("server-request-count"),
      workerVersion: res.headers.get("x-worker-version"),
      // What the worker says it did (the suite judges hits only by the origin's request counter).
      cacheStatus: res.headers.get("cache-status"),
      tier: res.headers.get("x-cache-tier"),
      reason: res.headers.get("x-cache-reason"),
      store: res.headers.get("x-cache-store"),
      contentType: res.headers.get("content-type"),
    };
    // Only non-origin error answers are sampled: those are the worker's (or the runtime's) own.
    if (res.status >= 400 && !entry.fromOrigin) {
      try {
        entry.body = (await res.clone().text()).slice(0, BODY_SAMPLE_CHARS);
      } catch (err) {
        entry.body = `(unreadable: ${err?.message || err})`;
      }
    }
    record(entry);
    return res;
  };
}

if (file) {
  if (typeof globalThis.fetch === "function") globalThis.fetch = observed(globalThis.fetch);
  register(new URL("./node_fetch_hooks.mjs", import.meta.url));
}
