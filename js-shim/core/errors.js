// A core that cannot be used (ABI version mismatch, invalid embedded rules) or a request it cannot take
// (a key larger than the scratch region). Not a trap: traps are WebAssembly.RuntimeError (isCoreTrap).
export class CoreError extends Error {}
