#pragma once
// Large, randomly updated arrays (the heatmap difference arrays): fresh pages from the kernel,
// which are zero already (so making one costs no pass over it: with many groups, zeroing the sets
// twice, once by the kernel and once by a memset, was most of a scan's time), 2 MiB-aligned and
// advised to use transparent huge pages, so that scattered updates over ~50 MB do not each pay a
// TLB miss, and a set costs one page fault per 2 MiB. Falls back silently to normal pages where the
// kernel says no.
#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#include <sys/mman.h>

namespace maskscan::detail {

/// Advises the whole 2 MiB pages inside [p, p + bytes) to be transparent huge pages (advice only).
inline void advise_huge_pages(void* p, std::size_t bytes) noexcept {
  constexpr std::uintptr_t huge = std::uintptr_t{2} << 20;
  const auto begin = (reinterpret_cast<std::uintptr_t>(p) + huge - 1) / huge * huge;
  const auto end = (reinterpret_cast<std::uintptr_t>(p) + bytes) / huge * huge;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

/// Fills a new std::vector `v` with [first, last) (n values), on huge pages where the kernel gives
/// them: the buffer is reserved and advised before its first touch, so a copy of a 50 MB heatmap set
/// costs a page fault per 2 MiB, not per 4 KiB (each a trip to the hypervisor on a VM).
template <class Vector, class It>
void assign_on_huge_pages(Vector& v, It first, It last, std::size_t n) {
  v.reserve(n);
  advise_huge_pages(v.data(), n * sizeof(typename Vector::value_type));
  v.assign(first, last);
}

/// n zero values of T (trivial) on their own mapping.
template <class T>
class zeroed_array {
 public:
  static constexpr std::size_t huge_page = std::size_t{2} << 20;

  zeroed_array() = default;
  /// Throws std::bad_alloc if the pages cannot be mapped.
  explicit zeroed_array(std::size_t n) : size_(n) {
    if (n == 0) return;
    if (n > (SIZE_MAX - 2 * huge_page) / sizeof(T)) throw std::bad_alloc();
    // Whole 4 KiB pages: the last, partial huge page of the array stays on small pages rather than
    // be resident whole (at 64 groups that was 47 MB).
    bytes_ = (n * sizeof(T) + 4095) / 4096 * 4096;
    // Map a huge page more than needed, so that the array can start on a huge page, and give back
    // the unaligned head and the tail.
    void* raw = ::mmap(nullptr, bytes_ + huge_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    const auto start = reinterpret_cast<std::uintptr_t>(raw);
    const auto aligned = (start + huge_page - 1) / huge_page * huge_page;
    if (aligned > start) ::munmap(raw, aligned - start);
    if (const auto tail = start + bytes_ + huge_page - (aligned + bytes_))
      ::munmap(reinterpret_cast<void*>(aligned + bytes_), tail);
    data_ = reinterpret_cast<T*>(aligned);
    ::madvise(data_, bytes_, MADV_HUGEPAGE);
  }
  ~zeroed_array() {
    if (data_) ::munmap(data_, bytes_);
  }
  zeroed_array(zeroed_array&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)), bytes_(std::exchange(o.bytes_, 0)) {}
  zeroed_array& operator=(zeroed_array&& o) noexcept {
    zeroed_array gone(std::move(*this));
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    bytes_ = std::exchange(o.bytes_, 0);
    return *this;
  }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace maskscan::detail
