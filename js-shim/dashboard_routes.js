// The operator's dashboard (issue #16): the page, and the two admin JSON endpoints only it needs beside the public
// /api/v1/cache/metrics and /api/v1/cache/health.
//   GET /api/v1/cache/dashboard         the page (js-shim/dashboard/page.html, bundled by scripts/build.mjs), under a
//                                       Content-Security-Policy that allows its own inline style and script only
//   GET /api/v1/cache/metrics/history   the merged counters minute by minute (metrics_history.js), admin token
//   GET /api/v1/cache/overview          market state, rules, budgets, today's top keys by hits, recent purges, admin token
// The core decides these routes like the other local ones; nothing here runs for any other request.
import { DASHBOARD_CSP, DASHBOARD_HTML } from "./generated/dashboard_page.js";
import { requireAdmin } from "./admin_auth.js";
import { controlStub, syncNow } from "./control_sync.js";
import { metrics } from "./metrics.js";
import { historySeries, parseMinutes, todaySums } from "./metrics_history.js";
import { isolate } from "./isolate_context.js";
import { OVERVIEW_KEYS } from "./top_keys.js";
import { jsonResponse, stampWorkerHeaders } from "./responses.js";
import { tiersFor } from "./tiers/tier_set.js";
import { withTimeout } from "./timeouts.js";

const CONTROL_TIMEOUT_MS = 3000;
const PROBE_TIMEOUT_MS = 2000;
const RECENT_PURGES = 20;

// The page holds no data and no secret (the token is typed in by the operator), so anyone may load it; every
// figure it shows comes from the JSON endpoints, which check the token.
export function dashboardPage(rc) {
  const headers = new Headers({
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": DASHBOARD_CSP,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
  });
  stampWorkerHeaders(headers, rc.cfg);
  return new Response(rc.isHead ? null : DASHBOARD_HTML, { status: 200, headers });
}

// Without a control object (no Durable Objects: KV or no shared tier) nothing keeps the minutes: the answer says so
// rather than inventing a series from this isolate's counters.
export async function metricsHistory(rc) {
  const denied = await requireAdmin(rc, "/api/v1/cache/metrics/history");
  if (denied) return denied;
  const asked = parseMinutes(new URL(rc.url).searchParams.get("minutes"));
  if (asked.error) return rc.error(400, asked.error);
  const stub = controlStub(rc.env);
  if (!stub) {
    return jsonResponse({
      available: false, reason: "no control object (Durable Objects are not bound or are switched off): no history is kept",
      minutes: asked.minutes,
    }, 200, rc.cfg);
  }
  let rows;
  try {
    // This isolate's counters first, so the current minute includes what it served up to now.
    await syncNow(rc.env);
    rows = await withTimeout(stub.metricsHistory(), CONTROL_TIMEOUT_MS, "metrics history");
  } catch (err) {
    rc.log("warn", "metrics_history_failed", { message: String(err?.message || err) });
    return rc.error(503, `the control object did not answer: ${String(err?.message || err)}`);
  }
  const nowMs = Date.now();
  return jsonResponse({
    available: true,
    scope: "all isolates, per minute in which their flushes reached the control object",
    ...historySeries(rows, nowMs, asked.minutes),
    today: todaySums(rows, nowMs),
  }, 200, rc.cfg);
}

async function sharedStorage(rc) {
  const tiers = tiersFor(rc.env, rc.cfg, rc.core, rc.url);
  if (!tiers.shared) return { tier: "none" };
  if (tiers.shared.name !== "do") return { tier: tiers.shared.name };
  try {
    const h = await withTimeout(tiers.shared.health(), PROBE_TIMEOUT_MS, "do health");
    return { tier: "do", entries: h.entries, bytes: h.bytes, budgetBytes: h.budgetBytes || null, shards: h.shards };
  } catch (err) {
    return { tier: "do", error: String(err?.message || err) };
  }
}

function rulesInForce(core) {
  const r = core.report?.rules;
  return r ? { status: r.status, source: r.source, digest: r.digest, problems: r.problems || [] } : { status: "unavailable", problems: [] };
}

function iso(ms) {
  return ms > 0 ? new Date(ms).toISOString() : null;
}

// Today's keys with the most hits (top_keys.js): every isolate's, from the control object, after this isolate's
// sync; without a control object, or when it does not answer, this isolate's own counts, and the scope says so.
async function topKeys(rc, stub) {
  if (stub) {
    try {
      const { day, keys } = await withTimeout(stub.topKeys(OVERVIEW_KEYS), CONTROL_TIMEOUT_MS, "top keys");
      return { keys, scope: { source: "control", day, note: "today (UTC), every isolate's hits as of its last flush" } };
    } catch (err) {
      rc.log("warn", "top_keys_failed", { message: String(err?.message || err) });
      return {
        keys: isolate.topKeys.top(OVERVIEW_KEYS),
        scope: { source: "isolate", day: null, note: `this isolate's hits not yet flushed only: the control object did not answer (${String(err?.message || err)})` },
      };
    }
  }
  return {
    keys: isolate.topKeys.top(OVERVIEW_KEYS),
    scope: { source: "isolate", day: null, note: "this isolate's hits since it started only: no control object (Durable Objects are not bound or are switched off) merges isolates" },
  };
}

export async function overview(rc) {
  const denied = await requireAdmin(rc, "/api/v1/cache/overview");
  if (denied) return denied;
  // The sync pulls the purge records other isolates wrote, so the list below is the control object's as of now.
  const [, storage] = await Promise.all([syncNow(rc.env), sharedStorage(rc)]);
  const stub = controlStub(rc.env);
  // After the sync: this isolate's hits are in the control object's table by now.
  const keys = await topKeys(rc, stub);
  const nowMs = Date.now();
  const m = rc.core.marketState(nowMs);
  return jsonResponse({
    generatedAt: new Date(nowMs).toISOString(),
    market: {
      calendar: "NYSE, America/New_York",
      session: m.session,
      open: m.regularOpen,
      extendedOpen: m.extendedOpen,
      marketDate: m.marketDate,
      nextOpen: iso(m.nextRegularOpenMs),
      nextExtendedOpen: iso(m.nextExtendedOpenMs),
      closesAt: iso(m.regularCloseMs),
      covered: m.covered,
    },
    rules: rulesInForce(rc.core),
    budgets: {
      kvWritesPerDay: rc.cfg.kvDailyWriteLimit > 0 ? rc.cfg.kvDailyWriteLimit : null,
      // Every isolate's, as of the sync just made (this isolate's alone without a control object).
      kvWritesToday: metrics.kvWritesToday(),
      durableObjectStorage: storage,
    },
    // Fresh hits (Cache-Status HIT, any tier), most first, at most OVERVIEW_KEYS.
    topKeys: keys.keys,
    topKeysScope: keys.scope,
    recentPurges: isolate.purgeLog.recent(RECENT_PURGES).map((p) => ({ kind: p.kind, value: p.value, at: iso(p.at) })),
    purgeLog: { propagated: Boolean(stub), seq: isolate.purgeLog.seq },
  }, 200, rc.cfg);
}
