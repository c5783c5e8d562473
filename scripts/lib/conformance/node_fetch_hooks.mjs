// Module resolve hook (registered by observe_fetch.mjs in the suite's client): an import of
// "node-fetch" gets observed_node_fetch.mjs instead, told where the real one resolved to, so the
// suite's own code runs unchanged while its exchanges are recorded.
const wrapper = new URL("./observed_node_fetch.mjs", import.meta.url);

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (specifier !== "node-fetch" || context.parentURL?.startsWith(wrapper.href)) return resolved;
  const url = new URL(wrapper);
  url.searchParams.set("real", resolved.url);
  return { url: url.href, format: "module", shortCircuit: true };
}
