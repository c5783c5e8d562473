// Preloaded (`node --import`) into the cache test suite's origin server, which calls
// `server.listen(port)` and so would listen on every interface. Conformance runs stay on 127.0.0.1:
// a listen() given a port and no host gets 127.0.0.1, and the suite's own code runs unchanged.
import net from "node:net";

const listen = net.Server.prototype.listen;
const isPort = (v) => typeof v === "number" || (typeof v === "string" && /^\d+$/u.test(v));

net.Server.prototype.listen = function listenOnLoopback(...args) {
  if (isPort(args[0]) && typeof args[1] !== "string") {
    return listen.call(this, Number(args[0]), "127.0.0.1", ...args.slice(1));
  }
  if (args[0] && typeof args[0] === "object" && args[0].port !== undefined && args[0].host === undefined && args[0].path === undefined) {
    return listen.call(this, { ...args[0], host: "127.0.0.1" }, ...args.slice(1));
  }
  return listen.apply(this, args);
};
