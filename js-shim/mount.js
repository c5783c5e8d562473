// MOUNT_PATH in the shim. The core decides what lies under the mount and strips it (src/mount_path.h); this module
// words the core's mount rejections, lists the mount's problems for /health, gives the prefix to requests the
// worker builds itself (the cron's warm list), and answers for the mount while the core is unavailable.
import { lastLoopStopped, selfFetchProblem } from "./loop_guard.js";

// "/cache", or "" when the worker owns the whole host. `report`: the core's configure report.
export function mountPrefix(report) {
  const path = report?.mount?.path;
  return path && path !== "/" ? path : "";
}

export function mountRejectionMessage(report, reason) {
  if (reason === "mount:outside-prefix") {
    return `request rejected: mount:outside-prefix (this worker answers ${report.mount.path} and the paths below it; the rest of this host is the origin's)`;
  }
  if (reason === "mount:invalid") {
    return `request rejected: mount:invalid (${report.mount.problem}): the worker serves nothing but its own endpoints until it is fixed`;
  }
  return null;
}

// The problems /health lists for the mount: a refused MOUNT_PATH, a BACKEND_URL under the mount on this host, and a
// loop this isolate stopped.
export function mountHealthProblems(report, cfg, requestUrl) {
  const problems = [];
  if (report?.mount?.problem) problems.push(`${report.mount.problem}: requests are refused`);
  const selfFetch = selfFetchProblem(report, cfg, requestUrl);
  if (selfFetch) problems.push(`${selfFetch}: requests are refused`);
  const loop = lastLoopStopped();
  if (loop) problems.push(`an origin fetch came back to this worker at ${loop} (BACKEND_URL leads to the worker itself)`);
  return problems;
}

// Without the core the worker cannot tell what lies under MOUNT_PATH (the core validates and normalises it), so it
// does not proxy at all: "health" is answered at the mount as written, anything else gets a 503.
// Returns "health", "refuse", or null when no mount is configured (the plain proxy may run).
export function unmountedAnswer(cfg, pathname) {
  const mount = cfg.mountPath.replace(/\/+$/, "");
  if (!mount) return null;
  return pathname === `${mount}/health` ? "health" : "refuse";
}
