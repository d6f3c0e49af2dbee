// Fuzz target: proxy URL parsing (--proxy, libproxy answers) and redaction. Any bytes give
// an endpoint or a clear error; nothing printed keeps the userinfo of a URL.
#include <string>
#include <string_view>
#include <vector>

#include "net/proxy/proxy_url.h"
#include "tests/fuzz/fuzz_seeds.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string redacted = lifeline::RedactProxyUrl(text);
  auto endpoint = lifeline::ParseProxyUrl(text);
  if (endpoint.ok()) {
    // A parsed endpoint prints without credentials and parses back to itself.
    const std::string shown = endpoint->ToString();
    auto again = lifeline::ParseProxyUrl(shown);
    if (!again.ok() || again->ToString() != shown || again->has_credentials)
      __builtin_trap();
    // No userinfo in what is printed (a host never contains '@').
    if (shown.find('@') != std::string::npos || endpoint->Describe().find('@') != std::string::npos)
      __builtin_trap();
  }
  // Redaction keeps no userinfo: the authority holds no '@' but the "***@" it puts in.
  // Printable() shows at most 200 bytes of the scheme part; when the first "://" lies beyond
  // that, the shown text ends before the authority (nothing of it is shown) and a later
  // "://" would be mistaken for the scheme's, so the check applies only below that cut.
  const size_t scheme_end = text.find("://");
  if (scheme_end == std::string::npos || scheme_end + 3 <= 200) {
    size_t begin = redacted.find("://");
    begin = begin == std::string::npos ? 0 : begin + 3;
    if (redacted.compare(begin, 4, "***@") == 0)
      begin += 4;
    const size_t end = redacted.find('/', begin);
    if (redacted.substr(begin, end == std::string::npos ? std::string::npos : end - begin)
            .find('@') != std::string::npos) {
      __builtin_trap();
    }
  }
  // Splitting a libproxy answer list never fails.
  std::vector<std::string> list;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ' ') {
      list.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  const lifeline::ProxyList parsed = lifeline::ParseProxyList(list);
  if (parsed.endpoints.size() + parsed.skipped.size() != list.size())
    __builtin_trap();
  return 0;
}

namespace lifeline::fuzz {
std::vector<std::vector<uint8_t>> Seeds() {
  std::vector<std::vector<uint8_t>> seeds;
  for (const std::string text :
       {"http://alice:s3cret@127.0.0.1:3128", "socks5://[::1]:1080/", "direct://",
        "https://CORP%5Calice:p%40ss@proxy.example:8443", "socks5h://h",
        "http://127.0.0.1:3132 socks5://127.0.0.1:1080 direct://", "pac+http://127.0.0.1/p.pac"}) {
    seeds.emplace_back(text.begin(), text.end());
  }
  return seeds;
}
}  // namespace lifeline::fuzz
