import { DurableObject } from "cloudflare:workers";
export class Empty extends DurableObject { async hit() { return 1; } }
export class Table extends DurableObject {
  constructor(ctx, env) { super(ctx, env); this.sql = ctx.storage.sql; }
  async hit() { this.sql.exec("CREATE TABLE IF NOT EXISTS w (k TEXT PRIMARY KEY, c INTEGER)"); this.sql.exec("INSERT OR REPLACE INTO w VALUES ('a', 1)"); return 1; }
}
export class TableAlarm extends Table {
  async hit() { await super.hit(); await this.ctx.storage.setAlarm(Date.now() + 3600_000); return 1; }
}
export class Bcw extends DurableObject {
  constructor(ctx, env) { super(ctx, env); this.sql = ctx.storage.sql; ctx.blockConcurrencyWhile(async () => { this.sql.exec("CREATE TABLE IF NOT EXISTS w (k TEXT PRIMARY KEY, c INTEGER)"); this.a = await ctx.storage.getAlarm(); }); }
  async hit() { this.sql.exec("INSERT OR REPLACE INTO w VALUES ('a', 1)"); return 1; }
}
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const cls = url.searchParams.get("class"); const n = Number(url.searchParams.get("n")); const tag = url.searchParams.get("tag");
    const t0 = performance.now();
    for (let i = 0; i < n; i++) { const ns = env[cls]; await ns.get(ns.idFromName(`${tag}-${i}`)).hit(); }
    return Response.json({ ms: (performance.now() - t0) / n });
  },
};
