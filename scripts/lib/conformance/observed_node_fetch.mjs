// Stands in for node-fetch in the suite's client (see node_fetch_hooks.mjs): the real module, loaded
// from where the suite would have loaded it, with its fetch function wrapped by observe_fetch.mjs and
// everything else (Headers, Request, Response, FetchError) passed through.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { observed } from "./observe_fetch.mjs";

const realUrl = new URL(import.meta.url).searchParams.get("real");
const real = createRequire(import.meta.url)(fileURLToPath(realUrl));
const fetch = Object.assign(observed(real), real);
fetch.default = fetch;

export default fetch;
export const { Headers, Request, Response, FetchError } = real;
