// Fuzz target: the decrypted secrets-file payload must decode or fail cleanly, and what
// decodes must encode back to the same bytes.
#include <string>

#include "app/core/secret_store.h"
#include "tests/fuzz/fuzz_seeds.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto entries = lifeline::DecodeSecretEntries(data, size);
  if (entries.ok()) {
    // Keys are unique and sorted in the map; re-encoding must decode to the same map.
    auto bytes = lifeline::EncodeSecretEntries(*entries);
    auto again = lifeline::DecodeSecretEntries(bytes.data(), bytes.size());
    if (!again.ok() || *again != *entries)
      __builtin_trap();
  }
  return 0;
}

namespace lifeline::fuzz {
std::vector<std::vector<uint8_t>> Seeds() {
  return {EncodeSecretEntries({{"remote_service.proxy.password", "secret"},
                               {"remote_service.service_account.password", ""}})};
}
}  // namespace lifeline::fuzz
