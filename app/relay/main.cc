// `lifeline-relay`: pairs hosts and viewers by ID and forwards their end-to-end encrypted
// streams (net/relay/relay_server.h). Configuration: a TOML file (--config) and flags;
// flags win. Prints the key pin clients need (--relay-pin) at start.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include <toml++/toml.h>
#include <CLI/CLI.hpp>

#include "base/log.h"
#include "base/version.h"
#include "net/relay/relay_server.h"

namespace {

std::atomic<bool> g_stop{false};

void OnStopSignal(int) {
  g_stop.store(true);
}

struct Config {
  std::string listen = "0.0.0.0:7000";
  std::string fallback_listen;
  std::string metrics_listen;
  std::string key_file = "relay_key.pem";
  std::string cert_file = "relay_cert.pem";
  bool create_key = false;
  std::string db = "relay_ids.sqlite";
  int keepalive_s = 15;
  double source_rate = 20, source_burst = 40;
  double id_rate = 2, id_burst = 10;
  int refuse_delay_ms = 300;
  std::string capture_file;  // Testing: every forwarded byte is appended here.
  std::string log_level = "info";
};

// Reads the TOML file into `config`; keys as in the flags without dashes
// (listen, fallback_listen, metrics_listen, key, cert, db, keepalive_s, source_rate,
// source_burst, id_rate, id_burst, refuse_delay_ms). Errors name the file and the key.
bool LoadConfig(const std::string& path, Config* config) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::fprintf(stderr, "lifeline-relay: %s: %s\n", path.c_str(),
                 std::string(e.description()).c_str());
    return false;
  }
  auto text = [&](const char* key, std::string* out) {
    if (auto node = table[key]) {
      if (!node.is_string()) {
        std::fprintf(stderr, "lifeline-relay: %s: %s must be a string\n", path.c_str(), key);
        return false;
      }
      *out = node.value_or(*out);
    }
    return true;
  };
  auto number = [&](const char* key, auto* out) {
    if (auto node = table[key]) {
      if (!node.is_number()) {
        std::fprintf(stderr, "lifeline-relay: %s: %s must be a number\n", path.c_str(), key);
        return false;
      }
      *out = static_cast<std::remove_reference_t<decltype(*out)>>(node.value_or(0.0));
    }
    return true;
  };
  return text("listen", &config->listen) && text("fallback_listen", &config->fallback_listen) &&
         text("metrics_listen", &config->metrics_listen) && text("key", &config->key_file) &&
         text("cert", &config->cert_file) && text("db", &config->db) &&
         text("log_level", &config->log_level) && number("keepalive_s", &config->keepalive_s) &&
         number("source_rate", &config->source_rate) &&
         number("source_burst", &config->source_burst) && number("id_rate", &config->id_rate) &&
         number("id_burst", &config->id_burst) &&
         number("refuse_delay_ms", &config->refuse_delay_ms);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace lifeline;
  CLI::App app{
      "lifeline-relay: pairs Lifeline hosts and viewers by ID and forwards their "
      "end-to-end encrypted streams",
      "lifeline-relay"};
  app.set_version_flag("--version", std::string("lifeline-relay ") + kVersionString);
  std::string config_path;
  app.add_option("--config", config_path, "TOML configuration file (flags override it)");
  Config defaults;
  Config flags;
  auto* listen =
      app.add_option("--listen", flags.listen, "Address to serve on (default 0.0.0.0:7000)");
  auto* fallback = app.add_option("--fallback-listen", flags.fallback_listen,
                                  "Second address with the same service, for clients whose "
                                  "usual port is blocked (e.g. 0.0.0.0:443)");
  auto* metrics = app.add_option("--metrics-listen", flags.metrics_listen,
                                 "Address for /metrics (Prometheus) and /healthz");
  auto* key = app.add_option("--key", flags.key_file, "Ed25519 private key, PEM");
  auto* cert = app.add_option("--cert", flags.cert_file, "Self-signed certificate for --key, PEM");
  app.add_flag("--create-key", flags.create_key, "Create --key and --cert if neither exists");
  auto* db = app.add_option("--db", flags.db, "SQLite database of ID bindings");
  auto* keepalive = app.add_option("--keepalive", flags.keepalive_s,
                                   "Seconds between host keep-alives (dead after 3 missed)");
  auto* source_rate = app.add_option("--source-rate", flags.source_rate,
                                     "New connections per second per source address");
  auto* source_burst =
      app.add_option("--source-burst", flags.source_burst, "Burst for --source-rate");
  auto* id_rate = app.add_option("--id-rate", flags.id_rate, "Connect requests per second per ID");
  auto* id_burst = app.add_option("--id-burst", flags.id_burst, "Burst for --id-rate");
  auto* refuse_delay = app.add_option("--refuse-delay-ms", flags.refuse_delay_ms,
                                      "Delay of every 'unknown or offline' answer");
  auto* capture = app.add_option("--capture-file", flags.capture_file,
                                 "TESTING: append every forwarded byte to this file");
  auto* level = app.add_option("--log-level", flags.log_level, "debug, info, warning, error");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  Config config = defaults;
  if (!config_path.empty() && !LoadConfig(config_path, &config))
    return 2;
  auto take = [](CLI::Option* option, auto& to, const auto& from) {
    if (option->count() > 0)
      to = from;
  };
  take(listen, config.listen, flags.listen);
  take(fallback, config.fallback_listen, flags.fallback_listen);
  take(metrics, config.metrics_listen, flags.metrics_listen);
  take(key, config.key_file, flags.key_file);
  take(cert, config.cert_file, flags.cert_file);
  take(db, config.db, flags.db);
  take(keepalive, config.keepalive_s, flags.keepalive_s);
  take(source_rate, config.source_rate, flags.source_rate);
  take(source_burst, config.source_burst, flags.source_burst);
  take(id_rate, config.id_rate, flags.id_rate);
  take(id_burst, config.id_burst, flags.id_burst);
  take(refuse_delay, config.refuse_delay_ms, flags.refuse_delay_ms);
  take(capture, config.capture_file, flags.capture_file);
  take(level, config.log_level, flags.log_level);
  config.create_key = flags.create_key;
  if (config.keepalive_s < 1 || config.keepalive_s > 600) {
    std::fprintf(stderr, "lifeline-relay: keepalive_s must be between 1 and 600\n");
    return 2;
  }

  log::Init("", config.log_level == "debug"     ? log::Level::kDebug
                : config.log_level == "warning" ? log::Level::kWarning
                : config.log_level == "error"   ? log::Level::kError
                                                : log::Level::kInfo);
  auto relay_key = RelayKey::Load(config.key_file, config.cert_file, config.create_key);
  if (!relay_key.ok()) {
    std::fprintf(stderr, "lifeline-relay: %s\n", relay_key.error().ToString().c_str());
    return 1;
  }
  auto store = OpenSqliteIdStore(config.db);
  if (!store.ok()) {
    std::fprintf(stderr, "lifeline-relay: %s\n", store.error().ToString().c_str());
    return 1;
  }
  RelayServerOptions options;
  options.listen = config.listen;
  options.fallback_listen = config.fallback_listen;
  options.metrics_listen = config.metrics_listen;
  options.keepalive_interval_ms = config.keepalive_s * 1000;
  options.source_connections_per_s = config.source_rate;
  options.source_burst = config.source_burst;
  options.id_requests_per_s = config.id_rate;
  options.id_burst = config.id_burst;
  options.refuse_delay_ms = config.refuse_delay_ms;
  std::shared_ptr<std::ofstream> capture_out;
  if (!config.capture_file.empty()) {
    capture_out =
        std::make_shared<std::ofstream>(config.capture_file, std::ios::binary | std::ios::app);
    options.capture_hook = [capture_out](std::span<const uint8_t> bytes) {
      capture_out->write(reinterpret_cast<const char*>(bytes.data()),
                         static_cast<std::streamsize>(bytes.size()));
      capture_out->flush();
    };
  }
  auto server =
      RelayServer::Create(options, std::move(relay_key).value(), std::move(store).value());
  if (!server.ok()) {
    std::fprintf(stderr, "lifeline-relay: %s\n", server.error().ToString().c_str());
    return 1;
  }
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::printf("lifeline-relay listening on %s\n", (*server)->listen_address().ToString().c_str());
  if (!config.fallback_listen.empty())
    std::printf("fallback on %s\n", (*server)->fallback_address().ToString().c_str());
  if (!config.metrics_listen.empty())
    std::printf("metrics on http://%s/metrics\n", (*server)->metrics_address().ToString().c_str());
  std::printf("pin: %s\n", (*server)->pin().c_str());
  std::fflush(stdout);
  (*server)->Start();
  while (!g_stop.load())
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  (*server)->Stop();
  return 0;
}
