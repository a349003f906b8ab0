#include "tests/common/etcd_cluster.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/source/etcd/client.h"
#include "tests/common/command.h"

namespace sixguard::test {

namespace {

constexpr const char *kEtcdBinary = "/usr/bin/etcd";

// A port the kernel just handed out on loopback. Another process may take it before etcd
// binds it: start() then retries with new ports.
Result<uint16_t> free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_error("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0) {
    auto error = errno_error("bind 127.0.0.1:0");
    ::close(fd);
    return error;
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

Status write_file(const std::string &path, const std::string &text) {
  std::ofstream out(path);
  out << text;
  if (!out) return make_error("cannot write " + path);
  return {};
}

// A key and a certificate signed by ca (self-signed when ca is empty).
Status make_certificate(const std::string &dir, const std::string &name, const std::string &subject,
                        const std::string &ca, const std::string &extensions) {
  const std::string key = dir + "/" + name + ".key", cert = dir + "/" + name + ".crt";
  if (ca.empty()) {
    auto made = run_command_ok({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
                                cert, "-days", "2", "-subj", subject});
    if (!made) return made.error();
    return {};
  }
  const std::string csr = dir + "/" + name + ".csr", ext = dir + "/" + name + ".ext";
  if (auto written = write_file(ext, extensions); !written) return written;
  auto request = run_command_ok({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                                 "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
                                 csr, "-subj", subject});
  if (!request) return request.error();
  auto signed_cert =
      run_command_ok({"openssl", "x509", "-req", "-in", csr, "-CA", ca + ".crt", "-CAkey",
                      ca + ".key", "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext});
  if (!signed_cert) return signed_cert.error();
  return {};
}

}  // namespace

std::optional<std::string> etcd_unavailable_reason() {
  if (::access(kEtcdBinary, X_OK) != 0) {
    return std::string(kEtcdBinary) + " is not installed (Debian package etcd-server)";
  }
  return std::nullopt;
}

Result<std::unique_ptr<EtcdCluster>> EtcdCluster::start(EtcdOptions options) {
  if (auto reason = etcd_unavailable_reason()) return make_error(*reason, ENOENT);
  if (options.members < 1) return make_error("an etcd cluster needs a member", EINVAL);
  Error last = make_error("etcd did not start");
  // Ports are chosen before etcd binds them; a clash with another process is retried.
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::unique_ptr<EtcdCluster> cluster(new EtcdCluster());
    cluster->options_ = options;
    std::string pattern =
        (std::filesystem::temp_directory_path() / "sixguard-etcdc-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) return errno_error("mkdtemp");
    cluster->dir_ = pattern;
    if (options.tls) {
      if (auto made = cluster->make_certificates(); !made) return made.error();
    }
    for (int i = 0; i < options.members; ++i) {
      Member member;
      member.name = "m" + std::to_string(i);
      auto client_port = free_port();
      auto peer_port = free_port();
      if (!client_port) return client_port.error();
      if (!peer_port) return peer_port.error();
      member.client_port = *client_port;
      member.peer_port = *peer_port;
      member.data_dir = cluster->dir_ + "/" + member.name + ".etcd";
      member.log_file = cluster->dir_ + "/" + member.name + ".log";
      cluster->members_.push_back(member);
    }
    bool started = true;
    for (int i = 0; i < options.members && started; ++i) {
      if (auto spawned = cluster->spawn(i, true); !spawned) {
        last = spawned.error();
        started = false;
      }
    }
    for (int i = 0; i < options.members && started; ++i) {
      if (auto ready = cluster->wait_ready(i, options.ready_timeout); !ready) {
        last = ready.error();
        started = false;
      }
    }
    if (started) return cluster;
  }
  return last;
}

EtcdCluster::~EtcdCluster() {
  for (auto &member : members_) {
    if (member.pid > 0) {
      ::kill(member.pid, SIGKILL);
      ::waitpid(member.pid, nullptr, 0);
      member.pid = -1;
    }
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

Status EtcdCluster::make_certificates() {
  const std::string member_ext =
      "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n";
  const std::string client_ext = "extendedKeyUsage=clientAuth\n";
  const std::string ca = dir_ + "/ca", other_ca = dir_ + "/other-ca";
  for (const auto &[name, subject, signer, ext] :
       std::vector<std::tuple<std::string, std::string, std::string, std::string>>{
           {"ca", "/CN=sixguard-etcdc-test-ca", "", ""},
           {"member", "/CN=etcd-member", ca, member_ext},
           {"client", "/CN=sixguard-publisher", ca, client_ext},
           {"other-ca", "/CN=sixguard-etcdc-other-ca", "", ""},
           {"wrong-client", "/CN=intruder", other_ca, client_ext}}) {
    if (auto made = make_certificate(dir_, name, subject, signer, ext); !made) return made;
  }
  tls_ = EtcdTlsFiles{.ca = ca + ".crt",
                      .client_cert = dir_ + "/client.crt",
                      .client_key = dir_ + "/client.key",
                      .wrong_cert = dir_ + "/wrong-client.crt",
                      .wrong_key = dir_ + "/wrong-client.key"};
  return {};
}

std::string EtcdCluster::initial_cluster() const {
  std::string out;
  for (const auto &member : members_) {
    if (!out.empty()) out += ",";
    out += member.name + "=http://127.0.0.1:" + std::to_string(member.peer_port);
  }
  return out;
}

std::string EtcdCluster::client_url(int member) const {
  return std::string(options_.tls ? "https" : "http") +
         "://127.0.0.1:" + std::to_string(members_.at(member).client_port);
}

std::vector<std::string> EtcdCluster::client_url_list() const {
  std::vector<std::string> urls;
  for (int i = 0; i < size(); ++i) urls.push_back(client_url(i));
  return urls;
}

std::string EtcdCluster::client_urls() const {
  std::string out;
  for (const auto &url : client_url_list()) out += (out.empty() ? "" : ",") + url;
  return out;
}

Status EtcdCluster::spawn(int index, bool new_cluster) {
  auto &member = members_.at(index);
  const std::string client = client_url(index);
  const std::string peer = "http://127.0.0.1:" + std::to_string(member.peer_port);
  std::vector<std::string> argv = {
      kEtcdBinary,
      "--name=" + member.name,
      "--data-dir=" + member.data_dir,
      "--listen-client-urls=" + client,
      "--advertise-client-urls=" + client,
      "--listen-peer-urls=" + peer,
      "--initial-advertise-peer-urls=" + peer,
      "--initial-cluster=" + initial_cluster(),
      "--initial-cluster-token=sixguard-etcdc-" + std::to_string(::getpid()),
      std::string("--initial-cluster-state=") + (new_cluster ? "new" : "existing"),
      "--log-outputs=stderr",
      "--logger=zap"};
  if (options_.tls) {
    argv.push_back("--cert-file=" + dir_ + "/member.crt");
    argv.push_back("--key-file=" + dir_ + "/member.key");
    argv.push_back("--trusted-ca-file=" + tls_.ca);
    argv.push_back("--client-cert-auth");
  }
  for (const auto &flag : options_.extra_flags) argv.push_back(flag);
  std::vector<char *> args;
  for (auto &arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  const int log = ::open(member.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return errno_error("open " + member.log_file);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log);
    return errno_error("fork etcd");
  }
  if (pid == 0) {
    // Dies with the test process, even when the test crashes before the destructor.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(log);
  member.pid = pid;
  return {};
}

Status EtcdCluster::wait_ready(int index, std::chrono::milliseconds timeout) {
  auto &member = members_.at(index);
  etcd::ClientConfig config;
  config.endpoints = {client_url(index)};
  if (options_.tls) {
    config.tls = etcd::TlsFiles{
        .ca_file = tls_.ca, .cert_file = tls_.client_cert, .key_file = tls_.client_key};
  }
  config.rounds = 1;
  config.connect_timeout = std::chrono::milliseconds(500);
  config.request_timeout = std::chrono::milliseconds(2000);
  auto client = etcd::Client::create(config);
  if (!client) return client.error();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(member.pid, &status, WNOHANG) == member.pid) {
      member.pid = -1;
      return make_error("etcd member " + member.name +
                        " exited during start-up: " + log_tail(index));
    }
    auto revision = (*client)->current_revision();
    if (revision) return {};
    last = revision.error().describe();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return make_error("etcd member " + member.name + " did not answer within " +
                    std::to_string(timeout.count()) + " ms (" + last + "): " + log_tail(index));
}

Status EtcdCluster::kill_member(int index) {
  auto &member = members_.at(index);
  if (member.pid <= 0) return make_error("etcd member " + member.name + " is not running");
  ::kill(member.pid, SIGCONT);  // a paused member must be able to die too
  if (::kill(member.pid, SIGKILL) != 0) return errno_error("kill etcd member " + member.name);
  ::waitpid(member.pid, nullptr, 0);
  member.pid = -1;
  return {};
}

Status EtcdCluster::restart_member(int index) {
  if (members_.at(index).pid > 0) return make_error("etcd member is still running");
  if (auto spawned = spawn(index, false); !spawned) return spawned;
  return wait_ready(index, options_.ready_timeout);
}

Status EtcdCluster::pause_member(int index) {
  if (::kill(members_.at(index).pid, SIGSTOP) != 0) return errno_error("SIGSTOP etcd member");
  return {};
}

Status EtcdCluster::resume_member(int index) {
  if (::kill(members_.at(index).pid, SIGCONT) != 0) return errno_error("SIGCONT etcd member");
  return {};
}

pid_t EtcdCluster::pid(int index) const {
  return members_.at(index).pid;
}

std::string EtcdCluster::log_tail(int index, std::size_t bytes) const {
  std::ifstream in(members_.at(index).log_file);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

}  // namespace sixguard::test
