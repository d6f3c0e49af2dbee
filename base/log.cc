#include "base/log.h"

#include <memory>
#include <mutex>
#include <vector>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace lifeline::log {
namespace {

spdlog::level::level_enum ToSpd(Level level) {
  switch (level) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarning:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::shared_ptr<spdlog::logger> MakeStderrLogger() {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("lifeline", sink);
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e [%l] %v");
  logger->set_level(spdlog::level::info);
  return logger;
}

std::mutex g_mutex;
std::shared_ptr<spdlog::logger> g_logger;  // Guarded by g_mutex.

std::shared_ptr<spdlog::logger> Logger() {
  std::lock_guard lock(g_mutex);
  if (!g_logger)
    g_logger = MakeStderrLogger();
  return g_logger;
}

}  // namespace

bool Init(const std::string& file_path, Level min_level) {
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  bool file_ok = true;
  if (!file_path.empty()) {
    try {
      sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(file_path));
    } catch (const spdlog::spdlog_ex&) {
      file_ok = false;
    }
  }
  auto logger = std::make_shared<spdlog::logger>("lifeline", sinks.begin(), sinks.end());
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e [%l] [%t] %v");
  logger->set_level(ToSpd(min_level));
  logger->flush_on(spdlog::level::info);
  {
    std::lock_guard lock(g_mutex);
    g_logger = std::move(logger);
  }
  if (!file_ok)
    Warning("could not open log file {}; logging to standard error only", file_path);
  return file_ok;
}

void SetMinLevel(Level level) {
  Logger()->set_level(ToSpd(level));
}

void Flush() {
  Logger()->flush();
}

void Write(Level level, std::string_view message) {
  try {
    Logger()->log(ToSpd(level), "{}", message);
  } catch (...) {
    // Logging must never take the program down.
  }
}

}  // namespace lifeline::log
