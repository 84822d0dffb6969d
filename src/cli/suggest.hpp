#pragma once
// "did you mean --labels?" for a command line CLI11 could not parse: the nearest valid flag or
// subcommand to a misspelt one.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace maskscan::cli {

/// The fewest single-character insertions, deletions, substitutions and swaps of two adjacent
/// characters that turn `a` into `b` (Damerau-Levenshtein in its optimal-string-alignment form:
/// no part of the string is edited twice, so "ca" -> "abc" is 3, not 2).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate `typed` most likely stands for, or nothing when none is close. Leading dashes are
/// left out of the comparison on both sides ("-labels" finds "--labels"); the candidate is returned
/// as spelt in `candidates`. Close means an edit distance of at most a third of the typed name's
/// length, but at least 1 and at most 2: one slip in "scna" or "--ot", two in "--efective-uint"; a
/// one-letter name only matches exactly, since every other letter is one edit away. Ties go to the
/// earlier candidate.
std::optional<std::string> closest_match(std::string_view typed, const std::vector<std::string>& candidates);

/// After `app.parse` threw: "unknown option --lables; did you mean --labels?" for the first
/// option-like argument (or its `--name` part of `--name=value`) that neither the app nor its
/// parsed subcommand took, compared with that (sub)command's own flags; or "unknown subcommand
/// scna; did you mean scan?" for a first argument that names no subcommand. Nothing when every
/// argument was taken (the error is about something else, e.g. a bad value).
std::optional<std::string> unknown_argument_message(const CLI::App& app);

}  // namespace maskscan::cli
