#pragma once
// How much of a file source is in the page cache (mincore), to tell warm reads from cold ones.
#include <optional>

#include <maskscan/source.hpp>

namespace maskscan::detail {

/// The fraction of the bytes of `source`'s files that are in the page cache now (files that cannot
/// be opened or mapped count as not cached). nullopt when the source is not of files or holds no bytes.
std::optional<double> cached_fraction(const frame_source& source);

}  // namespace maskscan::detail
