#pragma once
// Whether a stored entry may answer the current request (RFC 9111 §4.2 plus RFC 5861's stale windows).
#include <cstdint>

#include "abi/abi_layout.h"
#include "decision_reason.h"

namespace edge_cache {

struct EntryFacts {
  int64_t nowMs = 0;
  int64_t storedAtMs = 0;
  uint32_t ttlS = 0, staleWhileRevalidateS = 0, staleIfErrorS = 0;
  uint32_t initialAgeS = 0;  // the entry's corrected initial age (response_age.h)
  uint32_t staleIfUnreachableS = 0;  // stale window when the origin cannot be reached (RFC 9111 §4.2.4)
  uint32_t decisionFlags = 0;
  // The current decision's TTL: when the rules now give a shorter lifetime than the entry was stored
  // with (rules changed, or a market-aware class is trading again), the shorter one wins.
  uint32_t currentTtlS = abi::kNone;
};

struct Evaluation {
  abi::Freshness freshness = abi::Freshness::Expired;
  Reason reason = Reason::EntryExpired;
  // The Age to serve (RFC 9111 §4.2.3): the initial age plus the time resident in the cache. Freshness counts
  // residence only: the stored TTL already had the initial age taken off (response_policy.h).
  uint32_t ageS = 0;
  uint32_t remainingS = 0;
  uint32_t staleS = 0;  // how long past its freshness the entry is (0 while fresh)
};

Evaluation evaluateEntry(const EntryFacts& facts);

}  // namespace edge_cache
