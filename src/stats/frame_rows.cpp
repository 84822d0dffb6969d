// frame_rows: rows in memory up to a bound, beyond it in sorted runs in unnamed temporary files,
// read back by merging the runs and memory in order.
//
// A run is a file of records, each u32 length (of what follows the class count), u32 class count,
// then the row as a state file holds it (detail::put_row), in canonical order.
#include <maskscan/frame_rows.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include <maskscan/stats.hpp>

#include "stats/row_codec.hpp"

namespace maskscan {

namespace {
/// The heap block behind a string or vector of `bytes` bytes (0: none), with malloc's header.
std::size_t heap(std::size_t bytes) noexcept { return bytes ? bytes + 16 : 0; }
std::size_t heap_of(const std::string& s) noexcept {
  return s.capacity() > std::string().capacity() ? heap(s.capacity() + 1) : 0;
}
template <class T>
std::size_t heap_of(const std::vector<T>& v) noexcept {
  return heap(v.capacity() * sizeof(T));
}

std::filesystem::path spill_directory(const row_spill& spill) {
  if (!spill.directory.empty()) return spill.directory;
  std::error_code ec;
  auto dir = std::filesystem::temp_directory_path(ec);
  return ec ? std::filesystem::path("/tmp") : dir;
}

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& dir, int error) {
  throw std::runtime_error(fmt::format("{} {}: {}", what, dir.string(), std::strerror(error)));
}

/// A file without a name in `dir`: O_TMPFILE, else a name removed at once.
int unnamed_file(const std::filesystem::path& dir) {
  const char* what = "cannot make a file for the frame rows beyond the memory bound in";
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) fail(what, dir, errno);
  std::string name = (dir / "maskscan-rows-XXXXXX").string();
  fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) fail(what, dir, errno);
  ::unlink(name.c_str());
  return fd;
}
}  // namespace

std::size_t row_bytes(const frame_row& row) noexcept {
  return sizeof(frame_row) + heap_of(row.path) + heap_of(row.group) + heap_of(row.class_pixels) + heap_of(row.ignored) +
         heap_of(row.out_of_range) + heap_of(row.unknown_colours) + heap_of(row.instances);
}

/// One sorted run of rows on disk.
struct frame_rows::run {
  run(int file, std::filesystem::path dir, std::uint64_t size) : fd(file), directory(std::move(dir)), bytes(size) {}
  run(const run&) = delete;
  run& operator=(const run&) = delete;
  ~run() { ::close(fd); }
  int fd;
  std::filesystem::path directory;  ///< where it is, for errors
  std::uint64_t bytes;
  unsigned level = 0;  ///< 0: rows from memory; k + 1: runs of level k merged
};

/// The rows of a set, in canonical order: those in memory and those of each run, merged.
class frame_row_reader {
 public:
  frame_row_reader(const std::vector<frame_row>& memory, bool sorted,
                   const std::vector<std::shared_ptr<const frame_rows::run>>& runs) {
    memory_.reserve(memory.size());
    for (const auto& row : memory) memory_.push_back(&row);
    if (!sorted) std::ranges::sort(memory_, [](const frame_row* a, const frame_row* b) { return *a < *b; });
    for (const auto& r : runs) runs_.push_back(run_cursor{r, "the frame rows written to " + r->directory.string()});
    for (auto& r : runs_) read_next(r);
    pick();
  }
  bool done() const noexcept { return current_ == nullptr; }
  const frame_row& row() const noexcept { return *current_; }
  void next() {
    previous_ = current_->path;
    if (from_ == runs_.size())
      ++next_memory_;
    else
      read_next(runs_[from_]);
    pick();
    if (current_ && current_->path == previous_) throw duplicate_frame(previous_);
  }

 private:
  struct run_cursor {
    std::shared_ptr<const frame_rows::run> file;
    std::string name;          ///< of the bytes, in errors
    std::uint64_t offset = 0;  ///< in the file, of buffer's end
    std::vector<char> buffer;
    std::size_t begin = 0, end = 0;  ///< unread bytes of buffer
    frame_row row;
    bool has_row = false;
  };

