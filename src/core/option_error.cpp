#include <maskscan/option_error.hpp>

#include <algorithm>

namespace maskscan {

namespace {
std::string render(const std::vector<option_error::part>& parts,
                   const std::function<std::string(std::string_view)>* called) {
  std::string out;
  for (const auto& p : parts) switch (p.what) {
      case option_error::part::kind::text: out += p.text; break;
      case option_error::part::kind::name: out += called ? (*called)(p.text) : p.text; break;
      case option_error::part::kind::mention:
        if (called) out += " (" + (*called)(p.text) + ")";
        break;
    }
  return out;
}
}  // namespace

option_error::option_error(std::vector<part> parts)
    : std::invalid_argument(render(parts, nullptr)), parts_(std::move(parts)) {
  const auto named = std::ranges::find_if(parts_, [](const part& p) { return p.what != part::kind::text; });
  if (named != parts_.end()) option_ = named->text;
}

std::vector<std::string> option_error::options() const {
  std::vector<std::string> out;
  for (const auto& p : parts_)
    if (p.what != part::kind::text) out.push_back(p.text);
  return out;
}

std::string option_error::message(const std::function<std::string(std::string_view)>& called) const {
  return render(parts_, &called);
}

}  // namespace maskscan
