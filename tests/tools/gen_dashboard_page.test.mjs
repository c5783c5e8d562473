// scripts/gen-dashboard-page.mjs: the build step that bundles the dashboard page with its Content-Security-Policy.
// The hashes must be those of the page's own inline style and script, and a page the CSP could not serve as written
// (inline handlers, style attributes, a second or an external script) or one over 50 KB must fail the build.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MAX_PAGE_BYTES, buildDashboardPage } from "../../scripts/gen-dashboard-page.mjs";

const root = join(import.meta.dirname, "../..");
const hash = (text) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
const page = (body, { style = "p{color:red}", script = "console.log(1)" } = {}) =>
  `<!doctype html><html><head><style>${style}</style></head><body>${body}<script>${script}</script></body></html>`;

test("the CSP allows exactly the page's inline style and script, by hash, and nothing from elsewhere", () => {
  const { csp, bytes } = buildDashboardPage(page("<p>hi</p>", { style: "b{x:1}", script: "let a = 1;" }));
  assert.ok(bytes > 0);
  assert.match(csp, /^default-src 'none'; /);
  assert.ok(csp.includes(`script-src ${hash("let a = 1;")};`), csp);
  assert.ok(csp.includes(`style-src ${hash("b{x:1}")};`), csp);
  for (const d of ["connect-src 'self'", "img-src 'none'", "font-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"]) {
    assert.ok(csp.includes(d), d);
  }
  assert.doesNotMatch(csp, /unsafe/);
});

test("pages the CSP could not serve as written, or over 50 KB, fail the build", () => {
  const cases = [
    ["an inline handler", page('<button onclick="go()">x</button>'), /no inline event handlers/],
    ["a style attribute", page('<p style="color:red">x</p>'), /no style attributes/],
    ["two scripts", page("<script>a()</script>"), /exactly one inline <script>/],
    ["no style", "<html><body><script>x</script></body></html>", /exactly one inline <style>/],
    ["an external script", page("").replace("<script>", '<script src="https://cdn.example/x.js">'), /must be inline/],
    ["too large", page(`<p>${"x".repeat(MAX_PAGE_BYTES)}</p>`), /more than 51200/],
  ];
  for (const [label, html, message] of cases) assert.throws(() => buildDashboardPage(html), message, label);
});

test("the shipped page passes, under 50 KB", () => {
  const { bytes } = buildDashboardPage(readFileSync(join(root, "js-shim/dashboard/page.html"), "utf8"));
  assert.ok(bytes < MAX_PAGE_BYTES, `${bytes} bytes`);
});
