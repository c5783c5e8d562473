// Headless Chromium for the browser tests and the dashboard screenshots: Debian's `chromium` package (the
// setup script installs it), driven by the pinned `puppeteer-core`, which downloads no browser of its own.
//
// Why a missing browser is a skip only outside CI: a developer on a machine without Chromium still gets the
// rest of `npm test`, but CI (which ran the setup script) must run the browser tests, never skip them.
import { existsSync } from "node:fs";
import puppeteer from "puppeteer-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

// The browser binary: $CHROMIUM_PATH when set, else the first Debian location that exists.
export function chromiumPath() {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

// A reason to skip the browser tests, or false. In CI a missing browser is a failure, not a skip.
export function chromiumMissing() {
  const path = chromiumPath();
  if (path && existsSync(path)) return false;
  if (process.env.CI) throw new Error("Chromium is not installed (scripts/setup.sh installs Debian's chromium package); CI does not skip browser tests");
  return "Chromium is not installed: run `npm run setup` (as root) to install Debian's chromium package";
}

// Starts headless Chromium with a throwaway profile. Returns { browser, close }. Only 127.0.0.1 is reached:
// the tests' pages and the worker are local, and background networking (updates, safe browsing) is off.
export async function launchChromium({ viewport = { width: 1280, height: 800 } } = {}) {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(chromiumMissing() || "Chromium not found");
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    defaultViewport: viewport,
    args: [
      "--no-sandbox", // CI runs as root, where Chromium's sandbox cannot start
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-default-apps",
      "--disable-sync",
      "--no-first-run",
      "--metrics-recording-only",
      "--safebrowsing-disable-auto-update",
    ],
  });
  return { browser, close: () => browser.close() };
}
