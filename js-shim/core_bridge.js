// The Wasm bridge: everything the shim calls the C++ core through. The core decides; this moves the facts
// in and the answers out, in the binary layout of src/abi/abi_layout.h (constants generated into
// ./generated/abi_layout.js). Importers use this module; the work is done in js-shim/core/, one concern a file:
//   core/instance.js            the one instance per isolate: instantiate, configure from env (core/config.js),
//                               guard every export against traps, re-instantiate after one (getCore, withCore)
//   core/memory.js              typed access to the module's scratch and result regions, strings, field lists
//   core/request_codec.js       the request decision: which headers cross (and how), facts in, decision out
//   core/response_codec.js      the store verdict for an origin response, interim responses, 304 merges
//   core/entry_codec.js         entry freshness (every hit) and the stored envelope (encode, decode)
//   core/key_codec.js           a key's shard and cache tag, a client address's spelling
//   core/invalidation_codec.js  the purges an unsafe request's outcome calls for
//   core/upstream_codec.js      upstream quotas and upstream error answers
//   core/wasi_imports.js        the imports the module needs (its stderr becomes log lines)
// The JWT check's encoding is jwt_bridge.js. A codec's methods are the instance's own (core.decideRequest(...)),
// so splitting the files added no call or allocation on the serving path.
import * as ABI from "./generated/abi_layout.js";

export { getCore, withCore, coreStats, isCoreTrap, _injectTrapForTests, _dropCoreForTests } from "./core/instance.js";
export { CoreError } from "./core/errors.js";
export { METHOD_CODES } from "./core/request_codec.js";
export { ABI };
