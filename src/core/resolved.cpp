#include <maskscan/resolved.hpp>

namespace maskscan {

resolved_scan::resolved_scan(scan_options resolved)
    : options_(std::move(resolved)), grouper_(options_), meaning_(meaning_of(options_, grouper_)) {}

std::shared_ptr<const resolved_scan> detail_share_resolved(scan_options resolved) {
  return std::shared_ptr<const resolved_scan>(new resolved_scan(std::move(resolved)));
}

std::shared_ptr<const resolved_scan> resolve(scan_options options) {
  return detail_share_resolved(resolve_defaults(std::move(options)));
}

void validate(const scan_options& options) { (void)resolve_defaults(options); }

}  // namespace maskscan
