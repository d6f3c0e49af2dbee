// lifeline-relay-bench: the relay's three targets on loopback (issue 5, part 6).
//
//   throughput  N paired sessions (default 100), each pushing bytes viewer -> host through
//               the relay for D seconds; total forwarded Gbit/s (target >= 1).
//   memory      H idle registered hosts (default 10,000); RSS delta of the relay process
//               divided by H (target <= 16 KiB per host).
//   latency     one pair, a 64-byte message bounced host <-> viewer; the round trip through
//               the relay minus the same round trip over a direct TLS connection, halved:
//               the added latency per forwarded message (target median < 1 ms).
//
// The relay runs in a child process (fork before any thread) so its RSS is its own. The
// clients are plain blocking OpenSSL over sockets with the real relay protocol and real
// device certificates (outer TLS 1.3 both ways), so the relay does exactly its real work.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/log.h"
#include "net/relay/relay_protocol.h"
#include "net/relay/relay_server.h"
#include "net/tls/device_identity.h"

namespace lifeline {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

long RssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::atol(line.c_str() + 6);
  return -1;
}

void RaiseFileLimit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

// A blocking outer-TLS client of the relay.
class Client {
 public:
  static std::unique_ptr<Client> Connect(int port, const DeviceIdentity& identity) {
    static SSL_CTX* ctx = [] {
      SSL_CTX* c = SSL_CTX_new(TLS_client_method());
      SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
      SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
      return c;
    }();
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd);
      return nullptr;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto client = std::make_unique<Client>();
    client->fd_ = fd;
    client->ssl_ = SSL_new(ctx);
    SSL_use_certificate(client->ssl_, identity.certificate());
    SSL_use_PrivateKey(client->ssl_, identity.private_key());
    SSL_set_fd(client->ssl_, fd);
    if (SSL_connect(client->ssl_) != 1)
      return nullptr;
    return client;
  }
  ~Client() {
    if (ssl_)
      SSL_free(ssl_);
    if (fd_ >= 0)
      close(fd_);
  }
  bool Send(const RelayMessage& message) {
    auto bytes = EncodeRelayMessage(message);
    return bytes.ok() && WriteAll(bytes->data(), bytes->size());
  }
  bool Receive(RelayMessage* out) {
    RelayMessageReader reader;
    uint8_t buffer[kMaxRelayBodyBytes + kRelayHeaderBytes];
    while (true) {
      const int n = SSL_read(ssl_, buffer, static_cast<int>(reader.bytes_wanted()));
      if (n <= 0)
        return false;
      std::span<const uint8_t> input(buffer, static_cast<size_t>(n));
      const auto result = reader.Read(&input, out);
      if (result == RelayMessageReader::Result::kMessage)
        return true;
      if (result == RelayMessageReader::Result::kError)
        return false;
    }
  }
  bool WriteAll(const uint8_t* data, size_t size) {
    return SSL_write(ssl_, data, static_cast<int>(size)) == static_cast<int>(size);
  }
  bool ReadExactly(uint8_t* data, size_t size) {
    size_t done = 0;
    while (done < size) {
      const int n = SSL_read(ssl_, data + done, static_cast<int>(size - done));
      if (n <= 0)
        return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }
  // The device key proof of Register/Accept, as the real client makes it.
  bool AddProof(const DeviceIdentity& identity, RelayMessage* message) {
    uint8_t exporter[32];
    if (SSL_export_keying_material(ssl_, exporter, sizeof(exporter), "EXPORTER-Channel-Binding", 24,
                                   nullptr, 0, 0) != 1)
      return false;
    unsigned char* der = nullptr;
    const int length = i2d_PUBKEY(identity.private_key(), &der);
    message->device_spki.assign(reinterpret_cast<const char*>(der), static_cast<size_t>(length));
    OPENSSL_free(der);
    const std::vector<uint8_t> bytes = DeviceProofSignedBytes(exporter);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    unsigned char signature[64];
    size_t signature_length = sizeof(signature);
    const bool ok =
        EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, identity.private_key()) == 1 &&
        EVP_DigestSign(ctx, signature, &signature_length, bytes.data(), bytes.size()) == 1;
    EVP_MD_CTX_free(ctx);
    message->device_proof.assign(reinterpret_cast<const char*>(signature), signature_length);
    return ok;
  }
  int Read(uint8_t* data, size_t size) { return SSL_read(ssl_, data, static_cast<int>(size)); }
  void ShutdownSocket() { shutdown(fd_, SHUT_RDWR); }

 private:
  int fd_ = -1;
  SSL* ssl_ = nullptr;
};

