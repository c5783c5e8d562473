// Miniflare 5 options from the Miniflare 4 shape that the tests' harness and the bench write (and that
// wrangler's unstable_getMiniflareWorkerOptions still returns). Miniflare 5's own
// convertV4MiniflareOptions does the conversion, except for what it refuses or dropped:
//   - `modules: true` + `modulesRules`: v5 loads only the modules it is given, so the module graph of
//     `scriptPath` (its relative imports, .js/.mjs as ES modules, .wasm as compiled Wasm) is listed here;
//   - `handleRuntimeStdio(stdout, stderr)`: v5 hands workerd's output over as structured log lines
//     ({level, message}); they are fed into two streams, one line per message, so callers read the
//     worker's console as before;
//   - per-plugin `*Persist` paths: v5 keeps all local state under one `resourcePersistencePath`.
import { existsSync, readFileSync } from "node:fs";
import { dirname, extname, relative, resolve, sep } from "node:path";
import { PassThrough } from "node:stream";
import { convertV4MiniflareOptions } from "miniflare";

const MODULE_TYPES = { ".js": "ESModule", ".mjs": "ESModule", ".wasm": "CompiledWasm" };
// Relative specifiers of static imports/re-exports (`import x from "./a.js"`, `export * from "../b.js"`,
// `import "./c.js"`) and of dynamic `import("./d.js")`.
const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g;

// [{type, path}] for scriptPath and every module it reaches through relative imports, main module
// first. Every module must lie inside modulesRoot (as with v4's modulesRoot).
export function moduleGraph(scriptPath, modulesRoot) {
  const main = resolve(scriptPath);
  const seen = new Set();
  const modules = [];
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const type = MODULE_TYPES[extname(file)];
    if (!type) throw new Error(`${file}: no module type for its extension (known: ${Object.keys(MODULE_TYPES).join(" ")})`);
    const rel = relative(resolve(modulesRoot), file);
    if (rel.startsWith(`..${sep}`) || rel === "..") throw new Error(`${file} is outside modulesRoot ${modulesRoot}`);
    modules.push({ type, path: file });
    if (type !== "ESModule") return;
    const source = readFileSync(file, "utf8");
    for (const [, specifier] of source.matchAll(RELATIVE_IMPORT)) {
      const target = resolve(dirname(file), specifier);
      // A specifier in a comment may name nothing; workerd reports a real missing import itself.
      if (existsSync(target)) visit(target);
    }
  };
  visit(main);
  return modules;
}

function structuredLogsToStdio(handleRuntimeStdio) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  handleRuntimeStdio(stdout, stderr);
  return (log) => (log.level === "error" || log.level === "warn" ? stderr : stdout).write(`${log.message}\n`);
}

// options: Miniflare 4 single-worker options with `modules: true`, `scriptPath`, `modulesRoot`, plus
//   persistDir: root of all local state (KV, Durable Objects, Cache) that outlives the instance
//   handleRuntimeStdio(stdout, stderr): see above
export function miniflare5Options({ persistDir, handleRuntimeStdio, modulesRules, modules, ...v4 }) {
  if (modules !== true || !v4.scriptPath) throw new Error("miniflare5Options: expects modules: true and a scriptPath");
  return convertV4MiniflareOptions({
    ...v4,
    modules: moduleGraph(v4.scriptPath, v4.modulesRoot || dirname(v4.scriptPath)),
    ...(handleRuntimeStdio ? { handleStructuredLogs: structuredLogsToStdio(handleRuntimeStdio) } : {}),
    ...(persistDir ? { resourcePersistencePath: persistDir } : {}),
  });
}
