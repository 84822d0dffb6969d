#pragma once
// option_error: an option no scan can use, its message built of parts so that each front-end names
// the options its own way (the library by their field names, `io_depth`; the CLI by its flags,
// `--io-depth`; a service by its JSON keys) without searching the text for words.
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace maskscan {

class option_error : public std::invalid_argument {
 public:
  /// One piece of a message.
  struct part {
    enum class kind {
      text,     ///< `text` as it is
      name,     ///< the option `text` by its name: "group_by", or by a front-end's name for it, "--group-by"
      mention,  ///< after words that name the option `text`: nothing, or " (" + a front-end's name + ")"
    };
    kind what = kind::text;
    std::string text;
  };
  static part text(std::string words) { return {part::kind::text, std::move(words)}; }
  static part name(std::string option) { return {part::kind::name, std::move(option)}; }
  static part mention(std::string option) { return {part::kind::mention, std::move(option)}; }

  /// what() is `parts` with every option named by its library name (scan_options' field name) and
  /// mentions left out. At least one part names or mentions an option.
  explicit option_error(std::vector<part> parts);

  /// The first option the message names or mentions (a field name of scan_options, e.g. "io_depth").
  const std::string& option() const noexcept { return option_; }
  /// The options the message names or mentions, in order.
  std::vector<std::string> options() const;
  /// The message with each option called `called(option)` instead: a name part becomes
  /// called(option), a mention " (" + called(option) + ")".
  std::string message(const std::function<std::string(std::string_view option)>& called) const;

 private:
  std::vector<part> parts_;
  std::string option_;
};

}  // namespace maskscan
