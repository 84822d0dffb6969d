#pragma once
// resolved_scan: a scan's options resolved once (defaults, class map, checks), with what is derived
// from them (the grouper with its compiled expression and hashed split lists, the meaning of the
// statistics), immutable and shared by every stage of the scan instead of rebuilt by each.
#include <memory>

#include <maskscan/grouping.hpp>
#include <maskscan/meaning.hpp>
#include <maskscan/options.hpp>

namespace maskscan {

class resolved_scan;

/// resolve_defaults(options), its frame_grouper and its meaning, each made once. Throws as
/// resolve_defaults: option_error (a std::invalid_argument) naming the option by its library name.
std::shared_ptr<const resolved_scan> resolve(scan_options options);

/// Throws as resolve_defaults for options no scan can use; returns if a scan can use them.
void validate(const scan_options& options);

/// The meaning of a scan with these (resolved) options grouped by `grouper` (their own grouper):
/// meaning_of(options) without building the grouper again.
scan_meaning meaning_of(const scan_options& options, const frame_grouper& grouper);

class resolved_scan {
 public:
  /// The options with their defaults resolved (resolve_defaults).
  const scan_options& options() const noexcept { return options_; }
  /// What the scan's statistics mean (meaning_of).
  const scan_meaning& meaning() const noexcept { return meaning_; }
  /// The grouping of the frames (group_of is thread-safe).
  const frame_grouper& grouper() const noexcept { return grouper_; }

 private:
  friend std::shared_ptr<const resolved_scan> resolve(scan_options options);
  friend std::shared_ptr<const resolved_scan> detail_share_resolved(scan_options resolved);
  explicit resolved_scan(scan_options resolved);
  scan_options options_;
  frame_grouper grouper_;
  scan_meaning meaning_;
};

/// Internal: options that resolve_defaults already returned, shared as a resolved_scan without
/// resolving them again.
std::shared_ptr<const resolved_scan> detail_share_resolved(scan_options resolved);

}  // namespace maskscan
