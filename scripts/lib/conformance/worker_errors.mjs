// Which responses of a conformance run the worker made itself, from two independent sources:
//   - the suite client's exchanges (observe_fetch.mjs): a response without the suite origin's
//     `Server-Request-Count` whose body is the worker's JSON error {error, message, status}, or a 500
//     without `x-worker-version` (the runtime's own error page: the worker stamps every answer it makes);
//   - wrangler dev's output: the worker logs every exception its error boundary catches as a JSON line
//     with event "unhandled_exception" (js-shim/worker.js).
// An origin 500 — forwarded or replayed from the cache — is neither, and is not counted.
const SAMPLE_LIMIT = 30;

function workerJsonError(body) {
  try {
    const v = JSON.parse(body);
    return v && typeof v === "object" && typeof v.error === "string" && typeof v.status === "number" && "message" in v;
  } catch {
    return false;
  }
}

// The worker's structured log lines ({"level":..., "event":...}) in wrangler dev's output, which may
// prefix them (timestamps, colours).
export function workerLogEvents(output) {
  const counts = {};
  for (const raw of output.split("\n")) {
    const line = raw.replace(/\x1b\[[0-9;]*m/gu, "");
    const start = line.indexOf('{"level":');
    if (start < 0) continue;
    try {
      const e = JSON.parse(line.slice(start));
      const name = `${e.level}:${e.event}`;
      counts[name] = (counts[name] || 0) + 1;
    } catch {
      // a line cut by the runtime's own formatting: not one of the worker's events
    }
  }
  return counts;
}

export function classifyWorkerErrors(observations, wranglerOutput) {
  const byStatus = {};
  const samples = [];
  let json500 = 0;
  let runtime500 = 0;
  let fetchErrors = 0;
  const tests500 = new Set();
  for (const o of observations) {
    if (o.error) {
      fetchErrors += 1;
      if (samples.length < SAMPLE_LIMIT) samples.push({ status: "no response", method: o.method, path: o.path, testId: o.testId, body: o.error });
      continue;
    }
    if (o.fromOrigin || o.status < 400) continue;
    const isJson = workerJsonError(o.body || "");
    const isRuntime = o.status === 500 && !o.workerVersion;
    if (!isJson && !isRuntime) continue;
    byStatus[o.status] = (byStatus[o.status] || 0) + 1;
    if (o.status === 500) {
      if (isJson) json500 += 1;
      else runtime500 += 1;
      if (o.testId) tests500.add(o.testId);
    }
    if (samples.length < SAMPLE_LIMIT && (o.status === 500 || !samples.some((s) => s.status === o.status))) {
      samples.push({ status: o.status, method: o.method, path: o.path, testId: o.testId, body: o.body });
    }
  }
  const logEvents = workerLogEvents(wranglerOutput);
  return {
    status500: json500 + runtime500,
    json500,
    runtime500,
    unhandledExceptions: logEvents["error:unhandled_exception"] || 0,
    byStatus,
    fetchErrors,
    testsWith500: [...tests500].sort(),
    logEvents,
    samples,
  };
}

// testId → ["1: 200 MISS store:origin-ttl", "2: 200 HIT memory", ...]: the worker's own account of each
// exchange of a test (cache-status, tier, store verdict; x-cache-reason with DEBUG_HEADERS=true).
export function exchangesByTest(observations) {
  const byTest = new Map();
  for (const o of observations) {
    if (!o.testId || !o.path.startsWith("/test/")) continue;
    const parts = o.error ? [`no response (${o.error})`]
      : [o.status, o.cacheStatus || "(no cache-status)", o.tier, o.store, o.reason ? `[${o.reason}]` : null].filter(Boolean);
    if (!byTest.has(o.testId)) byTest.set(o.testId, []);
    byTest.get(o.testId).push({ n: Number(o.reqNum) || 0, line: `${o.reqNum}: ${o.method} → ${parts.join(" ")}` });
  }
  return (testId) => (byTest.get(testId) || []).sort((a, b) => a.n - b.n).map((e) => e.line);
}
