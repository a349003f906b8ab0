#include "agent/cli/publish_command.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "agent/api/control_answer.h"
#include "agent/cli/exit_codes.h"
#include "agent/cli/terminal_json.h"
#include "agent/source/etcd/client.h"
#include "agent/source/publish/publisher.h"
#include "agent/control/input_limits.h"  // agent/control: printable()

namespace sixguard {

int cmd_publish(const PublishArgs &args, std::istream &in, std::ostream &out, std::ostream &err) {
  std::string body;
  if (args.file == "-") {
    body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else {
    std::ifstream input(args.file, std::ios::binary);
    if (!input) {
      err << "sixguard publish: cannot read " << args.file << ": " << std::strerror(errno) << "\n";
      return exit_code::kUsage;
    }
    body.assign(std::istreambuf_iterator<char>(input), std::istreambuf_iterator<char>());
  }
  etcd::ClientConfig config;
  config.endpoints = {args.etcd};
  config.request_timeout = std::chrono::milliseconds(args.timeout_ms);
  if (!args.cacert.empty() || !args.cert.empty() || !args.key.empty()) {
    config.tls =
        etcd::TlsFiles{.ca_file = args.cacert, .cert_file = args.cert, .key_file = args.key};
  }
  auto client = etcd::Client::create(config);
  if (!client) {
    err << "sixguard publish: " << printable(client.error().message) << "\n";
    return exit_code::kUsage;
  }
  PublishOptions options;
  options.prefix = args.prefix;
  options.host = args.host;
  const PublishResult result = publish(**client, body, options);
  for (const auto &skipped : result.skipped) {
    err << "sixguard publish: warning: store key skipped (breaks the rules): " << printable(skipped)
        << "\n";
  }
  if (result.store_error) {
    const auto kind = etcd::error_kind(*result.store_error);
    // The message says what failed and why; strerror of the kind's code would add nothing.
    err << "sixguard publish: " << printable(result.store_error->message) << "\n";
    if (kind == etcd::ErrorKind::kRejected &&
        result.store_error->message.find("too many operations") != std::string::npos) {
      err << "sixguard publish: the batch is one txn: split it, or raise etcd's --max-txn-ops\n";
    }
    return exit_code::kUnavailable;
  }
  if (result.error) {
    if (args.json) {
      auto answer = error_body(*result.error);
      answer["status"] = http_status(result.error->kind);
      out << terminal_json(answer) << "\n";
    }
    err << "sixguard publish: " << printable(result.error->message) << " ("
        << http_status(result.error->kind) << ")\n";
    return exit_code::kRefused;
  }
  const nlohmann::json answer{{"applied", result.applied},
                              {"unchanged", result.unchanged},
                              {"writes", result.writes},
                              {"revision", result.revision}};
  if (args.json) {
    out << terminal_json(answer) << "\n";
  } else {
    out << "applied " << result.applied << ", unchanged " << result.unchanged << " ("
        << result.writes << " keys written at revision " << result.revision << ")\n";
  }
  return exit_code::kOk;
}

}  // namespace sixguard
