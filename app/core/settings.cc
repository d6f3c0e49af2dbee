#include "app/core/settings.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "net/tcp.h"

namespace lifeline {
namespace {

Error FieldError(std::string_view field, std::string_view what) {
  return Error{ErrorCode::kSettingsInvalid, std::string(field) + ": " + std::string(what)};
}

// Reads an optional string at `table.key`; type mismatches are errors.
Status ReadString(const toml::table& table,
                  std::string_view section,
                  std::string_view key,
                  std::string* out) {
  const toml::node* node = table.get(key);
  if (!node)
    return Status::Ok();
  const auto* value = node->as_string();
  if (!value) {
    return FieldError(std::string(section) + "." + std::string(key), "must be a string");
  }
  *out = value->get();
  return Status::Ok();
}

Status ReadInt(const toml::table& table, std::string_view section, std::string_view key, int* out) {
  const toml::node* node = table.get(key);
  if (!node)
    return Status::Ok();
  const auto* value = node->as_integer();
  const std::string field = std::string(section) + "." + std::string(key);
  if (!value)
    return FieldError(field, "must be a whole number");
  const int64_t v = value->get();
  if (v < -1'000'000'000 || v > 1'000'000'000)
    return FieldError(field, "is out of range");
  *out = static_cast<int>(v);
  return Status::Ok();
}

Status CheckRange(std::string_view field, int value, int min, int max) {
  if (value < min || value > max) {
    return FieldError(field, "must be between " + std::to_string(min) + " and " +
                                 std::to_string(max) + ", got " + std::to_string(value));
  }
  return Status::Ok();
}

std::string_view SourceName(CaptureSource source) {
  return source == CaptureSource::kSynthetic ? "synthetic" : "x11";
}

}  // namespace

Status ValidateSettings(const Settings& s) {
  auto listen = ParseListenAddress(s.host.listen);
  if (!listen.ok())
    return FieldError("host.listen", listen.error().message);
  if (Status st = CheckRange("host.max_fps", s.host.max_fps, 1, 120); !st.ok())
    return st;
  if (Status st = CheckRange("host.bitrate_kbps", s.host.bitrate_kbps, 100, 100000); !st.ok()) {
    return st;
  }
  if (Status st = CheckRange("host.max_frames_in_flight", s.host.max_frames_in_flight, 1, 8);
      !st.ok()) {
    return st;
  }
  if (s.log.level != "debug" && s.log.level != "info" && s.log.level != "warning" &&
      s.log.level != "error") {
    return FieldError("log.level",
                      "must be debug, info, warning or error, got \"" + s.log.level + "\"");
  }
  return Status::Ok();
}

Expected<Settings> ParseSettings(std::string_view toml_text) {
  Settings settings;
  toml::table root;
  try {
    root = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Error{ErrorCode::kSettingsInvalid, "line " + std::to_string(where.line) + ", column " +
                                                  std::to_string(where.column) + ": " +
                                                  std::string(e.description())};
  } catch (const std::exception& e) {
    return Error{ErrorCode::kSettingsInvalid, e.what()};
  }

  if (const toml::node* node = root.get("host")) {
    const toml::table* host = node->as_table();
    if (!host)
      return FieldError("host", "must be a table ([host])");
    std::string source_text(SourceName(settings.host.source));
    std::string codec_text(ToString(settings.host.codec));
    for (Status st :
         {ReadString(*host, "host", "listen", &settings.host.listen),
          ReadString(*host, "host", "source", &source_text),
          ReadString(*host, "host", "display", &settings.host.display),
          ReadString(*host, "host", "codec", &codec_text),
          ReadInt(*host, "host", "max_fps", &settings.host.max_fps),
          ReadInt(*host, "host", "bitrate_kbps", &settings.host.bitrate_kbps),
          ReadInt(*host, "host", "max_frames_in_flight", &settings.host.max_frames_in_flight)}) {
      if (!st.ok())
        return st.error();
    }
    auto source = ParseCaptureSource(source_text);
    if (!source.ok())
      return FieldError("host.source", source.error().message);
    settings.host.source = *source;
    auto codec = ParseVideoCodec(codec_text);
    if (!codec.ok())
      return FieldError("host.codec", codec.error().message);
    settings.host.codec = *codec;
  }
  if (const toml::node* node = root.get("log")) {
    const toml::table* log = node->as_table();
    if (!log)
      return FieldError("log", "must be a table ([log])");
    if (Status st = ReadString(*log, "log", "level", &settings.log.level); !st.ok()) {
      return st.error();
    }
  }
  if (Status st = ParseRemoteServiceToml(toml_text, &settings.remote_service); !st.ok())
    return st.error();
  if (Status st = ValidateSettings(settings); !st.ok())
    return st.error();
  return settings;
}

Expected<Settings> LoadSettings(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT)
      return Settings{};
    return Error{ErrorCode::kSettingsIo,
                 "cannot read settings file " + path + ": " + std::strerror(errno)};
  }
  // Settings files are small; refuse anything absurd before reading it all.
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  if (size > 1024 * 1024) {
    return Error{ErrorCode::kSettingsInvalid, "settings file " + path + " is larger than 1 MiB"};
  }
  in.seekg(0);
  std::ostringstream text;
  text << in.rdbuf();
  auto parsed = ParseSettings(text.str());
  if (!parsed.ok()) {
    return Error{parsed.error().code, "settings file " + path + ": " + parsed.error().message};
  }
  return parsed;
}

std::string SerializeSettings(const Settings& s) {
  toml::table host{{"listen", s.host.listen},
                   {"source", std::string(SourceName(s.host.source))},
                   {"display", s.host.display},
                   {"codec", std::string(ToString(s.host.codec))},
                   {"max_fps", s.host.max_fps},
                   {"bitrate_kbps", s.host.bitrate_kbps},
                   {"max_frames_in_flight", s.host.max_frames_in_flight}};
  toml::table log{{"level", s.log.level}};
  toml::table root{{"host", host}, {"log", log}};
  std::ostringstream out;
  out << "# Lifeline settings. Unknown keys are ignored.\n"
      << root << "\n\n"
      << SerializeRemoteServiceToml(s.remote_service);
  return out.str();
}

Status SaveSettings(const std::string& path, const Settings& settings) {
  const std::string text = SerializeSettings(settings);
  const std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Status(ErrorCode::kSettingsIo,
                  "cannot write settings file " + tmp + ": " + std::strerror(errno));
  }
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      const int err = errno;
      close(fd);
      unlink(tmp.c_str());
      return Status(ErrorCode::kSettingsIo,
                    "cannot write settings file " + tmp + ": " + std::strerror(err));
    }
    written += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    unlink(tmp.c_str());
    return Status(ErrorCode::kSettingsIo, "cannot write settings file " + tmp);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return Status(ErrorCode::kSettingsIo,
                  "cannot replace settings file " + path + ": " + std::strerror(err));
  }
  return Status::Ok();
}

}  // namespace lifeline
