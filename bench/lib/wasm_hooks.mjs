// Node module-loader hook: `import m from "./x.wasm"` yields a compiled WebAssembly.Module, as
// workerd's CompiledWasm module rule does, so js-shim/core_bridge.js runs unchanged in Node.
export async function load(url, context, nextLoad) {
  if (url.endsWith(".wasm")) {
    return {
      format: "module",
      shortCircuit: true,
      source: `import { readFileSync } from "node:fs";\nexport default new WebAssembly.Module(readFileSync(new URL(${JSON.stringify(url)})));\n`,
    };
  }
  return nextLoad(url, context);
}
