#pragma once
// The library names options by their field names (option_error); the CLI by its flags.
#include <exception>
#include <string>
#include <string_view>

namespace maskscan::cli {

/// The flag of a library option: "--" + the name with '-' for '_' ("io_depth": "--io-depth"), and
/// "--split" for "splits", "--strict" for "stop_on_error".
std::string flag_of(std::string_view option);

/// The message of `e` as the CLI prints it: an option_error's options called by their flags.
std::string message_of(const std::exception& e);

}  // namespace maskscan::cli
