// Short string-in, string-out questions to the core: a key's Durable Object shard and Workers Cache tag
// (src/cache_key.h), and a client address in its one spelling (src/client_address.h).
import { CoreError } from "./errors.js";

export const keyCodec = {
  // The Durable Object shard of a key (src/cache_key.h): asked only by requests that reach that tier.
  shardForKey(key) {
    this.refreshViews();
    const end = this.putString(this.scratch, key);
    if (end < 0) throw new CoreError("key larger than the scratch region");
    return this.exports.ec_shard_for_key(end - this.scratch);
  },

  // The purge tag naming one key in Workers Cache (src/cache_key.h keyTag).
  keyTag(key) {
    this.refreshViews();
    const end = this.putString(this.scratch, key);
    if (end < 0) return null;
    return this.readString(this.result, this.exports.ec_key_tag(end - this.scratch));
  },

  // A client address in one spelling (src/client_address.h), or null when it is no IP address.
  canonicalIp(text) {
    this.refreshViews();
    const end = this.putString(this.scratch, text);
    if (end < 0) return null;
    const length = this.exports.ec_canonical_ip(end - this.scratch);
    return length === 0 ? null : this.readString(this.result, length);
  },
};
