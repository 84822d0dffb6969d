#pragma once
// The concurrency settings a result must not depend on, for tests that run one scan under each.
#include <string>
#include <vector>

#include <fmt/format.h>

#include <maskscan/options.hpp>

namespace maskscan::test {

struct concurrency {
  bool serial = false;
  unsigned workers = 1;
  io_backend io = io_backend::threads;
  unsigned queue_depth = 128;
  decoder_kind decoder = decoder_kind::automatic;
  std::string describe() const {
    return fmt::format("serial={} workers={} io={} queue_depth={} decoder={}", serial, workers, to_string(io),
                       queue_depth, to_string(decoder));
  }
};

/// Serial (both decoders), then every combination of `workers`, io threads/auto, queue depth 1/16
/// and decoder auto/spng.
inline std::vector<concurrency> concurrency_settings(const std::vector<unsigned>& workers) {
  std::vector<concurrency> out{{true, 1, io_backend::threads, 128, decoder_kind::automatic},
                               {true, 1, io_backend::threads, 128, decoder_kind::spng}};
  for (unsigned w : workers)
    for (io_backend io : {io_backend::threads, io_backend::automatic})
      for (unsigned queue_depth : {1u, 16u})
        for (decoder_kind decoder : {decoder_kind::automatic, decoder_kind::spng})
          out.push_back({false, w, io, queue_depth, decoder});
  return out;
}

/// `o` with the concurrency setting `c`.
inline scan_options with(scan_options o, const concurrency& c) {
  o.serial = c.serial;
  o.workers = c.workers;
  o.io = c.io;
  o.queue_depth = c.queue_depth;
  o.decoder = c.decoder;
  return o;
}

}  // namespace maskscan::test
