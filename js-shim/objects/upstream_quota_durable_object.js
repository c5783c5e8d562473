// UpstreamQuotaDurableObject (bound as UPSTREAM_QUOTA, SQLite-backed): the exact call count of one upstream API
// across every isolate (issue #15), one object per upstream (upstreams.js names them "quota:<origin>"). A
// Durable Object runs one call at a time, so check-and-count inside one synchronous transaction is atomic: two
// isolates can never both take the last call of a window, and the upstream's quota is never exceeded.
//
// It holds no policy. The core decides the windows (the clock minute; the upstream's own day, New York's
// midnight for FMP) and the cap each purpose may count up to (background refreshes and warming stop before the
// day's reserve): they arrive with every call (core/upstream_codec.js upstreamQuotaAsk). This object only counts.
import { DurableObject } from "cloudflare:workers";

const MAX_WINDOWS = 4;
const MAX_NAME_CHARS = 128;
// Rows of windows that ended are deleted by an alarm; rows are one per window kind, updated in place, so this is
// housekeeping for upstreams no longer called.
const CLEANUP_SLACK_MS = 60_000;
const CLEANUP_MIN_INTERVAL_MS = 3_600_000;

function checkName(value, what) {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_NAME_CHARS || value.includes("|")) {
    throw new TypeError(`${what} must be a string of 1 to ${MAX_NAME_CHARS} characters without "|"`);
  }
  return value;
}

// [{kind, limit, cap, startMs, resetAtMs}]: what the core asked to count (upstream_quota.h).
function checkWindows(windows) {
  if (!Array.isArray(windows) || windows.length > MAX_WINDOWS) throw new TypeError(`windows must be an array of at most ${MAX_WINDOWS}`);
  const kinds = new Set();
  for (const w of windows) {
    const ok = w && Number.isSafeInteger(w.kind) && w.kind >= 0 && !kinds.has(w.kind) && Number.isSafeInteger(w.limit) && w.limit > 0 &&
      Number.isSafeInteger(w.cap) && w.cap >= 0 && w.cap <= w.limit && Number.isFinite(w.startMs) && Number.isFinite(w.resetAtMs) &&
      w.resetAtMs > w.startMs;
    if (!ok) throw new TypeError("each window needs a distinct kind, limit > 0, 0 <= cap <= limit, and startMs < resetAtMs");
    kinds.add(w.kind);
  }
  return windows;
}

export class UpstreamQuotaDurableObject extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.alarmAt = null;
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS windows (
        key TEXT PRIMARY KEY, window_start INTEGER NOT NULL, reset_at INTEGER NOT NULL,
        count INTEGER NOT NULL, denied INTEGER NOT NULL)`);
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  // The row of one window, as of `window` (a row of an earlier window counts nothing; a caller whose clock is
  // behind another's counts in the newer window rather than reopening an old one).
  read(counter, w) {
    const key = `${counter}|${w.kind}`;
    const row = this.sql.exec("SELECT window_start, reset_at, count, denied FROM windows WHERE key = ?", key).toArray()[0];
    if (row && row.window_start > w.startMs) return { key, startMs: row.window_start, resetAtMs: row.reset_at, count: row.count, denied: row.denied };
    if (row && row.window_start === w.startMs) return { key, startMs: w.startMs, resetAtMs: w.resetAtMs, count: row.count, denied: row.denied };
    return { key, startMs: w.startMs, resetAtMs: w.resetAtMs, count: 0, denied: 0 };
  }

  write(row) {
    this.sql.exec(
      `INSERT INTO windows (key, window_start, reset_at, count, denied) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET window_start = excluded.window_start, reset_at = excluded.reset_at,
         count = excluded.count, denied = excluded.denied`,
      row.key, row.startMs, row.resetAtMs, row.count, row.denied);
  }

  // Counts one call if every window is below its cap:
  //   {granted, windows: [{kind, limit, count, resetAtMs}], binding: {kind, count, resetAtMs} | null}
  // `binding`, when refused, is the full window that resets last (asking again before then is pointless).
  async spend(counter, windows, nowMs) {
    checkName(counter, "counter");
    checkWindows(windows);
    const result = this.ctx.storage.transactionSync(() => {
      const rows = windows.map((w) => ({ w, row: this.read(counter, w) }));
      const full = rows.filter(({ w, row }) => row.count >= w.cap);
      if (full.length > 0) {
        for (const { row } of rows) {
          row.denied++;
          this.write(row);
        }
        const binding = full.reduce((a, b) => (b.row.resetAtMs > a.row.resetAtMs ? b : a));
        return { granted: false, rows, binding: { kind: binding.w.kind, count: binding.row.count, resetAtMs: binding.row.resetAtMs } };
      }
      for (const { row } of rows) {
        row.count++;
        this.write(row);
      }
      return { granted: true, rows, binding: null };
    });
    await this.scheduleCleanup(Math.max(0, ...result.rows.map(({ row }) => row.resetAtMs)), Number.isFinite(nowMs) ? nowMs : Date.now());
    return {
      granted: result.granted,
      binding: result.binding,
      windows: result.rows.map(({ w, row }) => ({ kind: w.kind, limit: w.limit, count: row.count, denied: row.denied, resetAtMs: row.resetAtMs })),
    };
  }

  // The current counts of `windows` (nothing counted): budget left, for /api/v1/cache/metrics and health.
  async state(counter, windows) {
    checkName(counter, "counter");
    checkWindows(windows);
    return windows.map((w) => {
      const row = this.read(counter, w);
      return { kind: w.kind, limit: w.limit, count: row.count, denied: row.denied, left: Math.max(0, w.limit - row.count), resetAtMs: row.resetAtMs };
    });
  }

  async scheduleCleanup(latestResetAt, now) {
    if (this.alarmAt !== null && this.alarmAt !== undefined && this.alarmAt > now) return;
    this.alarmAt = Math.max(latestResetAt, now + CLEANUP_MIN_INTERVAL_MS) + CLEANUP_SLACK_MS;
    await this.ctx.storage.setAlarm(this.alarmAt);
  }

  async alarm() {
    this.alarmAt = null;
    const now = Date.now();
    this.sql.exec("DELETE FROM windows WHERE reset_at <= ?", now);
    const latest = this.sql.exec("SELECT MAX(reset_at) AS t FROM windows").one().t;
    if (latest !== null) await this.scheduleCleanup(latest, now);
  }
}
