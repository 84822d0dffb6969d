#pragma once
// `maskscan serve`: its flags and how it runs (the service itself is src/service/).
#include <CLI/CLI.hpp>

#include "service/server.hpp"

namespace maskscan::cli {

/// Adds the flags of `maskscan serve` to `app`, read into `config`.
void add_serve_flags(CLI::App& app, service::server_config& config);
/// Runs the service until SIGINT/SIGTERM; 0 when it stopped as asked.
int run_serve(const service::server_config& config);

}  // namespace maskscan::cli
