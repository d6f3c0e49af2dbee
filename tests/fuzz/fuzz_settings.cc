// Fuzz target: the settings parser must turn any text into settings or a clear error.
#include <string>
#include <string_view>

#include "app/core/settings.h"
#include "tests/fuzz/fuzz_seeds.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto settings =
      lifeline::ParseSettings(std::string_view(reinterpret_cast<const char*>(data), size));
  if (settings.ok()) {
    // Whatever parses must survive a round trip.
    auto again = lifeline::ParseSettings(lifeline::SerializeSettings(*settings));
    if (!again.ok())
      __builtin_trap();
  }
  return 0;
}

namespace lifeline::fuzz {
std::vector<std::vector<uint8_t>> Seeds() {
  const std::string text =
      "[host]\nlisten = \"127.0.0.1:7070\"\nsource = \"synthetic\"\ncodec = \"vp9\"\n"
      "max_fps = 30\nbitrate_kbps = 4000\nmax_frames_in_flight = 2\n[log]\nlevel = \"info\"\n"
      "[remote_service]\nenabled = true\norganisation_id = \"ORG\"\nverification_code = \"v\"\n"
      "[remote_service.proxy]\nmode = \"manual\"\nhost = \"proxy.corp\"\nport = 3128\n"
      "authentication = true\nuser = \"alice\"\ndomain = \"CORP\"\n"
      "[remote_service.service_account]\nkind = \"other\"\nuser = \"svc\"\n"
      "[ui]\nlanguage = \"it\"\n";
  return {std::vector<uint8_t>(text.begin(), text.end())};
}
}  // namespace lifeline::fuzz
