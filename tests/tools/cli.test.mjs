// The native operator tools, run as an operator would: edge-cache-explain and edge-cache-check-rules
// (built by `node scripts/build.mjs --native-only`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const explain = join(root, "build/native/edge-cache-explain");
const checkRules = join(root, "build/native/edge-cache-check-rules");
const run = (bin, args) => spawnSync(bin, args, { cwd: root, encoding: "utf8" });

test("explain: a past-date historical aggregate is PERMANENT, with its key, tiers and reason", () => {
  const r = run(explain, ["/v1/aggs/ticker/AAPL/range/1/day/2024-01-01/2024-01-31", "--at", "2026-11-23T15:00:00Z", "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.class, "PERMANENT");
  assert.equal(out.rule, "historical-aggs");
  assert.equal(out.reason, "rule:past-date");
  assert.equal(out.key, "https://api.financialdata.online/v1/aggs/ticker/AAPL/range/1/day/2024-01-01/2024-01-31");
  assert.equal(out.tiers, "memory, edge, do, kv");
  assert.equal(out.market.session, "regular");
});

test("explain: the previous trading day is RECENT_PAST (no KV), the day before stays PERMANENT", () => {
  // Monday 2026-11-23 10:00 New York: Friday the 20th is the last trading day.
  const at = ["--at", "2026-11-23T15:00:00Z", "--json"];
  const recent = JSON.parse(run(explain, ["/v1/open-close/AAPL/2026-11-20", ...at]).stdout);
  assert.equal(recent.class, "RECENT_PAST");
  assert.equal(recent.rule, "open-close");
  assert.equal(recent.reason, "rule:recent-past-date");
  assert.equal(recent.tiers, "memory, edge, do");
  assert.match(recent.ttl, /\(365d\)/);
  assert.match(recent.flags, /past-date/);
  const range = JSON.parse(run(explain, ["/v2/aggs/ticker/AAPL/range/1/day/2025-11-21/2026-11-20", ...at]).stdout);
  assert.equal(range.class, "RECENT_PAST");
  assert.equal(range.reason, "rule:recent-past-date");
  const older = JSON.parse(run(explain, ["/v1/open-close/AAPL/2026-11-19", ...at]).stdout);
  assert.equal(older.class, "PERMANENT");
  assert.equal(older.reason, "rule:past-date");
  assert.equal(older.tiers, "memory, edge, do, kv");
  // Tuesday: Monday is the last trading day, Friday is PERMANENT.
  const nextDay = JSON.parse(run(explain, ["/v1/open-close/AAPL/2026-11-20", "--at", "2026-11-24T10:00", "--json"]).stdout);
  assert.equal(nextDay.class, "PERMANENT");
});

test("explain: REALTIME is short while trading and lasts until the next open when closed", () => {
  const trading = JSON.parse(run(explain, ["/v2/last/trade/AAPL", "--at", "2026-11-23T15:00:00Z", "--json"]).stdout);
  assert.equal(trading.class, "REALTIME");
  assert.equal(trading.reason, "market:open");
  assert.match(trading.ttl, /^15 s/);
  // Saturday noon New York time: closed until Monday 04:00 (pre-market) = 40 h.
  const weekend = JSON.parse(run(explain, ["/v2/last/trade/AAPL", "--at", "2026-11-28T12:00:00", "--json"]).stdout);
  assert.equal(weekend.reason, "market:closed-until-open");
  assert.match(weekend.ttl, /^144000 s/);
  assert.match(weekend.at.note, /New York/);
});

test("explain: --response shows whether an origin response would be stored", () => {
  const r = JSON.parse(run(explain, ["/some/unmatched", "--response", "Cache-Control: private, max-age=60", "--json"]).stdout);
  assert.equal(r.reason, "default:follow-origin");
  assert.equal(r.store.storable, false);
  assert.equal(r.store.reason, "origin:private");
});

test("explain: malformed URLs, times and options are rejected with a message and a non-zero exit", () => {
  const cases = [
    { args: ["not-a-url"], status: 2, message: /malformed URL/ },
    { args: ["/x", "--at", "2026-13-01T00:00:00Z"], status: 2, message: /malformed time/ },
    { args: ["/x", "--at", "yesterday"], status: 2, message: /malformed time/ },
    { args: ["/x", "--bogus"], status: 2, message: /unknown option/ },
    { args: [], status: 2, message: /no URL/ },
    { args: ["/a/%zz"], status: 3, message: /reject this request with 400 \(url:bad-percent-encoding\)/ },
  ];
  for (const c of cases) {
    const r = run(explain, c.args);
    assert.equal(r.status, c.status, `${c.args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, c.message);
  }
});

test("check-rules: the shipped file is valid; a broken file lists every problem with its location", () => {
  const ok = run(checkRules, ["config/cache-rules.json"]);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^ok: \d+ classes, \d+ rules/);

  const dir = mkdtempSync(join(tmpdir(), "rules-"));
  try {
    const rules = JSON.parse(readFileSync(join(root, "config/cache-rules.json"), "utf8"));
    rules.rules[0].class = "NO_SUCH_CLASS";
    rules.classes.DAY.tll = 5;
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify(rules, null, 2));
    const bad = run(checkRules, [file]);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /\/rules\/0\/class: .*NO_SUCH_CLASS/);
    assert.match(bad.stdout, /\/classes\/DAY\/tll: .*ttl/);
    writeFileSync(file, '{"version": 1,\n  "classes": {,}}');
    const syntax = run(checkRules, [file]);
    assert.equal(syntax.status, 1);
    assert.match(syntax.stdout, /line 2, column \d+/);
    const missing = run(checkRules, [join(dir, "nope.json")]);
    assert.equal(missing.status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