struct Pair {
  std::unique_ptr<Client> control, host, viewer;
};

// Registers a host, asks for it as a viewer and opens the host's data connection.
bool MakePair(int port, Pair* pair) {
  auto host_identity = DeviceIdentity::CreateEphemeral();
  auto viewer_identity = DeviceIdentity::CreateEphemeral();
  if (!host_identity.ok() || !viewer_identity.ok())
    return false;
  pair->control = Client::Connect(port, *host_identity);
  if (!pair->control)
    return false;
  RelayMessage message;
  message.type = RelayMessageType::kRegister;
  RelayMessage registered;
  if (!pair->control->AddProof(*host_identity, &message) || !pair->control->Send(message) ||
      !pair->control->Receive(&registered) || registered.type != RelayMessageType::kRegistered)
    return false;
  pair->viewer = Client::Connect(port, *viewer_identity);
  if (!pair->viewer)
    return false;
  message.type = RelayMessageType::kConnect;
  message.id = registered.binding.id;
  RelayMessage incoming;
  if (!pair->viewer->Send(message) || !pair->control->Receive(&incoming) ||
      incoming.type != RelayMessageType::kIncoming)
    return false;
  pair->host = Client::Connect(port, *host_identity);
  message.type = RelayMessageType::kAccept;
  message.token = incoming.token;
  RelayMessage paired;
  return pair->host && pair->host->AddProof(*host_identity, &message) &&
         pair->host->Send(message) && pair->viewer->Receive(&paired) &&
         paired.type == RelayMessageType::kPaired;
}

struct RelayChild {
  pid_t pid = -1;
  int port = 0;
};

// Forks the relay (before any thread exists in this process).
RelayChild StartRelayChild(const std::string& db_path) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0)
    std::exit(1);
  const pid_t pid = fork();
  if (pid == 0) {
    close(pipe_fds[0]);
    RaiseFileLimit();
    log::Init("", log::Level::kWarning);
    RelayServerOptions options;
    options.listen = "127.0.0.1:0";
    options.keepalive_interval_ms = 600'000;  // Idle hosts in the benchmark never ping.
    options.source_connections_per_s = 0;     // Everything comes from 127.0.0.1.
    options.id_requests_per_s = 0;
    options.handshake_timeout_ms = 60'000;
    auto key = RelayKey::Generate();
    auto store = OpenSqliteIdStore(db_path);
    if (!key.ok() || !store.ok())
      _exit(1);
    auto server = RelayServer::Create(options, std::move(key).value(), std::move(store).value());
    if (!server.ok())
      _exit(1);
    const int port = (*server)->listen_address().port;
    if (write(pipe_fds[1], &port, sizeof(port)) != sizeof(port))
      _exit(1);
    close(pipe_fds[1]);
    (*server)->Run();
    _exit(0);
  }
  close(pipe_fds[1]);
  RelayChild child;
  child.pid = pid;
  if (read(pipe_fds[0], &child.port, sizeof(child.port)) != sizeof(child.port))
    std::exit(1);
  close(pipe_fds[0]);
  return child;
}

void StopRelayChild(const RelayChild& child) {
  kill(child.pid, SIGKILL);
  waitpid(child.pid, nullptr, 0);
}

