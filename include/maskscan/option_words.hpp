#pragma once
// The words that name the values of the options taking one of a few (io, decoder, effective_unit,
// colormap), as every front-end reads them: the CLI's `--io uring`, Python's `io="uring"`, the
// service's `"io": "uring"`. One definition; to_string gives the same word back.
#include <map>
#include <string>

#include <maskscan/balance.hpp>
#include <maskscan/options.hpp>
#include <maskscan/report.hpp>
#include <maskscan/s3.hpp>

namespace maskscan {

/// Each word (lower case) and the value it names, sorted by word.
template <class Enum>
const std::map<std::string, Enum>& option_words();

template <>
const std::map<std::string, io_backend>& option_words<io_backend>();  ///< auto, threads, uring (not store)
template <>
const std::map<std::string, decoder_kind>& option_words<decoder_kind>();  ///< auto, fast, spng
template <>
const std::map<std::string, effective_unit>& option_words<effective_unit>();  ///< frames, pixels
template <>
const std::map<std::string, heatmap_colormap>& option_words<heatmap_colormap>();  ///< magma, viridis
template <>
const std::map<std::string, s3_addressing>& option_words<s3_addressing>();  ///< auto, path, virtual

}  // namespace maskscan
