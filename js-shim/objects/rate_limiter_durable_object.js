// RateLimiterDurableObject (bound as RATE_LIMITER, SQLite-backed): exact request counts per client, in
// fixed windows — the clock minute and the UTC day. KV could not do this: it allows one write per second
// per key and is eventually consistent, so concurrent requests would overwrite each other's counts.
// A Durable Object runs one call at a time, so a read-check-increment inside one synchronous method is
// atomic without locks.
//
// Which object counts whom is the worker's choice (../rate_limiter.js limiterObjectName: one of
// RATE_LIMITER_SHARDS objects by the identity's hash, or one object per identity); rows are keyed
// "<identity>|<bucket>|<m|d>" either way, so one object may count many clients. Identities arrive hashed ("ip:<hex>"): no raw IP or token is
// ever stored here. The limits arrive with every call (from the rules, via the configure report), so a
// rules change applies at once and this class holds no policy.
import { DurableObject } from "cloudflare:workers";

const WINDOWS = [
  { name: "minute", field: "perMinute", tag: "m", ms: 60_000 },
  { name: "day", field: "perDay", tag: "d", ms: 86_400_000 },
];
// Rows of idle clients are deleted by an alarm. An active client's rows are updated in place (one per
// bucket and window), so cleanup is only about clients that went away: hourly is plenty, and keeps
// alarms (billed like requests) rare.
const CLEANUP_MIN_INTERVAL_MS = 3_600_000;
const CLEANUP_SLACK_MS = 60_000;
const MAX_NAME_CHARS = 128;

function checkName(value, what) {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_NAME_CHARS || value.includes("|")) {
    throw new TypeError(`${what} must be a string of 1 to ${MAX_NAME_CHARS} characters without "|"`);
  }
  return value;
}

// {perMinute, perDay}: each a positive integer, or absent/null/0 for "not limited".
// The largest quota slice one call may take.
const MAX_SLICE = 1000;

function checkLimits(limits) {
  if (!limits || typeof limits !== "object") throw new TypeError("limits must be an object {perMinute, perDay}");
  const out = {};
  for (const w of WINDOWS) {
    const v = limits[w.field];
    if (v === undefined || v === null || v === 0) continue;
    if (!Number.isSafeInteger(v) || v < 0) throw new TypeError(`limits.${w.field} must be a positive integer`);
    out[w.field] = v;
  }
  return out;
}

