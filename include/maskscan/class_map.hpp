#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace maskscan {

/// WoodScape's 10 semantic classes, ids 0..9 (the default class list).
std::vector<std::string> woodscape_class_names();

/// Names class_0 .. class_{n-1}.
std::vector<std::string> numbered_class_names(std::uint32_t n);

/// Reads class names from a file: a JSON array of strings, or one name per line (blank lines
/// and lines starting with '#' are skipped). Line/element k names class id k.
/// Throws std::runtime_error naming the file and the cause when it cannot be read or parsed.
std::vector<std::string> load_class_names(const std::filesystem::path& file);

}  // namespace maskscan
