// A deadline for any I/O the shim awaits: every tier, the limiter and the control object may be slow
// or hang, and none of them may hold a request hostage. Rejects with "<what> timed out after <ms> ms".
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
