#pragma once
// Runs the maskscan executable (MASKSCAN_CLI) as a user runs it, from a shell.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <sys/wait.h>

#include "support/test_data.hpp"

namespace maskscan::test {

struct cli_result {
  int status = -1;  ///< the exit status (-1 if it did not exit normally)
  std::string out;
  std::string err;
};

/// `maskscan <args>` through /bin/sh; `shell_prefix` runs before it in the same shell (e.g. "ulimit -n 128 &&").
inline cli_result run_cli(const std::string& args, const std::string& shell_prefix = {}) {
  static temp_dir capture;
  const auto out = capture / "stdout", err = capture / "stderr";
  const std::string command =
      shell_prefix + " " + std::string(MASKSCAN_CLI) + " " + args + " >" + out.string() + " 2>" + err.string();
  const int raw = std::system(command.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read_file(out), read_file(err)};
}

/// `command` through /bin/sh, its stdout and stderr captured (e.g. a python3 check of an output).
inline cli_result run_shell(const std::string& command) {
  static temp_dir capture;
  const auto out = capture / "stdout", err = capture / "stderr";
  const std::string full = "(" + command + ") >" + out.string() + " 2>" + err.string();
  const int raw = std::system(full.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read_file(out), read_file(err)};
}

/// A path quoted for the shell.
inline std::string quote(const std::filesystem::path& p) {
  // Appending (not "'" + p.string() + "'") avoids a GCC 12 -Wrestrict false positive.
  std::string quoted = "'";
  quoted += p.string();
  quoted += '\'';
  return quoted;
}

}  // namespace maskscan::test
