#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <map>

#include "app/core/paths.h"
#include "app/core/settings.h"
#include "tests/support/temp_dir.h"

namespace lifeline {
namespace {

TEST_CASE("Settings parse with defaults for missing keys", "[app][settings]") {
  auto s = ParseSettings("[host]\nmax_fps = 15\nsource = \"synthetic\"\n");
  REQUIRE(s.ok());
  CHECK(s->host.max_fps == 15);
  CHECK(s->host.source == CaptureSource::kSynthetic);
  CHECK(s->host.listen == "127.0.0.1:7070");
  CHECK(s->host.bitrate_kbps == 4000);
}

TEST_CASE("Wrong settings are reported with their field name", "[app][settings]") {
  struct Case {
    const char* text;
    const char* field;
  };
  const Case cases[] = {
      {"[host]\nmax_fps = 500\n", "host.max_fps"},
      {"[host]\nmax_fps = \"fast\"\n", "host.max_fps"},
      {"[host]\nbitrate_kbps = 1\n", "host.bitrate_kbps"},
      {"[host]\nlisten = \"nonsense\"\n", "host.listen"},
      {"[host]\nlisten = \"127.0.0.1:99999\"\n", "host.listen"},
      {"[host]\nsource = \"camera\"\n", "host.source"},
      {"[host]\ncodec = \"mpeg2\"\n", "host.codec"},
      {"[host]\nmax_frames_in_flight = 0\n", "host.max_frames_in_flight"},
      {"[log]\nlevel = \"loud\"\n", "log.level"},
      {"host = 3\n", "host"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto s = ParseSettings(c.text);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == ErrorCode::kSettingsInvalid);
    CHECK(s.error().message.find(c.field) != std::string::npos);
  }
}

TEST_CASE("Malformed TOML gives line and column", "[app][settings]") {
  auto s = ParseSettings("[host\nmax_fps = 3\n");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message.find("line 1") != std::string::npos);
}

TEST_CASE("Settings survive a save and load round trip, file private", "[app][settings]") {
  testing::TempDir dir;
  Settings s;
  s.host.listen = "127.0.0.1:9000";
  s.host.max_fps = 24;
  s.host.codec = VideoCodec::kVp9;
  s.log.level = "debug";
  const std::string path = dir.File("settings.toml");
  REQUIRE(SaveSettings(path, s).ok());
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto loaded = LoadSettings(path);
  REQUIRE(loaded.ok());
  CHECK(loaded->host.listen == "127.0.0.1:9000");
  CHECK(loaded->host.max_fps == 24);
  CHECK(loaded->host.codec == VideoCodec::kVp9);
  CHECK(loaded->log.level == "debug");
}

TEST_CASE("A missing settings file gives defaults; a broken one an error", "[app][settings]") {
  testing::TempDir dir;
  auto missing = LoadSettings(dir.File("nope.toml"));
  REQUIRE(missing.ok());
  CHECK(missing->host.max_fps == 30);
  testing::WriteStringToFile(dir.File("bad.toml"), "[host]\nmax_fps = -3\n");
  auto bad = LoadSettings(dir.File("bad.toml"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("bad.toml") != std::string::npos);
  CHECK(bad.error().message.find("host.max_fps") != std::string::npos);
  // Nothing was rewritten.
  CHECK(testing::ReadFileToString(dir.File("bad.toml")) == "[host]\nmax_fps = -3\n");
}

TEST_CASE("Paths: XDG, HOME, and portable mode beside the executable", "[app][paths]") {
  testing::TempDir dir;
  auto env = [](std::map<std::string, std::string> values) -> EnvLookup {
    return [values](const std::string& name) -> std::optional<std::string> {
      auto it = values.find(name);
      if (it == values.end())
        return std::nullopt;
      return it->second;
    };
  };
  auto xdg = ResolveAppPaths(dir.path(), env({{"XDG_CONFIG_HOME", "/x/cfg"}, {"HOME", "/h"}}));
  REQUIRE(xdg.ok());
  CHECK_FALSE(xdg->portable);
  CHECK(xdg->settings_file == "/x/cfg/lifeline/settings.toml");
  CHECK(xdg->log_file == "/x/cfg/lifeline/lifeline.log");

  auto home = ResolveAppPaths(dir.path(), env({{"XDG_CONFIG_HOME", "relative"}, {"HOME", "/h"}}));
  REQUIRE(home.ok());
  CHECK(home->settings_file == "/h/.config/lifeline/settings.toml");

  auto none = ResolveAppPaths(dir.path(), env({}));
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code == ErrorCode::kSettingsIo);

  testing::WriteStringToFile(dir.File(kPortableMarkerName), "");
  auto portable = ResolveAppPaths(dir.path(), env({{"HOME", "/h"}}));
  REQUIRE(portable.ok());
  CHECK(portable->portable);
  CHECK(portable->config_dir == dir.path() + "/lifeline-data");
  REQUIRE(EnsureConfigDir(*portable).ok());
  struct stat st {};
  CHECK(stat(portable->config_dir.c_str(), &st) == 0);
}

}  // namespace
}  // namespace lifeline