void RunThroughput(int port, int pairs, double duration_s) {
  std::vector<Pair> all(static_cast<size_t>(pairs));
  const auto setup = Clock::now();
  for (auto& pair : all) {
    if (!MakePair(port, &pair)) {
      std::printf("throughput: pairing failed\n");
      return;
    }
  }
  std::printf("throughput: %d pairs set up in %.2f s\n", pairs, SecondsSince(setup));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> received{0};
  std::vector<std::atomic<uint64_t>> per_pair(all.size());
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (size_t i = 0; i < all.size(); ++i) {
    Pair& pair = all[i];
    std::atomic<uint64_t>& mine = per_pair[i];
    threads.emplace_back([&stop, &pair] {
      std::vector<uint8_t> chunk(16 * 1024, 0x5a);
      while (!stop.load() && pair.viewer->WriteAll(chunk.data(), chunk.size())) {
      }
    });
    threads.emplace_back([&stop, &pair, &received, &mine] {
      std::vector<uint8_t> buffer(64 * 1024);
      while (!stop.load()) {
        const int n = pair.host->Read(buffer.data(), buffer.size());
        if (n <= 0)
          break;
        received += static_cast<uint64_t>(n);
        mine += static_cast<uint64_t>(n);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(duration_s / 2));
  std::vector<uint64_t> halfway(all.size());
  for (size_t i = 0; i < all.size(); ++i)
    halfway[i] = per_pair[i].load();
  std::this_thread::sleep_for(std::chrono::duration<double>(duration_s / 2));
  const uint64_t bytes = received.load();
  int stalled = 0;
  uint64_t least = UINT64_MAX, most = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    const uint64_t second_half = per_pair[i].load() - halfway[i];
    stalled += second_half == 0 ? 1 : 0;
    least = std::min(least, per_pair[i].load());
    most = std::max(most, per_pair[i].load());
  }
  const double elapsed = SecondsSince(start);
  stop.store(true);
  for (auto& pair : all) {
    pair.viewer->ShutdownSocket();
    pair.host->ShutdownSocket();
  }
  for (auto& thread : threads)
    thread.join();
  std::printf(
      "throughput: %d pairs, %.1f s, %.1f MB forwarded: %.2f Gbit/s total "
      "(target >= 1); per pair %.1f-%.1f MB, %d pairs moved nothing in the second "
      "half\n",
      pairs, elapsed, bytes / 1e6, bytes * 8 / elapsed / 1e9, least / 1e6, most / 1e6, stalled);
}

void RunLatency(int port, int samples) {
  Pair pair;
  if (!MakePair(port, &pair)) {
    std::printf("latency: pairing failed\n");
    return;
  }
  // Through the relay: the host side echoes in a thread.
  auto measure = [samples](Client* a, Client* b) {
    std::thread echo([b, samples] {
      uint8_t message[64];
      for (int i = 0; i < samples; ++i) {
        if (!b->ReadExactly(message, sizeof(message)) || !b->WriteAll(message, sizeof(message)))
          return;
      }
    });
    std::vector<double> rtt_us;
    uint8_t message[64] = {1};
    for (int i = 0; i < samples; ++i) {
      const auto start = Clock::now();
      if (!a->WriteAll(message, sizeof(message)) || !a->ReadExactly(message, sizeof(message)))
        break;
      rtt_us.push_back(SecondsSince(start) * 1e6);
    }
    echo.join();
    std::sort(rtt_us.begin(), rtt_us.end());
    return rtt_us.empty() ? -1.0 : rtt_us[rtt_us.size() / 2];
  };
  const double relay_rtt = measure(pair.viewer.get(), pair.host.get());

  // Direct: the same bounce to a TLS echo server on loopback.
  auto server_identity = DeviceIdentity::CreateEphemeral();
  auto client_identity = DeviceIdentity::CreateEphemeral();
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  listen(listener, 1);
  std::thread acceptor([&] {
    const int fd = accept(listener, nullptr, nullptr);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_use_certificate(ctx, server_identity->certificate());
    SSL_CTX_use_PrivateKey(ctx, server_identity->private_key());
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1)
      return;
    uint8_t message[64];
    for (int i = 0; i < samples; ++i) {
      int done = 0;
      while (done < 64) {
        const int n = SSL_read(ssl, message + done, 64 - done);
        if (n <= 0)
          return;
        done += n;
      }
      SSL_write(ssl, message, 64);
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
  });
  auto direct = Client::Connect(ntohs(addr.sin_port), *client_identity);
  std::vector<double> direct_us;
  uint8_t message[64] = {2};
  for (int i = 0; direct && i < samples; ++i) {
    const auto start = Clock::now();
    if (!direct->WriteAll(message, sizeof(message)) ||
        !direct->ReadExactly(message, sizeof(message)))
      break;
    direct_us.push_back(SecondsSince(start) * 1e6);
  }
  acceptor.join();
  close(listener);
  std::sort(direct_us.begin(), direct_us.end());
  const double direct_rtt = direct_us.empty() ? -1 : direct_us[direct_us.size() / 2];
  std::printf(
      "latency: %d bounces of 64 bytes; median round trip %.1f us through the relay, "
      "%.1f us direct; added per forwarded message %.1f us (target < 1000)\n",
      samples, relay_rtt, direct_rtt, (relay_rtt - direct_rtt) / 2);
}

void RunMemory(const RelayChild& relay, int hosts) {
  const long before = RssKiB(relay.pid);
  std::vector<std::unique_ptr<Client>> clients;
  clients.reserve(static_cast<size_t>(hosts));
  // Device identities are generated up front (client-side cost, not the relay's).
  const auto start = Clock::now();
  for (int i = 0; i < hosts; ++i) {
    auto identity = DeviceIdentity::CreateEphemeral();
    if (!identity.ok())
      break;
    auto client = Client::Connect(relay.port, *identity);
    RelayMessage reg;
    reg.type = RelayMessageType::kRegister;
    RelayMessage answer;
    if (!client || !client->AddProof(*identity, &reg) || !client->Send(reg) ||
        !client->Receive(&answer) || answer.type != RelayMessageType::kRegistered) {
      std::printf("memory: registration %d failed\n", i);
      break;
    }
    clients.push_back(std::move(client));
  }
  const double elapsed = SecondsSince(start);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const long after = RssKiB(relay.pid);
  const size_t n = clients.size();
  std::printf(
      "memory: %zu idle registered hosts (registered in %.1f s); relay RSS %ld KiB -> "
      "%ld KiB: %.2f KiB per host (target <= 16)\n",
      n, elapsed, before, after, n ? static_cast<double>(after - before) / n : 0.0);
}

}  // namespace
}  // namespace lifeline

