#pragma once
// `maskscan tune`: its own flags, the table of trials as they end, and the result with the scan
// command line to use. The input and statistics flags are scan's (main.cpp).
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <maskscan/tune.hpp>

namespace maskscan::cli {

struct tune_flags {
  tune_options tuning;
  bool json = false;
};

/// Adds tune's own flags (--sample, --budget-seconds, --cold, --json) to `app`.
void add_tune_flags(CLI::App& app, tune_flags& flags);

/// Which concurrency options tune searches: those whose flag (--workers, --io-depth, --queue-depth,
/// --io) was not given; a given one is held at its value.
void hold_given_flags(const CLI::App& app, tune_options& tuning);

/// The `maskscan scan` command line that uses `best`: `arguments` (tune's, after the subcommand,
/// shell-quoted) without tune's own flags and the concurrency flags, then to_flags(best).
std::string scan_command_line(const std::vector<std::string>& arguments, const concurrency& best);

/// to_json(result) with "scan_command": `scan_line` (what --json prints).
std::string tune_json(const tune_result& result, const std::string& scan_line);

/// Prints a trial as a row of the table (with the header before the first).
void print_trial(const tune_trial& trial, std::size_t number);

/// Prints what the trials found: the bottleneck and its evidence, the best setting and its spread,
/// and the command line to use.
void print_tune_result(const tune_result& result, const std::string& scan_line);

}  // namespace maskscan::cli
