#include <maskscan/class_map.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <boost/json.hpp>
#include <fmt/format.h>

namespace maskscan {

std::vector<std::string> woodscape_class_names() {
  return {"void",    "road",     "lanemarks", "curb",       "person",
          "rider",   "vehicles", "bicycle",   "motorcycle", "traffic_sign"};
}

std::vector<std::string> numbered_class_names(std::uint32_t n) {
  std::vector<std::string> names;
  names.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) names.push_back(fmt::format("class_{}", i));
  return names;
}

namespace {
std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}
}  // namespace

std::vector<std::string> load_class_names(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open the class-names file", file.string()));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();

  std::vector<std::string> names;
  if (trim(text).starts_with('[')) {
    boost::system::error_code ec;
    const auto value = boost::json::parse(text, ec);
    if (ec || !value.is_array())
      throw std::runtime_error(fmt::format("{}: not a JSON array of class names ({})", file.string(),
                                           ec ? ec.message() : "not an array"));
    for (const auto& element : value.as_array()) {
      if (!element.is_string())
        throw std::runtime_error(
            fmt::format("{}: element {} of the JSON array is not a string", file.string(), names.size()));
      names.emplace_back(element.as_string());
    }
  } else {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      line = trim(line);
      if (line.empty() || line.starts_with('#')) continue;
      names.push_back(line);
    }
  }
  if (names.empty()) throw std::runtime_error(fmt::format("{}: no class names in the file", file.string()));
  return names;
}

}  // namespace maskscan
