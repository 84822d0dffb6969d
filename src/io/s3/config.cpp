#include "io/s3/config.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include <maskscan/text.hpp>

namespace maskscan::detail::s3 {
namespace {

std::string trimmed(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return std::string(s.substr(first, last - first + 1));
}

/// The sections of an INI file as the AWS CLI writes them: [name] then "key = value" lines; '#'
/// and ';' start comments. A missing file is an empty map.
using ini = std::map<std::string, std::map<std::string, std::string>>;
ini read_ini(const std::filesystem::path& file) {
  ini sections;
  std::ifstream in(file);
  std::string line, section;
  bool in_section = false;
  while (std::getline(in, line)) {
    const std::string text = trimmed(line);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    if (text.front() == '[' && text.back() == ']') {
      section = trimmed(std::string_view(text).substr(1, text.size() - 2));
      in_section = true;
      sections[section];
      continue;
    }
    const auto eq = text.find('=');
    if (!in_section || eq == std::string::npos) continue;
    sections[section][trimmed(std::string_view(text).substr(0, eq))] = trimmed(std::string_view(text).substr(eq + 1));
  }
  return sections;
}

std::string value_of(const environment& env, const char* name) {
  const char* v = env(name);
  return v ? std::string(v) : std::string();
}

std::filesystem::path aws_file(const environment& env, const char* variable, const char* name) {
  if (auto set = value_of(env, variable); !set.empty()) return set;
  const auto home = value_of(env, "HOME");
  return home.empty() ? std::filesystem::path() : std::filesystem::path(home) / ".aws" / name;
}

/// The keys of `section`, if it has both halves of a key.
std::optional<credentials> key_in(const ini& file, const std::string& section) {
  const auto it = file.find(section);
  if (it == file.end()) return std::nullopt;
  const auto& keys = it->second;
  const auto id = keys.find("aws_access_key_id");
  const auto secret = keys.find("aws_secret_access_key");
  if (id == keys.end() || secret == keys.end() || id->second.empty() || secret->second.empty()) return std::nullopt;
  credentials key{id->second, secret->second, {}};
  if (const auto token = keys.find("aws_session_token"); token != keys.end()) key.session_token = token->second;
  return key;
}

bool valid_bucket(std::string_view bucket) {
  if (bucket.empty() || bucket.size() > 255) return false;  // AWS: 3 to 63; other servers differ
  return std::ranges::all_of(bucket, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == '_';
  });
}

}  // namespace

location parse_url(std::string_view url) {
  constexpr std::string_view scheme = "s3://";
  if (!url.starts_with(scheme))
    throw std::invalid_argument(fmt::format("{}: not an S3 URL (s3://bucket/prefix/)", printable_name(url)));
  const auto rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  location out{std::string(rest.substr(0, slash)),
               slash == std::string_view::npos ? "" : std::string(rest.substr(slash + 1))};
  if (!valid_bucket(out.bucket))
    throw std::invalid_argument(
        fmt::format("{}: '{}' is not a bucket name (letters, digits, '.', '-' or '_'); the URL is s3://bucket/prefix/",
                    printable_name(url), printable_name(out.bucket)));
  if (out.prefix.starts_with('/'))
    throw std::invalid_argument(
        fmt::format("{}: the prefix starts with '/' (s3://bucket//...): keys do not", printable_name(url)));
  return out;
}

