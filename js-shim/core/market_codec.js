// The NYSE calendar's answer for an instant (src/market_calendar.h marketStateAt), asked by the operator's
// dashboard (dashboard_routes.js). The core reads no clock: the instant is passed in.
import * as ABI from "../generated/abi_layout.js";

export const marketCodec = {
  // Instants are Unix ms; 0 where the field does not apply (closed: no current close).
  marketState(nowMs) {
    this.refreshViews();
    this.putF64(this.scratch, ABI.kMktNowMs, nowMs);
    const session = this.exports.ec_market_state();
    const r = this.result;
    const date = this.getU32(r, ABI.kMktMarketDate);
    const pad = (n, w) => String(n).padStart(w, "0");
    return {
      session: this.report?.sessions?.[session] || `session ${session}`,
      marketDate: `${pad(Math.floor(date / 10000), 4)}-${pad(Math.floor(date / 100) % 100, 2)}-${pad(date % 100, 2)}`,
      regularOpen: this.getU32(r, ABI.kMktRegularOpen) === 1,
      extendedOpen: this.getU32(r, ABI.kMktExtendedOpen) === 1,
      covered: this.getU32(r, ABI.kMktCovered) === 1,
      nextRegularOpenMs: this.getF64(r, ABI.kMktNextRegularOpenMs),
      nextExtendedOpenMs: this.getF64(r, ABI.kMktNextExtendedOpenMs),
      regularCloseMs: this.getF64(r, ABI.kMktRegularCloseMs),
      currentCloseMs: this.getF64(r, ABI.kMktCurrentCloseMs),
    };
  },
};
