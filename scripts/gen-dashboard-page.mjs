// Generates js-shim/generated/dashboard_page.js from js-shim/dashboard/page.html, the operator's dashboard: the page
// as one string, and the Content-Security-Policy that allows exactly its one inline <style> and one inline <script>
// (by their SHA-256, computed here, so an edit to the page can never leave a stale hash behind) and nothing else:
// no other script or style, no fetch but to the worker itself, no images, fonts, frames or form submissions.
// Run by scripts/build.mjs, like gen-abi-js.mjs, so `wrangler dev`, the tests and a deploy all bundle the page.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pagePath = join(root, "js-shim/dashboard/page.html");
const outPath = join(root, "js-shim/generated/dashboard_page.js");
// The bound for the page, checked here so an oversized page fails the build, not only a test.
export const MAX_PAGE_BYTES = 50 * 1024;

function onlyElement(html, tag) {
  const found = [...html.matchAll(new RegExp(`<${tag}(\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, "g"))];
  if (found.length !== 1) throw new Error(`dashboard page: expected exactly one inline <${tag}>, found ${found.length}`);
  if (found[0][1] && /\ssrc=/.test(found[0][1])) throw new Error(`dashboard page: the <${tag}> must be inline`);
  return found[0][2];
}

const sha256 = (text) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

export function buildDashboardPage(html) {
  const style = onlyElement(html, "style");
  const script = onlyElement(html, "script");
  // Attributes that would need 'unsafe-inline' or 'unsafe-hashes' (inline handlers, style attributes) are refused.
  if (/\son[a-z]+\s*=/i.test(html.replace(/<script[\s\S]*?<\/script>/, ""))) throw new Error("dashboard page: no inline event handlers");
  if (/\sstyle\s*=/i.test(html.replace(/<script[\s\S]*?<\/script>/, ""))) throw new Error("dashboard page: no style attributes");
  const bytes = Buffer.byteLength(html, "utf8");
  if (bytes > MAX_PAGE_BYTES) throw new Error(`dashboard page: ${bytes} bytes, more than ${MAX_PAGE_BYTES}`);
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(style)}`,
    "connect-src 'self'",
    "img-src 'none'",
    "font-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return { html, csp, bytes };
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const { html, csp, bytes } = buildDashboardPage(readFileSync(pagePath, "utf8"));
  const body = `// Generated from js-shim/dashboard/page.html by scripts/gen-dashboard-page.mjs. Do not edit.
export const DASHBOARD_HTML = ${JSON.stringify(html)};
export const DASHBOARD_CSP = ${JSON.stringify(csp)};
export const DASHBOARD_BYTES = ${bytes};
`;
  mkdirSync(dirname(outPath), { recursive: true });
  if (!existsSync(outPath) || readFileSync(outPath, "utf8") !== body) writeFileSync(outPath, body);
}
