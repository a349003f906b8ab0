// The man page and the bash completion of `sixguard`, generated from the CLI11 definition of
// the command line (cli.cpp) by the hidden `sixguard generate-docs` subcommand, which the
// build runs: a subcommand or option added to the CLI appears in both without editing them.
//
// Completion of option values and positionals follows the option's type name: FILE and PATH
// complete file names, IFACE network interfaces; anything else completes nothing.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace sixguard {

// roff (man 8), for /usr/share/man/man8/sixguard.8.
std::string render_man_page(const CLI::App &app);
// A bash script defining and registering _sixguard, for
// /usr/share/bash-completion/completions/sixguard.
std::string render_bash_completion(const CLI::App &app);

}  // namespace sixguard
