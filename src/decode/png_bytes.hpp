#pragma once
// Small pieces both decoders use on raw PNG bytes.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#include <libdeflate.h>

namespace maskscan::detail {

/// The big-endian 32-bit value at p (PNG's byte order for lengths, CRCs and sizes).
inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
inline std::uint32_t load_be32(const std::byte* p) noexcept {
  return load_be32(reinterpret_cast<const std::uint8_t*>(p));
}

/// This thread's libdeflate decompressor: made on first use, freed when the thread ends.
inline libdeflate_decompressor& thread_inflater() {
  struct deleter {
    void operator()(libdeflate_decompressor* d) const noexcept { libdeflate_free_decompressor(d); }
  };
  thread_local std::unique_ptr<libdeflate_decompressor, deleter> inflater{libdeflate_alloc_decompressor()};
  if (!inflater) throw std::bad_alloc();
  return *inflater;
}

}  // namespace maskscan::detail
