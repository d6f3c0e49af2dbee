// The X11 clipboard against a real Xvfb and another X client that copies and pastes.
#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "capture/clipboard.h"
#include "tests/support/x11_clipboard_peer.h"
#include "tests/support/xvfb.h"

namespace lifeline {
namespace {

using testing::ReadX11Clipboard;
using testing::X11ClipboardOwner;
using testing::Xvfb;

class Changes {
 public:
  void Add(const std::string& text) {
    std::lock_guard lock(mutex_);
    texts_.push_back(text);
    cv_.notify_all();
  }
  std::vector<std::string> WaitFor(size_t count, int timeout_ms) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                 [&] { return texts_.size() >= count; });
    return texts_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> texts_;
};

std::unique_ptr<Clipboard> Start(const Xvfb& xvfb, Changes* changes, size_t max_bytes = 4096) {
  auto clipboard = CreateX11Clipboard(xvfb.display(), max_bytes);
  REQUIRE(clipboard.ok());
  REQUIRE((*clipboard)->Start([changes](const std::string& text) { changes->Add(text); }).ok());
  return std::move(clipboard).value();
}

TEST_CASE("X11 clipboard: text another application copies is reported",
          "[capture][clipboard][display]") {
  Xvfb xvfb(320, 240);
  Changes changes;
  auto clipboard = Start(xvfb, &changes);
  {
    X11ClipboardOwner other(xvfb.display(), "ssh admin@example.org \xe2\x82\xac");
    CHECK(changes.WaitFor(1, 5000) ==
          std::vector<std::string>{"ssh admin@example.org \xe2\x82\xac"});
  }
  X11ClipboardOwner second(xvfb.display(), "second copy");
  CHECK(changes.WaitFor(2, 5000).back() == "second copy");
}

TEST_CASE("X11 clipboard: text we set is what other applications paste",
          "[capture][clipboard][display]") {
  Xvfb xvfb(320, 240);
  Changes changes;
  auto clipboard = Start(xvfb, &changes);
  REQUIRE(clipboard->SetText("from the viewer\nline 2").ok());
  std::optional<std::string> pasted;
  for (int i = 0; i < 50 && pasted != "from the viewer\nline 2"; ++i) {
    pasted = ReadX11Clipboard(xvfb.display(), 1000);
    if (pasted != "from the viewer\nline 2")
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(pasted == "from the viewer\nline 2");
  // Our own text is not reported back as a change.
  CHECK(changes.WaitFor(1, 300).empty());
  CHECK(clipboard->SetText(std::string(5000, 'x')).code() == ErrorCode::kClipboardTooLarge);
  CHECK(clipboard->SetText("\xff").code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("X11 clipboard: copies over the size cap are not reported",
          "[capture][clipboard][display]") {
  Xvfb xvfb(320, 240);
  Changes changes;
  auto clipboard = Start(xvfb, &changes, 1000);
  {
    X11ClipboardOwner big(xvfb.display(), std::string(1001, 'b'));
    CHECK(changes.WaitFor(1, 1000).empty());
  }
  X11ClipboardOwner small(xvfb.display(), std::string(1000, 's'));
  CHECK(changes.WaitFor(1, 5000) == std::vector<std::string>{std::string(1000, 's')});
}

}  // namespace
}  // namespace lifeline