  /// At least `n` unread bytes in r's buffer (fewer only at the end of the file).
  static void fill(run_cursor& r, std::size_t n) {
    if (r.end - r.begin >= n) return;
    if (r.begin > 0) std::memmove(r.buffer.data(), r.buffer.data() + r.begin, r.end - r.begin);
    r.end -= r.begin;
    r.begin = 0;
    if (r.buffer.size() < std::max<std::size_t>(n, 1 << 16)) r.buffer.resize(std::max<std::size_t>(n, 1 << 16));
    while (r.end < n && r.offset < r.file->bytes) {
      const auto got =
          ::pread(r.file->fd, r.buffer.data() + r.end, r.buffer.size() - r.end, static_cast<off_t>(r.offset));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) fail("cannot read the frame rows written to", r.file->directory, got < 0 ? errno : EIO);
      r.end += static_cast<std::size_t>(got);
      r.offset += static_cast<std::uint64_t>(got);
    }
  }

  static void read_next(run_cursor& r) {
    fill(r, 8);
    r.has_row = r.end - r.begin >= 8;
    if (!r.has_row) {
      if (r.end > r.begin) throw std::runtime_error(r.name + ": truncated");
      return;
    }
    std::uint32_t length, classes;
    std::memcpy(&length, r.buffer.data() + r.begin, 4);
    std::memcpy(&classes, r.buffer.data() + r.begin + 4, 4);
    fill(r, 8 + std::size_t{length});
    if (r.end - r.begin < 8 + std::size_t{length}) throw std::runtime_error(r.name + ": truncated");
    detail::reader in(r.buffer.data() + r.begin + 8, length, r.name);
    detail::get_row(in, r.row, classes);
    if (!in.done()) throw std::runtime_error(r.name + ": a row longer than it reads");
    r.begin += 8 + std::size_t{length};
  }

  /// The smallest row of all sources next.
  void pick() {
    current_ = next_memory_ < memory_.size() ? memory_[next_memory_] : nullptr;
    from_ = runs_.size();
    for (std::size_t i = 0; i < runs_.size(); ++i)
      if (runs_[i].has_row && (!current_ || runs_[i].row < *current_)) {
        current_ = &runs_[i].row;
        from_ = i;
      }
  }

  std::vector<const frame_row*> memory_;
  std::size_t next_memory_ = 0;
  std::vector<run_cursor> runs_;
  const frame_row* current_ = nullptr;
  std::size_t from_ = 0;  ///< the run current_ is from; runs_.size(): memory
  std::string previous_;
};

frame_rows::frame_rows(frame_rows&& other) noexcept { *this = std::move(other); }

frame_rows& frame_rows::operator=(frame_rows&& other) noexcept {
  if (this != &other) {
    memory_ = std::move(other.memory_);
    bytes_ = std::exchange(other.bytes_, 0);
    stale_bytes_ = std::exchange(other.stale_bytes_, false);
    sorted_ = std::exchange(other.sorted_, true);
    runs_ = std::move(other.runs_);
    on_disk_ = std::exchange(other.on_disk_, 0);
    spill_ = std::exchange(other.spill_, {});
    other.memory_.clear();
    other.runs_.clear();
  }
  return *this;
}

void frame_rows::count() {
  recount();
  sorted_ = false;
}

void frame_rows::recount() noexcept {
  bytes_ = 0;
  for (const auto& row : memory_) bytes_ += row_bytes(row);
  stale_bytes_ = false;
}

void check_spill_directory(const row_spill& spill) {
  if (spill.max_bytes) ::close(unnamed_file(spill_directory(spill)));
}

void frame_rows::spill_beyond(row_spill spill) {
  spill_ = std::move(spill);
  if (stale_bytes_) recount();
  if (spill_.max_bytes && bytes_ > spill_.max_bytes) spill_memory();
}

namespace {
/// Runs of one level merged into one of the next when there are this many: a few open files and
/// rows to compare for each row read however small the bound is (a bound of one row makes a run a
/// row), and each row rewritten about log8(rows / rows a run) times, as in a log-structured merge.
constexpr std::size_t runs_a_level = 8;

/// Writes rows to an unnamed file in `dir`, each as the file comment says.
class run_writer {
 public:
  explicit run_writer(std::filesystem::path dir)
      : dir_(std::move(dir)), file_(std::make_shared<frame_rows::run>(unnamed_file(dir_), dir_, 0)) {}
  void add(const frame_row& row) {
    const auto at = buffer_.size();
    buffer_.append(8, '\0');
    detail::writer w(buffer_);
    detail::put_row(w, row);
    const auto length = static_cast<std::uint32_t>(buffer_.size() - at - 8);
    const auto classes = static_cast<std::uint32_t>(row.class_pixels.size());
    std::memcpy(buffer_.data() + at, &length, 4);
    std::memcpy(buffer_.data() + at + 4, &classes, 4);
    if (buffer_.size() >= (1 << 20)) flush();
  }
  std::shared_ptr<frame_rows::run> finish() {
    flush();
    return std::move(file_);
  }

