#include "cli/suggest.hpp"

#include <algorithm>

#include <CLI/CLI.hpp>

namespace maskscan::cli {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rows of the dynamic-programming table: a swap looks two rows back.
  std::vector<std::size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + substitution});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        current[j] = std::min(current[j], before[j - 2] + 1);
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

namespace {

std::string_view without_dashes(std::string_view name) {
  return name.substr(std::min(name.find_first_not_of('-'), name.size()));
}

bool option_like(const std::string& arg) { return arg.size() > 1 && arg.front() == '-'; }

/// Every spelling of `app`'s own flags, in the order they were added: -h, --help, --out, ...
std::vector<std::string> flag_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const auto* option : app.get_options()) {
    for (const auto& s : option->get_snames()) names.push_back("-" + s);
    for (const auto& l : option->get_lnames()) names.push_back("--" + l);
  }
  return names;
}

std::string unknown(std::string_view what, const std::string& name, const std::vector<std::string>& candidates) {
  std::string message = std::string("unknown ").append(what).append(" ").append(name);
  if (const auto match = closest_match(name, candidates)) message += "; did you mean " + *match + "?";
  return message;
}

std::string unknown_option(const std::string& arg, const CLI::App& app) {
  return unknown("option", arg.substr(0, arg.find('=')), flag_names(app));
}

}  // namespace

std::optional<std::string> closest_match(std::string_view typed, const std::vector<std::string>& candidates) {
  const auto name = without_dashes(typed);
  const std::size_t limit = name.size() < 2 ? 0 : std::clamp<std::size_t>(name.size() / 3, 1, 2);
  std::optional<std::string> best;
  std::size_t best_distance = limit + 1;
  for (const auto& candidate : candidates) {
    const auto distance = edit_distance(name, without_dashes(candidate));
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::optional<std::string> unknown_argument_message(const CLI::App& app) {
  // CLI11 keeps what an app did not take in remaining(), in command-line order, whatever error it
  // threw; after "--" everything is a positional.
  const auto parsed = app.get_subcommands();
  for (const auto& arg : app.remaining()) {
    if (arg == "--") break;
    if (option_like(arg)) return unknown_option(arg, app);
    if (parsed.empty()) {
      std::vector<std::string> names;
      for (const auto* sub : app.get_subcommands([](const CLI::App* s) { return !s->get_name().empty(); }))
        names.push_back(sub->get_name());
      return unknown("subcommand", arg, names);
    }
  }
  for (const auto* sub : parsed)
    for (const auto& arg : sub->remaining()) {
      if (arg == "--") break;
      if (option_like(arg)) return unknown_option(arg, *sub);
    }
  return std::nullopt;
}

}  // namespace maskscan::cli
