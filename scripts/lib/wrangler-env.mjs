// The environment of every wrangler run that `npm run dev` and the tests start: nothing may leave
// 127.0.0.1. Each variable stops a request that wrangler 4.164.0 makes at start otherwise (seen with
// `strace -f -e trace=connect,sendto,sendmmsg` on `wrangler dev`; tests/integration/offline.test.mjs
// checks it stays so):
export const OFFLINE_WRANGLER_ENV = Object.freeze({
  // Miniflare downloads https://workers.cloudflare.com/cf.json for request.cf (offline: an ENOTFOUND
  // stack trace in the output); the placeholder object is used instead.
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  // Usage metrics to sparrow.cloudflare.com: sent at start even with `send_metrics = false` in the
  // config, which wrangler has not read yet at that point. DO_NOT_TRACK is the generic switch it also honours.
  WRANGLER_SEND_METRICS: "false",
  DO_NOT_TRACK: "1",
  // The banner ("⛅️ wrangler 4.164.0") comes with an update check against the npm registry.
  WRANGLER_HIDE_BANNER: "true",
  // Not seen at start, switched off so that no later path makes them: crash reports (off by default)
  // and the update check of installed coding-agent "skills" (GitHub).
  WRANGLER_SEND_ERROR_REPORTS: "false",
  WRANGLER_NO_SKILLS_UPDATE_PROMPTS: "true",
});

// The full environment for a wrangler child: the caller's, the offline switches, and wrangler's
// own files (config, logs) under `home` instead of the user's home directory.
export function wranglerEnv(home, extra = {}) {
  return {
    ...process.env,
    ...OFFLINE_WRANGLER_ENV,
    XDG_CONFIG_HOME: home,
    WRANGLER_LOG_PATH: `${home}/logs`,
    ...extra,
  };
}
