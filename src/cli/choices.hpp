#pragma once
// Flags whose value is one of a few words, each naming an enum value (--io uring, --colormap magma).
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

namespace maskscan::cli {

namespace detail {
/// `words` (lower case), each paired with the text CLI11 reads into the enum: its underlying integer.
CLI::Validator word_choices(std::vector<std::pair<std::string, std::string>> words);
}  // namespace detail

/// The transform of a flag whose value is one of `words`, in any case. The help shows the words,
/// {auto,threads,uring}, where CLI::CheckedTransformer shows its mapping to numbers; a value that is
/// none of them is refused with the words (and the nearest one, if it is close). Only the words
/// are accepted, not the numbers behind them.
template <class Enum>
CLI::Validator choices(const std::map<std::string, Enum>& words) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& [word, value] : words) pairs.emplace_back(word, std::to_string(static_cast<long long>(value)));
  return detail::word_choices(std::move(pairs));
}

}  // namespace maskscan::cli
