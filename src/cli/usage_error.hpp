#pragma once
// The command line is wrong (a bad flag value, an unknown class map, a bad --split list): main()
// prints the message and exits with status 2, as for flags CLI11 itself refuses.
#include <stdexcept>

namespace maskscan::cli {

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace maskscan::cli