 private:
  void flush() {
    for (std::size_t done = 0; done < buffer_.size();) {
      const auto n = ::write(file_->fd, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("cannot write the frame rows beyond the memory bound to", dir_, errno);
      done += static_cast<std::size_t>(n);
    }
    file_->bytes += buffer_.size();
    buffer_.clear();
  }
  std::filesystem::path dir_;
  std::shared_ptr<frame_rows::run> file_;  // closes the file on a throw
  std::string buffer_;
};
}  // namespace

void frame_rows::spill_memory() {
  if (memory_.empty()) return;
  sort();
  const auto dir = spill_directory(spill_);
  {
    run_writer out(dir);
    for (const auto& row : memory_) out.add(row);
    runs_.push_back(out.finish());
  }
  on_disk_ += memory_.size();
  memory_.clear();
  bytes_ = 0;
  stale_bytes_ = false;
  sorted_ = true;
  // A level that is full is merged into one run of the next, which may fill that one. runs_ is
  // replaced only once the merged run is whole: a merge that throws (a frame found twice, a full
  // disk) leaves every run as it was.
  for (unsigned level = 0;; ++level) {
    std::vector<std::shared_ptr<const run>> full, rest;
    for (const auto& r : runs_) (r->level == level ? full : rest).push_back(r);
    if (full.empty()) return;
    if (full.size() < runs_a_level) continue;
    run_writer out(dir);
    for (frame_row_reader in({}, true, full); !in.done(); in.next()) out.add(in.row());
    auto merged = out.finish();
    merged->level = level + 1;
    rest.push_back(std::move(merged));
    runs_ = std::move(rest);
  }
}

void frame_rows::push_back(frame_row row) {
  if (stale_bytes_) recount();
  bytes_ += row_bytes(row);
  memory_.push_back(std::move(row));
  sorted_ = false;
  if (spill_.max_bytes && bytes_ > spill_.max_bytes) spill_memory();
}

void frame_rows::reserve(std::size_t n) {
  if (spill_.max_bytes) n = std::min<std::uint64_t>(n, spill_.max_bytes / sizeof(frame_row) + 1);
  memory_.reserve(memory_.size() + n);
}

void frame_rows::clear() noexcept {
  memory_.clear();
  runs_.clear();
  on_disk_ = 0;
  bytes_ = 0;
  stale_bytes_ = false;
  sorted_ = true;
}

void frame_rows::sort() {
  if (!sorted_) std::ranges::sort(memory_);
  sorted_ = true;
}

void frame_rows::append(const frame_rows& more) {
  if (!spilled() && !more.spilled()) {
    auto& items = memory_;
    const auto middle = static_cast<std::ptrdiff_t>(items.size());
    // Merged in linear time when both are sorted, as normalize() leaves them (a sort per merge
    // made merging many states quadratic), else sorted.
    const bool sorted = std::ranges::is_sorted(items) && std::ranges::is_sorted(more.memory_);
    items.insert(items.end(), more.memory_.begin(), more.memory_.end());
    if (sorted)
      std::inplace_merge(items.begin(), items.begin() + middle, items.end());
    else
      std::ranges::sort(items);
    sorted_ = true;
    if (stale_bytes_)
      recount();  // the rows just added with the others
    else
      for (const auto& row : more.memory_) bytes_ += row_bytes(row);
    if (spill_.max_bytes && bytes_ > spill_.max_bytes) spill_memory();
    return;
  }
  for (const auto& row : more) push_back(row);
  sort();
}

frame_rows::const_iterator frame_rows::begin() const {
  const_iterator it;
  if (spilled()) {
    it.reader_ = std::make_shared<frame_row_reader>(memory_, sorted_, runs_);
    if (it.reader_->done()) it.reader_.reset();
  } else {
    it.at_ = memory_.data();
  }
  return it;
}

frame_rows::const_iterator frame_rows::end() const {
  const_iterator it;
  if (!spilled()) it.at_ = memory_.data() + memory_.size();
  return it;
}

const frame_row& frame_rows::const_iterator::operator*() const { return reader_ ? reader_->row() : *at_; }

frame_rows::const_iterator& frame_rows::const_iterator::operator++() {
  if (!reader_) {
    ++at_;
    return *this;
  }
  reader_->next();
  if (reader_->done()) reader_.reset();  // equal to end()
  return *this;
}

bool operator==(const frame_rows::const_iterator& a, const frame_rows::const_iterator& b) noexcept {
  return a.reader_ == b.reader_ && a.at_ == b.at_;
}

std::vector<frame_row>& frame_rows::in_memory() {
  if (spilled())
    throw std::logic_error("frame_rows: random access to rows that are partly on disk; read them in order instead");
  sorted_ = false;  // the caller may change them
  stale_bytes_ = true;
  return memory_;
}

const std::vector<frame_row>& frame_rows::in_memory() const {
  if (spilled())
    throw std::logic_error("frame_rows: random access to rows that are partly on disk; read them in order instead");
  return memory_;
}

void frame_rows::pop_back() {
  in_memory().pop_back();
  count();
}

void frame_rows::resize(std::size_t n) {
  in_memory().resize(n);
  count();
}

std::vector<frame_row> frame_rows::to_vector() const {
  if (!spilled()) return memory_;
  std::vector<frame_row> out;
  out.reserve(size());
  for (const auto& row : *this) out.push_back(row);
  return out;
}

bool operator==(const frame_rows& a, const frame_rows& b) {
  if (a.size() != b.size()) return false;
  if (!a.spilled() && !b.spilled()) return a.memory_ == b.memory_;
  auto j = b.begin();
  for (const auto& row : a) {
    if (!(row == *j)) return false;
    ++j;
  }
  return true;
}

}  // namespace maskscan
