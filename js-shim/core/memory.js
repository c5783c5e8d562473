// Typed access to the core's linear memory, shared by every codec (core/*_codec.js): the views, the
// fixed-offset numbers of the scratch and result regions (src/abi/abi_layout.h), and the packed strings
// and field lists. Installed as methods of the instance (core/instance.js), so a codec calls
// this.putU32(...) as it did when everything was one class: no extra call or allocation per request.
import * as ABI from "../generated/abi_layout.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const memoryAccess = {
  // Memory may grow during any call that allocates; views over a detached buffer read nothing.
  refreshViews() {
    if (this.buffer === this.memory.buffer) return;
    this.buffer = this.memory.buffer;
    this.u8 = new Uint8Array(this.buffer);
    this.u32 = new Uint32Array(this.buffer);
    this.f64 = new Float64Array(this.buffer);
    // Where every decision's target goes: one view, not a subarray per request.
    this.targetRegion = this.u8.subarray(this.scratch + ABI.kReqStrings, this.scratch + ABI.kScratchBytes);
  },

  putU32(base, off, v) { this.u32[(base + off) >>> 2] = v; },
  getU32(base, off) { return this.u32[(base + off) >>> 2]; },
  putF64(base, off, v) { this.f64[(base + off) >>> 3] = v; },
  // Length prefixes inside packed string lists are not aligned.
  putU32Unaligned(addr, v) {
    const u8 = this.u8;
    u8[addr] = v & 0xff; u8[addr + 1] = (v >>> 8) & 0xff; u8[addr + 2] = (v >>> 16) & 0xff; u8[addr + 3] = v >>> 24;
  },
  getU32Unaligned(addr) {
    const u8 = this.u8;
    return (u8[addr] | (u8[addr + 1] << 8) | (u8[addr + 2] << 16) | (u8[addr + 3] << 24)) >>> 0;
  },

  // Packs `value` at the cursor; returns the new cursor, or -1 when the scratch region is full.
  // (TextEncoder/TextDecoder beat a charCodeAt / String.fromCharCode loop in workerd even for short
  // ASCII strings: measured with the decision bench's encode/decode loops.)
  putString(cursor, value) {
    const limit = this.scratch + ABI.kScratchBytes;
    // encodeInto writes at most the room given; a string that did not fit has read < length.
    const { read, written } = encoder.encodeInto(value, this.u8.subarray(cursor, limit));
    return read < value.length ? -1 : cursor + written;
  },

  readString(offset, length) {
    return length === 0 ? "" : decoder.decode(this.u8.subarray(offset, offset + length));
  },

  // Packs [name, value] pairs at the cursor (abi_codec's field list); returns the new cursor or -1.
  putFields(cursor, fields) {
    for (let i = 0; i < fields.length; i++) {
      for (const str of fields[i]) {
        const lenAt = cursor;
        cursor = this.putString(cursor + 4, str);
        if (cursor < 0) return -1;
        this.putU32Unaligned(lenAt, cursor - lenAt - 4);
      }
    }
    return cursor;
  },

  readFields(cursor, count) {
    const out = new Array(count);
    for (let i = 0; i < count; i++) {
      const nameLength = this.getU32Unaligned(cursor);
      const name = this.readString(cursor + 4, nameLength);
      cursor += 4 + nameLength;
      const valueLength = this.getU32Unaligned(cursor);
      out[i] = [name, this.readString(cursor + 4, valueLength)];
      cursor += 4 + valueLength;
    }
    return out;
  },
};
