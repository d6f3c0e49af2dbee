// Token buckets keyed by a string (a source address, a target ID), for the relay's rate
// limits. Bounded: at most `max_keys` buckets; when full, buckets that have refilled
// completely are dropped first, and if none can be dropped new keys are refused (fail
// closed: a flood of distinct keys cannot grow memory).
//
// Threading: one thread (the relay's I/O thread). Time comes from the caller.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace lifeline {

class RateLimiter {
 public:
  // `rate_per_s` tokens per second, up to `burst`. rate <= 0: no limit.
  RateLimiter(double rate_per_s, double burst, size_t max_keys = 100'000)
      : rate_per_s_(rate_per_s), burst_(burst), max_keys_(max_keys) {}

  // Takes one token for `key` at `now_us`; false when the bucket is empty.
  bool Allow(const std::string& key, int64_t now_us) {
    if (rate_per_s_ <= 0)
      return true;
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
      if (buckets_.size() >= max_keys_) {
        Prune(now_us);
        if (buckets_.size() >= max_keys_)
          return false;
      }
      it = buckets_.emplace(key, Bucket{burst_, now_us}).first;
    }
    Bucket& b = it->second;
    Refill(&b, now_us);
    if (b.tokens < 1.0)
      return false;
    b.tokens -= 1.0;
    return true;
  }

  // Drops buckets that are full again (they behave like new ones).
  void Prune(int64_t now_us) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      Refill(&it->second, now_us);
      it = it->second.tokens >= burst_ ? buckets_.erase(it) : std::next(it);
    }
  }

  size_t size() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    int64_t updated_us;
  };
  void Refill(Bucket* b, int64_t now_us) const {
    if (now_us > b->updated_us) {
      b->tokens = std::min(burst_, b->tokens + (now_us - b->updated_us) * rate_per_s_ / 1e6);
      b->updated_us = now_us;
    }
  }

  const double rate_per_s_;
  const double burst_;
  const size_t max_keys_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace lifeline