int main(int argc, char** argv) {
  using namespace lifeline;
  int pairs = 100, hosts = 10'000, samples = 2000;
  double duration_s = 5;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--pairs")
      pairs = std::atoi(argv[i + 1]);
    else if (flag == "--hosts")
      hosts = std::atoi(argv[i + 1]);
    else if (flag == "--seconds")
      duration_s = std::atof(argv[i + 1]);
    else if (flag == "--samples")
      samples = std::atoi(argv[i + 1]);
    else if (flag == "--only")
      only = argv[i + 1];
  }
  if (argc == 2) {
    std::printf(
        "usage: lifeline-relay-bench [--pairs 100] [--seconds 5] [--hosts 10000] "
        "[--samples 2000] [--only throughput|latency|memory]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  RaiseFileLimit();
  char db_template[] = "/tmp/lifeline-relay-bench-XXXXXX";
  if (!mkdtemp(db_template))
    return 1;
  const std::string db = std::string(db_template) + "/ids.sqlite";
  // Each measurement gets a fresh relay process (fork happens before our threads start).
  if (only.empty() || only == "memory") {
    RelayChild relay = StartRelayChild(db);
    RunMemory(relay, hosts);
    StopRelayChild(relay);
  }
  if (only.empty() || only == "throughput") {
    RelayChild relay = StartRelayChild(db);
    RunThroughput(relay.port, pairs, duration_s);
    StopRelayChild(relay);
  }
  if (only.empty() || only == "latency") {
    RelayChild relay = StartRelayChild(db);
    RunLatency(relay.port, samples);
    StopRelayChild(relay);
  }
  std::string cleanup = std::string("rm -rf ") + db_template;
  return std::system(cleanup.c_str()) == 0 ? 0 : 1;
}
