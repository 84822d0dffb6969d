#include "cli/option_flags.hpp"

#include <algorithm>

#include <maskscan/option_error.hpp>

namespace maskscan::cli {

std::string flag_of(std::string_view option) {
  if (option == "splits") return "--split";
  if (option == "stop_on_error") return "--strict";
  if (option == "class_names_file") return "--class-names";
  std::string flag = "--" + std::string(option);
  std::ranges::replace(flag, '_', '-');
  return flag;
}

std::string message_of(const std::exception& e) {
  if (const auto* o = dynamic_cast<const option_error*>(&e)) return o->message(flag_of);
  return e.what();
}

}  // namespace maskscan::cli
