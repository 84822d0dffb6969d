#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "visual/html.hpp"

using namespace maskscan::detail;

namespace {
std::string b64(std::string_view s) {
  const std::vector<std::uint8_t> bytes(s.begin(), s.end());
  return base64(bytes);
}
}  // namespace

TEST_CASE("base64 gives RFC 4648's test vectors", "[html]") {
  CHECK(b64("") == "");
  CHECK(b64("f") == "Zg==");
  CHECK(b64("fo") == "Zm8=");
  CHECK(b64("foo") == "Zm9v");
  CHECK(b64("foob") == "Zm9vYg==");
  CHECK(b64("fooba") == "Zm9vYmE=");
  CHECK(b64("foobar") == "Zm9vYmFy");
  const std::vector<std::uint8_t> high{0xff, 0xfe, 0xfd, 0x00};
  CHECK(base64(high) == "//79AA==");  // python3 -c "import base64;print(base64.b64encode(b'\xff\xfe\xfd\x00'))"
  CHECK(data_uri("image/png", high) == "data:image/png;base64,//79AA==");
}

TEST_CASE("escape_html escapes the five special characters and nothing else", "[html]") {
  CHECK(escape_html("a<b>&\"c\"'d'") == "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;");
  CHECK(escape_html("traffic_sign 100%") == "traffic_sign 100%");
  CHECK(escape_html("\xc3\xa9t\xc3\xa9") == "\xc3\xa9t\xc3\xa9");  // UTF-8 passes through
}

TEST_CASE("digit_groups and css_colour", "[html]") {
  CHECK(digit_groups(0) == "0");
  CHECK(digit_groups(999) == "999");
  CHECK(digit_groups(1000) == "1,000");
  CHECK(digit_groups(1018859520) == "1,018,859,520");
  CHECK(css_colour({255, 0, 16}) == "#ff0010");
}