export class RateLimiterDurableObject extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.stats = { hits: 0, allowed: 0, denied: 0, alarms: 0, rowsExpired: 0 };
    this.alarmAt = null;
    this.schemaReady = false;
    ctx.blockConcurrencyWhile(async () => {
      this.ensureSchema();
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  ensureSchema() {
    if (this.schemaReady) return;
    // One row per identity, bucket and window kind; window_start says which window its count is for.
    this.sql.exec(`CREATE TABLE IF NOT EXISTS windows (
      key TEXT PRIMARY KEY, window_start INTEGER NOT NULL, count INTEGER NOT NULL, expires_at INTEGER NOT NULL)`);
    this.schemaReady = true;
  }

  // Counts one request of `identity` in `bucket` if every limited window has room, and says so:
  //   {allowed, window, limit, remaining, resetS, resetAtMs, retryAfterS}
  // `window` ("minute" | "day") is the one the other fields describe: when allowed, the window closest to
  // running out; when denied, the exhausted window that resets last (retrying before then is pointless).
  // Denied requests are not counted, so a client that backs off is served again when the window turns.
  // Counts `want` requests at once (a quota slice an isolate then spends locally; 1 = one request). The
  // grant is what every window can still take, so the limit is never exceeded: {granted, leaseUntilMs}
  // say how many were counted and until when the slice may be spent (the earliest window boundary).
  async hit(identity, bucket, limits, nowMs, want = 1) {
    checkName(identity, "identity");
    checkName(bucket, "bucket");
    const checked = checkLimits(limits);
    if (!Number.isSafeInteger(want) || want < 1 || want > MAX_SLICE) throw new TypeError(`want must be an integer in 1..${MAX_SLICE}`);
    const now = Number.isFinite(nowMs) && nowMs > 0 ? Math.floor(nowMs) : Date.now();
    this.ensureSchema();
    // Read, check and write without an await in between: nothing else runs in this object meanwhile, and
    // the transaction commits the writes together.
    const result = this.ctx.storage.transactionSync(() => this.count(identity, bucket, checked, now, want));
    this.stats.hits++;
    if (result.allowed) this.stats.allowed++;
    else this.stats.denied++;
    if (result.expiresAt) await this.scheduleCleanup(result.expiresAt, now);
    delete result.expiresAt;
    return result;
  }

  count(identity, bucket, limits, now, want = 1) {
    const windows = [];
    for (const w of WINDOWS) {
      const limit = limits[w.field];
      if (!limit) continue;
      const key = `${identity}|${bucket}|${w.tag}`;
      const start = Math.floor(now / w.ms) * w.ms;
      const row = this.sql.exec("SELECT window_start, count FROM windows WHERE key = ?", key).toArray()[0];
      // A caller whose clock is slightly behind another's counts in the newer window rather than
      // reopening an old one.
      const windowStart = row && row.window_start > start ? row.window_start : start;
      const count = row && row.window_start === windowStart ? row.count : 0;
      windows.push({ w, key, limit, windowStart, count, resetAtMs: windowStart + w.ms });
    }
    if (windows.length === 0) {
      return { allowed: true, window: null, limit: null, remaining: null, resetS: null, resetAtMs: null, retryAfterS: 0 };
    }
    const secondsUntil = (t) => Math.max(1, Math.ceil((t - now) / 1000));

    const exhausted = windows.filter((x) => x.count >= x.limit);
    if (exhausted.length > 0) {
      const binding = exhausted.reduce((a, b) => (b.resetAtMs > a.resetAtMs ? b : a));
      const retryAfterS = secondsUntil(binding.resetAtMs);
      return {
        allowed: false, window: binding.w.name, limit: binding.limit, remaining: 0, resetS: retryAfterS,
        resetAtMs: binding.resetAtMs, retryAfterS,
      };
    }

    const granted = Math.min(want, ...windows.map((x) => x.limit - x.count));
    let expiresAt = 0;
    for (const x of windows) {
      x.count += granted;
      this.sql.exec(
        `INSERT INTO windows (key, window_start, count, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET window_start = excluded.window_start, count = excluded.count,
           expires_at = excluded.expires_at`,
        x.key, x.windowStart, x.count, x.resetAtMs);
      expiresAt = Math.max(expiresAt, x.resetAtMs);
    }
    // Ties go to the shorter window: it is the one a client can do something about soonest.
    const binding = windows.reduce((a, b) => (b.limit - b.count < a.limit - a.count ? b : a));
    return {
      allowed: true, window: binding.w.name, limit: binding.limit, remaining: binding.limit - binding.count,
      resetS: secondsUntil(binding.resetAtMs), resetAtMs: binding.resetAtMs, retryAfterS: 0, expiresAt,
      granted, leaseUntilMs: Math.min(...windows.map((x) => x.resetAtMs)),
    };
  }

  // One pending alarm at a time, set for when the newest row has expired (at least an hour out).
  async scheduleCleanup(expiresAt, now) {
    if (this.alarmAt !== null && this.alarmAt !== undefined && this.alarmAt > now) return;
    this.alarmAt = Math.max(expiresAt, now + CLEANUP_MIN_INTERVAL_MS) + CLEANUP_SLACK_MS;
    await this.ctx.storage.setAlarm(this.alarmAt);
  }

  async alarm() {
    this.stats.alarms++;
    this.alarmAt = null;
    this.ensureSchema();
    const now = Date.now();
    const removed = this.sql.exec("DELETE FROM windows WHERE expires_at <= ? RETURNING key", now).toArray().length;
    this.stats.rowsExpired += removed;
    const latest = this.sql.exec("SELECT MAX(expires_at) AS t FROM windows").one().t;
    if (latest !== null) {
      await this.scheduleCleanup(latest, now);
      return;
    }
    // Nobody counted here any more: release the object's storage entirely.
    await this.ctx.storage.deleteAll();
    this.schemaReady = false;
  }

  // For operators and tests: the rows (identities are hashes) and this object's counters.
  async describe() {
    this.ensureSchema();
    const rows = this.sql.exec("SELECT key, window_start, count, expires_at FROM windows ORDER BY key").toArray()
      .map((r) => ({ key: r.key, windowStart: r.window_start, count: r.count, expiresAt: r.expires_at }));
    return { rows, alarmAt: this.alarmAt ?? null, ...this.stats };
  }
}
