// The imports the core's module asks for. It does no I/O of its own: the only one that does anything is
// fd_write, the C library's stderr, which becomes one JSON log line per line written.
const decoder = new TextDecoder();

// The module may be a wasi-sdk/clang reactor (imports fd_write, fd_seek, fd_close) or an Emscripten
// standalone module (also proc_exit and emscripten_notify_memory_growth). stderr goes to console.error.
export function makeImports(getMemory) {
  let pendingLine = "";
  const fdWrite = (fd, iovs, iovsLen, nwrittenPtr) => {
    const mem = new DataView(getMemory().buffer);
    let written = 0;
    for (let i = 0; i < iovsLen; i++) {
      const ptr = mem.getUint32(iovs + i * 8, true);
      const len = mem.getUint32(iovs + i * 8 + 4, true);
      pendingLine += decoder.decode(new Uint8Array(getMemory().buffer, ptr, len));
      written += len;
    }
    let nl;
    while ((nl = pendingLine.indexOf("\n")) >= 0) {
      console.error(JSON.stringify({ level: "error", event: "core_stderr", fd, message: pendingLine.slice(0, nl) }));
      pendingLine = pendingLine.slice(nl + 1);
    }
    mem.setUint32(nwrittenPtr, written, true); // musl's stdio loops if nwritten is not set
    return 0;
  };
  const ENOSYS = 52;
  const wasi = {
    fd_write: fdWrite,
    fd_seek: () => ENOSYS,
    fd_close: () => ENOSYS,
    fd_fdstat_get: () => ENOSYS,
    proc_exit: (code) => { throw new WebAssembly.RuntimeError(`core called proc_exit(${code})`); },
  };
  return {
    wasi_snapshot_preview1: wasi,
    env: { emscripten_notify_memory_growth: () => {} },
  };
}
