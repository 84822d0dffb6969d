#pragma once
// An allocator for large, randomly updated arrays (the heatmap difference arrays): 2 MiB-aligned
// and advised to use transparent huge pages, so scattered updates over ~50 MB do not each pay a
// TLB miss. Falls back silently to normal pages where the kernel says no.
#include <cstddef>
#include <cstdlib>
#include <new>

#include <sys/mman.h>

namespace maskscan::detail {

template <class T>
struct huge_page_allocator {
  using value_type = T;
  static constexpr std::size_t huge_page = std::size_t{2} << 20;

  huge_page_allocator() = default;
  template <class U>
  huge_page_allocator(const huge_page_allocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    const std::size_t bytes = (n * sizeof(T) + huge_page - 1) / huge_page * huge_page;
    void* p = std::aligned_alloc(huge_page, bytes);
    if (!p) throw std::bad_alloc();
    ::madvise(p, bytes, MADV_HUGEPAGE);  // advice only: failure just means normal pages
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) noexcept { std::free(p); }

  template <class U>
  bool operator==(const huge_page_allocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace maskscan::detail