connection resolve(const s3_options& options, const environment& env) {
  connection c;
  if (options.retries > max_s3_retries)
    throw std::invalid_argument(fmt::format("S3 retries: {} is more than {}", options.retries, max_s3_retries));
  if (options.timeout_seconds < 1 || options.timeout_seconds > 3600)
    throw std::invalid_argument(fmt::format("S3 timeout: {} s is not within 1 to 3600", options.timeout_seconds));
  c.retries = options.retries;
  c.timeout_seconds = options.timeout_seconds;

  // As botocore: keys in the environment win over AWS_PROFILE; a profile the command names wins over both.
  std::string profile = options.profile.empty() ? value_of(env, "AWS_PROFILE") : options.profile;
  const bool profile_named = !profile.empty();
  const bool profile_given = !options.profile.empty();
  if (profile.empty()) profile = "default";
  const auto credentials_file = aws_file(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
  const auto config_file = aws_file(env, "AWS_CONFIG_FILE", "config");
  const ini config = config_file.empty() ? ini{} : read_ini(config_file);
  const std::string config_section = profile == "default" ? profile : "profile " + profile;
  const auto config_value = [&](const char* key) {
    const auto s = config.find(config_section);
    if (s == config.end()) return std::string();
    const auto v = s->second.find(key);
    return v == s->second.end() ? std::string() : v->second;
  };

  c.region = options.region;
  if (c.region.empty()) c.region = value_of(env, "AWS_REGION");
  if (c.region.empty()) c.region = value_of(env, "AWS_DEFAULT_REGION");
  if (c.region.empty()) c.region = config_value("region");
  if (c.region.empty()) c.region = "us-east-1";

  std::string endpoint = options.endpoint_url;
  if (endpoint.empty()) endpoint = value_of(env, "AWS_ENDPOINT_URL_S3");
  if (endpoint.empty()) endpoint = value_of(env, "AWS_ENDPOINT_URL");
  const bool custom_endpoint = !endpoint.empty();
  if (!custom_endpoint) endpoint = fmt::format("https://s3.{}.amazonaws.com", c.region);
  const auto colon = endpoint.find("://");
  if (colon == std::string::npos)
    throw std::invalid_argument(
        fmt::format("endpoint URL {}: no scheme (http:// or https://)", printable_name(endpoint)));
  c.scheme = endpoint.substr(0, colon);
  std::ranges::transform(c.scheme, c.scheme.begin(),
                         [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (c.scheme != "http" && c.scheme != "https")
    throw std::invalid_argument(
        fmt::format("endpoint URL {}: the scheme must be http or https", printable_name(endpoint)));
  c.authority = endpoint.substr(colon + 3);
  while (c.authority.ends_with('/')) c.authority.pop_back();
  if (c.authority.empty() || c.authority.find_first_of("/?#@ ") != std::string::npos)
    throw std::invalid_argument(
        fmt::format("endpoint URL {}: give the server only, as scheme://host[:port] (no path, query or user)",
                    printable_name(endpoint)));
  // A default port is not part of the Host header curl sends, so it is not signed either.
  if (c.scheme == "https" && c.authority.ends_with(":443")) c.authority.resize(c.authority.size() - 4);
  if (c.scheme == "http" && c.authority.ends_with(":80")) c.authority.resize(c.authority.size() - 3);
  c.path_style =
      options.addressing == s3_addressing::path || (options.addressing == s3_addressing::automatic && custom_endpoint);

  if (!options.sign) return c;
  const ini creds = credentials_file.empty() ? ini{} : read_ini(credentials_file);
  if (!profile_given) {
    const auto id = value_of(env, "AWS_ACCESS_KEY_ID");
    const auto secret = value_of(env, "AWS_SECRET_ACCESS_KEY");
    if (!id.empty() || !secret.empty()) {
      if (id.empty() || secret.empty())
        throw std::runtime_error(fmt::format("S3 credentials: {} is set but {} is not",
                                             id.empty() ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID",
                                             id.empty() ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY"));
      c.key = credentials{id, secret, value_of(env, "AWS_SESSION_TOKEN")};
      c.key_source = "the environment (AWS_ACCESS_KEY_ID)";
      return c;
    }
  }
  if (auto key = key_in(creds, profile)) {
    c.key = std::move(key);
    c.key_source = fmt::format("profile '{}' of {}", profile, credentials_file.string());
    return c;
  }
  if (auto key = key_in(config, config_section)) {
    c.key = std::move(key);
    c.key_source = fmt::format("profile '{}' of {}", profile, config_file.string());
    return c;
  }
  if (profile_named)
    throw std::runtime_error(
        fmt::format("S3 credentials: profile '{}' has no aws_access_key_id and "
                    "aws_secret_access_key in {} or {}",
                    profile, credentials_file.string(), config_file.string()));
  throw std::runtime_error(fmt::format(
      "S3 credentials: none found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (or --profile) "
      "naming a profile of {}; for a public bucket, --no-sign-request (keys of instance roles, SSO and "
      "credential_process are not read: export them, e.g. eval \"$(aws configure export-credentials --format env)\")",
      credentials_file.empty() ? std::string("~/.aws/credentials") : credentials_file.string()));
}

}  // namespace maskscan::detail::s3
