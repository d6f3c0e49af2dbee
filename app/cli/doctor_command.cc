#include "app/cli/doctor_command.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "app/cli/terminal_ui.h"
#include "app/core/doctor.h"
#include "net/relay/relay_client.h"

namespace lifeline {
namespace {

std::string ResultText(const DoctorRow& row) {
  if (row.ok)
    return "ok";
  return fmt::format("E{}", static_cast<int>(row.code));
}

// "path | result | time ms | detail", columns padded to the widest cell.
void PrintTable(const std::vector<DoctorRow>& rows) {
  std::vector<std::array<std::string, 4>> cells;
  cells.push_back({"path", "result", "time ms", "detail"});
  for (const DoctorRow& row : rows) {
    std::string path = row.path;
    if (!row.target.empty())
      path += " -> " + row.target;
    std::string detail = row.detail;
    if (row.http_connect_status != 0 &&
        detail.find(std::to_string(row.http_connect_status)) == std::string::npos) {
      detail = fmt::format("CONNECT {}: {}", row.http_connect_status, detail);
    }
    if (!row.ok && row.code != ErrorCode::kOk)
      detail = std::string(ToString(row.code)) + ": " + detail;
    cells.push_back({path, ResultText(row), std::to_string(row.elapsed_ms), detail});
  }
  size_t widths[3] = {0, 0, 0};
  for (const auto& line : cells) {
    for (size_t i = 0; i < 3; ++i)
      widths[i] = std::max(widths[i], line[i].size());
  }
  for (const auto& line : cells) {
    std::printf("%s\n", fmt::format("{:<{}} | {:<{}} | {:>{}} | {}", line[0], widths[0], line[1],
                                    widths[1], line[2], widths[2], line[3])
                            .c_str());
  }
}

}  // namespace

CLI::App* AddDoctorCommand(CLI::App* app, DoctorCommandOptions* options) {
  auto* command = app->add_subcommand(
      "doctor", "Try every way out (direct, proxies, port 443) and say what works");
  command->add_option("--relay", options->relay, "The relay to reach (HOST:PORT)");
  command->add_option("--relay-fallback", options->fallback,
                      "Fallback address of the relay (default: --fallback-port of its host)");
  command
      ->add_option("--fallback-port", options->fallback_port,
                   "Fallback port of the relay (default 443)")
      ->check(CLI::Range(1, 65535));
  command->add_option("--relay-pin", options->pin,
                      "The relay's key (as lifeline-relay prints it): also check it on each path");
  command->add_option("--relay-pin-file", options->pin_file, "Read --relay-pin from this file");
  command->add_option("--timeout-ms", options->timeout_ms, "Time limit per path (default 5000)")
      ->check(CLI::Range(100, 120000));
  command->add_flag("--no-detect", options->no_detect, "Do not ask libproxy");
  AddProxyOptions(command, &options->proxy);
  return command;
}

int RunDoctorCommand(const DoctorCommandOptions& options, const std::atomic<bool>& stop) {
  DoctorOptions doctor;
  auto fail = [](const std::string& flag, const Error& error) {
    std::fprintf(stderr, "lifeline doctor: %s: %s\n", flag.c_str(), error.ToString().c_str());
    return 2;
  };
  if (!options.relay.empty()) {
    auto relay = ParseHostPort(options.relay);
    if (!relay.ok())
      return fail("--relay", relay.error());
    doctor.relay = *relay;
  }
  if (!options.fallback.empty()) {
    auto fallback = ParseHostPort(options.fallback);
    if (!fallback.ok())
      return fail("--relay-fallback", fallback.error());
    doctor.fallback = *fallback;
  }
  doctor.fallback_port = static_cast<uint16_t>(options.fallback_port);
  std::string pin = options.pin;
  if (!options.pin_file.empty()) {
    auto line = ReadFirstLine(options.pin_file);
    if (!line.ok())
      return fail("--relay-pin-file", line.error());
    pin = *line;
  }
  if (!pin.empty()) {
    auto normalized = NormalizeRelayPin(pin);
    if (!normalized.ok())
      return fail("--relay-pin", normalized.error());
    doctor.relay_pin = *normalized;
  }
  auto proxy = ResolveProxyOptions(options.proxy);
  if (!proxy.ok()) {
    std::fprintf(stderr, "lifeline doctor: %s\n", proxy.error().ToString().c_str());
    return 2;
  }
  doctor.proxy = *proxy;
  doctor.detect = !options.no_detect;
  doctor.timeout_ms = options.timeout_ms;
  doctor.detection_timeout_ms = options.timeout_ms;

  const std::vector<DoctorRow> rows = RunDoctor(doctor, &stop);
  PrintTable(rows);
  bool any_relay_path = false;
  bool all_ok = true;
  for (const DoctorRow& row : rows) {
    any_relay_path = any_relay_path || (row.ok && !row.target.empty());
    all_ok = all_ok && row.ok;
  }
  if (doctor.relay) {
    std::printf("%s\n", any_relay_path ? "At least one way to the relay works."
                                       : "No way to the relay works; see the details above.");
    return any_relay_path ? 0 : 1;
  }
  return all_ok ? 0 : 1;
}

}  // namespace lifeline
