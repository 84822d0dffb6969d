#include "cli/serve_command.hpp"

namespace maskscan::cli {

void add_serve_flags(CLI::App& app, service::server_config& c) {
  app.add_option("--root", c.root,
                 "The folder whose datasets may be scanned: a request's path is relative to it and must resolve "
                 "(after symlinks) inside it")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("--listen", c.listen,
                 "HOST:PORT to listen on (port 0: any free port, logged). Loopback unless told otherwise: the "
                 "service reads your disk")
      ->capture_default_str();
  app.add_option("--state-dir", c.state_dir,
                 "Where scans' results and records are kept (created; default: maskscan-state in the current "
                 "folder); a restarted service lists the scans found there")
      ->default_str("maskscan-state");
  c.state_dir = "maskscan-state";
  app.add_option("--token-file", c.token_file,
                 "Require `Authorization: Bearer TOKEN` on every request, TOKEN the file's first line (16 characters "
                 "or more)")
      ->check(CLI::ExistingFile);
  app.add_option("--threads", c.threads, "Threads answering requests")
      ->capture_default_str()
      ->check(CLI::Range(1u, 64u));
  app.add_option("--compute-threads", c.compute_threads,
                 "Compute threads shared by all scans (0: one per hardware thread)")
      ->capture_default_str()
      ->check(CLI::Range(0u, 1024u));
  app.add_option("--max-running", c.max_running, "Scans running at once; the others wait, queued")
      ->capture_default_str()
      ->check(CLI::Range(1u, 64u));
  app.add_option("--max-queued", c.max_queued, "Scans waiting at most; a POST beyond them gets 429")
      ->capture_default_str()
      ->check(CLI::Range(0u, 10000u));
  app.add_option("--max-connections", c.max_connections, "Open connections at most; beyond them: 503 and closed")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100000u));
  app.add_option("--max-memory", c.max_memory,
                 "Memory budget of each scan (as scan's --max-memory, e.g. 4GiB; a request may ask for less; 0: none)")
      ->transform(CLI::AsSizeValue(true))
      ->default_str("0");
}

int run_serve(const service::server_config& config) { return service::serve(config); }

}  // namespace maskscan::cli
