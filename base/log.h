// Logging facade. spdlog is compiled only in log.cc; callers include just <fmt/format.h>.
//
// Threading: every function may be called from any thread.
// Never log secrets (passwords, one-time passwords, keys): the log file is not private.
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

namespace lifeline::log {

enum class Level { kDebug, kInfo, kWarning, kError };

// Sends log lines to standard error and, when `file_path` is not empty, appends them to
// that file too. Call once at start-up, before other threads log; until then lines go to
// standard error only. Returns false (and keeps logging to stderr) if the file cannot be
// opened.
bool Init(const std::string& file_path, Level min_level);
void SetMinLevel(Level level);
void Flush();

void Write(Level level, std::string_view message);

template <typename... Args>
void Debug(fmt::format_string<Args...> format, Args&&... args) {
  Write(Level::kDebug, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void Info(fmt::format_string<Args...> format, Args&&... args) {
  Write(Level::kInfo, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void Warning(fmt::format_string<Args...> format, Args&&... args) {
  Write(Level::kWarning, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void Error(fmt::format_string<Args...> format, Args&&... args) {
  Write(Level::kError, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace lifeline::log
