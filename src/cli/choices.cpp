#include "cli/choices.hpp"

#include <algorithm>
#include <cctype>

#include "cli/suggest.hpp"

namespace maskscan::cli::detail {

CLI::Validator word_choices(std::vector<std::pair<std::string, std::string>> words) {
  std::vector<std::string> names;
  for (const auto& w : words) names.push_back(w.first);
  const std::string listed = "{" + CLI::detail::join(names, ",") + "}";
  return CLI::Validator(
      [words = std::move(words), names, listed](std::string& input) {
        std::string lower = input;
        std::ranges::transform(lower, lower.begin(),
                               [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        const auto word = std::ranges::find(words, lower, &std::pair<std::string, std::string>::first);
        if (word != words.end()) {
          input = word->second;
          return std::string();
        }
        std::string error = input + " is not one of " + listed;
        if (const auto match = closest_match(lower, names)) error += "; did you mean " + *match + "?";
        return error;
      },
      listed);
}

}  // namespace maskscan::cli::detail
