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

test("explain: a malformed absolute URL exits 2 and says what is wrong", () => {
  const at = ["--at", "2026-11-23T15:00:00Z"];
  const cases = [
    { url: "http://[::1/v1/open-close/AAPL/2023-01-09", message: /unclosed IPv6 bracket/ },
    { url: "http://[::1::2]/v1/x", message: /invalid IPv6 address/ },
    { url: "http://localhost:80a/v1/x", message: /invalid port/ },
    { url: "http://localhost:65536/v1/x", message: /port out of range/ },
    { url: "http:///v1/x", message: /empty host/ },
    { url: "http://:8000/v1/x", message: /empty host/ },
    { url: "ftp://api.example.com/v1/x", message: /unknown scheme: only http and https/ },
    { url: "localhost:8787/v1/x", message: /unknown scheme/ },
    { url: "https:api.example.com/v1/x", message: /followed by '\/\/'/ },
    { url: "http://user:secret@api.example.com/v1/x", message: /user information/ },
    { url: "http://api example.com/v1/x", message: /invalid character in the host/ },
  ];
  for (const c of cases) {
    const r = run(explain, [c.url, ...at]);
    assert.equal(r.status, 2, `${c.url}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^edge-cache-explain: malformed URL \(/, c.url);
    assert.match(r.stderr, c.message, c.url);
    assert.ok(r.stderr.includes(c.url), `${c.url}: the message names the URL`);
    assert.equal(r.stdout, "", `${c.url}: nothing is explained`);
  }
  const origin = run(explain, ["/v1/x", "--origin", "https://[::1", ...at]);
  assert.equal(origin.status, 2);
  assert.match(origin.stderr, /malformed --origin \(unclosed IPv6 bracket/);
});

test("explain: an absolute URL's origin is serialised as the worker serialises BACKEND_URL's", () => {
  const at = ["--at", "2026-11-23T15:00:00Z", "--json"];
  const cases = [
    ["HTTPS://API.Example.com:443/v3/reference/tickers/AAPL", "https://api.example.com", "/v3/reference/tickers/AAPL"],
    ["http://[0:0::1]:8000/v3/reference/tickers/AAPL", "http://[::1]:8000", "/v3/reference/tickers/AAPL"],
    ["http://127.0.0.1:8787?x=1", "http://127.0.0.1:8787", "/?x=1"],
  ];
  for (const [url, origin, target] of cases) {
    const r = run(explain, [url, ...at]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.origin, origin, url);
    assert.equal(out.url, target, url);
    assert.equal(new URL(url).origin, origin, `${url}: what the shim's new URL() gives`);
  }
  const withOrigin = JSON.parse(run(explain, ["/v3/reference/tickers/AAPL", "--origin", "https://API.example.com/api", ...at]).stdout);
  assert.equal(withOrigin.key, "https://api.example.com/v3/reference/tickers/AAPL");
});

test("explain: --mount takes the client's URL under MOUNT_PATH; the key and the origin see the path below it", () => {
  const at = ["--at", "2026-11-23T15:00:00Z", "--json"];
  const mounted = run(explain, ["https://api.example.com/cache/v1/reference/tickers/types", "--mount", "/cache", ...at]);
  assert.equal(mounted.status, 0, mounted.stderr);
  const out = JSON.parse(mounted.stdout);
  assert.equal(out.mount, "/cache");
  assert.equal(out.class, "WEEK");
  assert.equal(out.originTarget, "/v1/reference/tickers/types");
  assert.equal(out.key, "https://api.example.com/v1/reference/tickers/types");
  const outside = JSON.parse(run(explain, ["/v1/reference/tickers/types", "--mount", "/cache", ...at]).stdout);
  assert.equal(outside.reason, "mount:outside-prefix");
  assert.equal(outside.status, 404);
  const bad = run(explain, ["/cache/v1/x", "--mount", "/cache/", ...at]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /malformed --mount: MOUNT_PATH "\/cache\/" must not end with "\/" \(write "\/cache"\)/);
});

test("explain: the original worker's documented URLs and the reference classes it used", () => {
  const at = ["--at", "2026-11-23T15:00:00Z", "--json"];
  const cases = [
    // path, rule, class, tiers: reference data WEEK (KV), company info DAY, ticker details HOUR_6, conversion MIN_15
    ["/v1/reference/tickers/types", "ticker-types-v1", "WEEK", "memory, edge, do, kv"],
    ["/v3/reference/tickers/types", "ticker-types", "WEEK", "memory, edge, do, kv"],
    ["/v1/reference/options/contracts/O:AAPL261218C00200000", "options-contracts-v1", "WEEK", "memory, edge, do, kv"],
    ["/v3/reference/options/contracts/O:AAPL261218C00200000", "options-contracts", "WEEK", "memory, edge, do, kv"],
    ["/v1/reference/tickers/AAPL", "company-info-v1", "DAY", "memory, edge, do"],
    ["/v3/reference/tickers/AAPL", "company-info", "DAY", "memory, edge, do"],
    ["/v1/meta/symbols/AAPL/company", "ticker-details", "HOUR_6", "memory, edge, do"],
    ["/v1/conversion/USD/EUR?amount=100", "conversion", "MIN_15", "memory, edge, do"],
    ["/v1/aggs/ticker/AAPL/range/1/day/2023-01-01/2023-12-31", "historical-aggs", "PERMANENT", "memory, edge, do, kv"],
  ];
  for (const [path, rule, cls, tiers] of cases) {
    const r = run(explain, [path, ...at]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.rule, rule, path);
    assert.equal(out.class, cls, path);
    assert.equal(out.tiers, tiers, path);
    assert.match(out.action, /^LOOKUP/, path);
  }
  // ?nocache=true: the same entry, refreshed; the parameter is neither keyed nor forwarded.
  const nocache = JSON.parse(run(explain, ["/v1/reference/tickers/types?nocache=true", ...at]).stdout);
  assert.match(nocache.action, /^REFRESH/);
  assert.equal(nocache.class, "WEEK");
  assert.equal(nocache.rule, "ticker-types-v1");
  assert.equal(nocache.key, "https://api.financialdata.online/v1/reference/tickers/types");
  assert.equal(nocache.originTarget, "/v1/reference/tickers/types");
});

test("explain: a date outside the calendar's coverage (1990-2200) is said so, and makes nothing permanent", () => {
  const inside = JSON.parse(run(explain, ["/v1/open-close/AAPL/2024-01-31", "--at", "2026-11-23T15:00:00Z", "--json"]).stdout);
  assert.equal(inside.class, "PERMANENT");
  assert.match(inside.market.calendar, /^covered \(1990-01-01 to 2200-12-31\)/);
  assert.equal(inside.note, undefined);

  // The request's date is before the coverage: the rule's own class, with a note.
  const old = JSON.parse(run(explain, ["/v1/aggs/ticker/AAPL/range/1/day/1985-01-01/1989-12-29", "--at", "2026-11-23T15:00:00Z", "--json"]).stdout);
  assert.equal(old.class, "REALTIME");
  assert.equal(old.reason, "rule:date-outside-calendar");
  assert.match(old.note, /the request's date is outside the calendar's coverage \(1990-01-01 to 2200-12-31\)/);

  // Today is after the coverage: no past date decided, REALTIME keeps its trading TTL on a Saturday.
  for (const [path, cls] of [["/v1/open-close/AAPL/2024-01-31", "NONE"], ["/v2/last/trade/AAPL", "REALTIME"]]) {
    const r = run(explain, [path, "--at", "2201-01-03T12:00"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /calendar +outside the calendar's coverage \(1990-01-01 to 2200-12-31\)/, path);
    assert.match(r.stdout, new RegExp(`class +${cls}\n`), path);
  }
  const late = JSON.parse(run(explain, ["/v1/open-close/AAPL/2024-01-31", "--at", "2201-01-03T12:00", "--json"]).stdout);
  assert.equal(late.reason, "rule:date-outside-calendar");
  assert.match(late.note, /the market's today is outside the calendar's coverage/);
  const trade = JSON.parse(run(explain, ["/v2/last/trade/AAPL", "--at", "2201-01-03T12:00", "--json"]).stdout);
  assert.equal(trade.reason, "market:outside-calendar");
  assert.match(trade.ttl, /^15 s/);
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
