#include <maskscan/option_words.hpp>

namespace maskscan {

template <>
const std::map<std::string, io_backend>& option_words<io_backend>() {
  static const std::map<std::string, io_backend> words{
      {"auto", io_backend::automatic}, {"uring", io_backend::uring}, {"threads", io_backend::threads}};
  return words;
}

template <>
const std::map<std::string, decoder_kind>& option_words<decoder_kind>() {
  static const std::map<std::string, decoder_kind> words{
      {"auto", decoder_kind::automatic}, {"spng", decoder_kind::spng}, {"fast", decoder_kind::fast}};
  return words;
}

template <>
const std::map<std::string, effective_unit>& option_words<effective_unit>() {
  static const std::map<std::string, effective_unit> words{{"frames", effective_unit::frames},
                                                           {"pixels", effective_unit::pixels}};
  return words;
}

template <>
const std::map<std::string, heatmap_colormap>& option_words<heatmap_colormap>() {
  static const std::map<std::string, heatmap_colormap> words{{"viridis", heatmap_colormap::viridis},
                                                             {"magma", heatmap_colormap::magma}};
  return words;
}

template <>
const std::map<std::string, s3_addressing>& option_words<s3_addressing>() {
  static const std::map<std::string, s3_addressing> words{
      {"auto", s3_addressing::automatic}, {"path", s3_addressing::path}, {"virtual", s3_addressing::virtual_host}};
  return words;
}

}  // namespace maskscan
