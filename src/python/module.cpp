// maskscan._core: the Python front-end's bindings (pybind11) over the public library API. Thin:
// options from keyword arguments, a scan running on a thread of its own (the caller's thread stays
// free to check for Ctrl-C and to report progress), and the results as numpy arrays that own the
// library's memory. The Pythonic surface is maskscan/__init__.py.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <maskscan/balance.hpp>
#include <maskscan/grouping.hpp>
#include <maskscan/merge.hpp>
#include <maskscan/option_error.hpp>
#include <maskscan/option_words.hpp>
#include <maskscan/output.hpp>
#include <maskscan/report.hpp>
#include <maskscan/scan.hpp>
#include <maskscan/tune.hpp>

namespace py = pybind11;
using namespace maskscan;

namespace {

/// A library option by its Python keyword: the CLI's flag without "--", '-' as '_'.
std::string keyword_of(std::string_view option) {
  if (option == "splits") return "split";
  if (option == "stop_on_error") return "strict";
  if (option == "class_names_file") return "class_names";
  if (option == "prefix") return "prefixes";
  return std::string(option);
}

std::string type_name(const py::handle& value) { return py::type::of(value).attr("__name__").cast<std::string>(); }

/// A keyword's value as T, or a TypeError naming the keyword and what it takes.
template <class T>
T value_of(const py::handle& value, const char* key, const char* expected) {
  if constexpr (std::is_same_v<T, bool>) {
    if (!py::isinstance<py::bool_>(value))
      throw py::type_error(fmt::format("{}: expected {}, got {}", key, expected, type_name(value)));
  }
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if (py::isinstance<py::bool_>(value) || !py::isinstance<py::int_>(value))
      throw py::type_error(fmt::format("{}: expected {}, got {}", key, expected, type_name(value)));
    const auto v = value.cast<py::int_>();
    if (py::int_(0) > v || v > py::int_(std::numeric_limits<T>::max()))
      throw py::value_error(fmt::format("{}: {} is out of range (0 to {})", key, py::str(value).cast<std::string>(),
                                        std::numeric_limits<T>::max()));
  }
  try {
    return value.cast<T>();
  } catch (const py::cast_error&) {
    throw py::type_error(fmt::format("{}: expected {}, got {}", key, expected, type_name(value)));
  }
}

bool is_path(const py::handle& value) {
  return py::isinstance<py::str>(value) || py::isinstance(value, py::module_::import("os").attr("PathLike"));
}

/// A keyword's value that names a file: a str or an os.PathLike, else a TypeError.
std::string path_of(const py::handle& value, const char* key) {
  if (!is_path(value))
    throw py::type_error(fmt::format("{}: expected a path (str or os.PathLike), got {}", key, type_name(value)));
  return py::module_::import("os").attr("fspath")(value).cast<std::string>();
}

/// A keyword's value as T, at least 1 (the CLI's flags of counts refuse 0 too).
template <class T>
T positive(const py::handle& value, const char* key) {
  const T v = value_of<T>(value, key, "an int >= 1");
  if (v == 0) throw py::value_error(fmt::format("{} 0: expected an int >= 1", key));
  return v;
}

template <class Enum>
Enum choice_of(const py::handle& value, const char* key) {
  const auto text = value_of<std::string>(value, key, "a string");
  std::string names;
  for (const auto& [name, e] : option_words<Enum>()) {
    if (text == name) return e;
    names += fmt::format("{}'{}'", names.empty() ? "" : ", ", name);
  }
  throw py::value_error(fmt::format("{} '{}': expected one of {}", key, text, names));
}

/// The balance options (weights, repeat factors) among `kw` over `b` (the keys not given keep its
/// values); the keys used are removed.
balance_options balance_from(py::dict& kw, balance_options b = {}) {
  if (kw.contains("enet_c")) b.enet_c = value_of<double>(kw.attr("pop")("enet_c"), "enet_c", "a number");
  if (kw.contains("effective_beta"))
    b.effective_beta = value_of<double>(kw.attr("pop")("effective_beta"), "effective_beta", "a number");
  if (kw.contains("effective_unit"))
    b.unit = choice_of<effective_unit>(kw.attr("pop")("effective_unit"), "effective_unit");
  if (kw.contains("repeat_threshold")) {
    const py::object t = kw.attr("pop")("repeat_threshold");
    if (!t.is_none()) b.repeat_threshold = value_of<double>(t, "repeat_threshold", "a number or None");
  }
  validate(b);
  return b;
}

/// StateMerger: the statistics merged so far, and how many parts.
struct state_merger {
  std::mutex mutex;  // add() runs without the GIL
  dataset_stats merged;
  std::size_t parts = 0;
};

/// What a scan is given: its source and options (resolved: every value checked), its balance options.
struct scan_request {
  frame_source source;
  scan_options options;
  balance_options balance;
  std::optional<resumed_scan> resumed;
  std::vector<std::string> left_out;  ///< directories of results left out of the listing (relative)
};

/// The request of `maskscan.scan(input, **kw)`. Every key is a keyword of the Python front-end,
/// named as the CLI's flag; an unknown one is a ValueError naming it.
scan_request request_from(const py::object& input, py::dict kw) {
  scan_options o;
  class_choice classes;
  std::string files_from, root, resume;
  std::string shard_text;  // "INDEX/COUNT" or "auto"
  std::uint32_t shard_count = 0;
  bool include_results = false;
  std::vector<std::filesystem::path> exclude;
  s3_options s3;
  std::string s3_given;  // an object storage keyword given (refused without an s3:// input)
  balance_options balance = balance_from(kw);
  for (const auto& [k, v] : kw) {
    const auto key = k.cast<std::string>();
    const char* name = key.c_str();
    if (key == "endpoint_url" || key == "region" || key == "profile" || key == "no_sign_request" ||
        key.starts_with("s3_"))
      s3_given = key;
    if (key == "workers")
      o.workers = value_of<unsigned>(v, name, "an int");
    else if (key == "io_depth")
      o.io_depth = positive<unsigned>(v, name);
    else if (key == "queue_depth")
      o.queue_depth = positive<unsigned>(v, name);
    else if (key == "io")
      o.io = choice_of<io_backend>(v, name);
    else if (key == "decoder")
      o.decoder = choice_of<decoder_kind>(v, name);
    else if (key == "serial")
      o.serial = value_of<bool>(v, name, "a bool");
    else if (key == "heatmaps")
      o.heatmaps = value_of<bool>(v, name, "a bool");
    else if (key == "shard") {
      if (py::isinstance<py::str>(v)) {
        shard_text = v.cast<std::string>();
      } else {
        const auto ic =
            value_of<std::pair<std::uint32_t, std::uint32_t>>(v, name, "'INDEX/COUNT' or an (index, count) tuple");
        o.shard = {ic.first, ic.second};  // checked by resolve_defaults
      }
    } else if (key == "heatmap_grid") {
      if (py::isinstance<py::str>(v)) {
        o.heatmap_grid = parse_grid_size(v.cast<std::string>());
      } else {
        const auto wh = value_of<std::pair<std::uint32_t, std::uint32_t>>(v, name, "'WxH' or a (W, H) tuple");
        o.heatmap_grid = {wh.first, wh.second};
      }
    } else if (key == "labels")
      classes.labels = path_of(v, name);
    else if (key == "remap")
      classes.remap = value_of<std::string>(v, name, "a string");
    else if (key == "num_classes")
      classes.num_classes = positive<std::uint32_t>(v, name);
    else if (key == "class_names") {
      if (is_path(v))
        classes.class_names_file = path_of(v, name);
      else
        classes.class_names = value_of<std::vector<std::string>>(v, name, "a list of names or a file");
      if (classes.class_names_file.empty() && classes.class_names.empty())
        throw py::value_error("class_names: an empty list (give the names, or leave class_names out)");
    } else if (key == "ignore") {
      if (py::isinstance<py::int_>(v))
        classes.ignore = {value_of<std::uint32_t>(v, name, "an int or a list of ints")};
      else
        classes.ignore = value_of<std::vector<std::uint32_t>>(v, name, "an int or a list of ints");
    } else if (key == "instance_divisor")
      classes.instance_divisor = value_of<std::uint32_t>(v, name, "an int");
    else if (key == "components")
      o.components = value_of<unsigned>(v, name, "0, 4 or 8");
    else if (key == "min_component_pixels")
      o.min_component_pixels = positive<std::uint64_t>(v, name);
    else if (key == "group_by")
      o.group_by = value_of<std::string>(v, name, "a regular expression");
    else if (key == "split") {
      for (const auto& [split_name, list] :
           value_of<std::map<std::string, std::filesystem::path>>(v, name, "a dict {name: list file}"))
        o.splits.push_back(load_split(split_name, list));
    } else if (key == "max_pixels")
      o.max_pixels = value_of<std::uint64_t>(v, name, "an int");
    else if (key == "max_file_bytes")
      o.max_file_bytes = value_of<std::uint64_t>(v, name, "an int (bytes)");
    else if (key == "max_heatmap_bytes")
      o.max_heatmap_bytes = value_of<std::uint64_t>(v, name, "an int (bytes)");
    else if (key == "max_memory")
      o.max_memory = value_of<std::uint64_t>(v, name, "an int (bytes)");
    else if (key == "row_memory")
      o.max_row_memory = value_of<std::uint64_t>(v, name, "an int (bytes)");
    else if (key == "spill_dir")
      o.spill_directory = path_of(v, name);
    else if (key == "strict")
      o.stop_on_error = value_of<bool>(v, name, "a bool");
    else if (key == "files_from")
      files_from = path_of(v, name);
    else if (key == "root")
      root = path_of(v, name);
    else if (key == "include_results")
      include_results = value_of<bool>(v, name, "a bool");
    else if (key == "_exclude")
      exclude = value_of<std::vector<std::filesystem::path>>(v, name, "a list of paths");
    else if (key == "resume")
      resume = path_of(v, name);
    else if (key == "mpi")
      throw py::value_error(
          "mpi: a scan over MPI ranks is the CLI's (mpirun -n K maskscan scan DIR --mpi); in Python, scan each shard "
          "(shard=\"i/N\") in a process of its own and merge the results (maskscan.merge)");
    else if (key == "shard_count")
      shard_count = positive<std::uint32_t>(v, name);
    else if (key == "endpoint_url")
      s3.endpoint_url = value_of<std::string>(v, name, "a URL (http://host:port)");
    else if (key == "region")
      s3.region = value_of<std::string>(v, name, "a string");
    else if (key == "profile")
      s3.profile = value_of<std::string>(v, name, "a string");
    else if (key == "no_sign_request")
      s3.sign = !value_of<bool>(v, name, "a bool");
    else if (key == "s3_addressing")
      s3.addressing = choice_of<s3_addressing>(v, name);
    else if (key == "s3_retries")
      s3.retries = value_of<unsigned>(v, name, "an int");
    else if (key == "s3_timeout")
      s3.timeout_seconds = positive<unsigned>(v, name);
    else
      throw py::value_error(fmt::format("unknown option '{}'", key));
  }
  if (shard_count && shard_text != "auto" &&
      (shard_text.empty() ? o.shard.count : parse_shard(shard_text).count) != shard_count)
    throw py::value_error("shard_count: only with shard=\"auto\" (or equal to the count of shard)");
  if (shard_text == "auto") {
    const auto found = shard_from_environment([](const char* n) { return std::getenv(n); }, shard_count);
    o.shard = found.shard;
  } else if (!shard_text.empty()) {
    o.shard = parse_shard(shard_text);
  }
  const bool from_list = !files_from.empty();
  if (input.is_none() == !from_list)
    throw py::value_error("give the directory (or PNG file) to scan, or files_from=LIST");
  if (!root.empty() && !from_list) throw py::value_error("root: only with files_from");
  const bool from_s3 = py::isinstance<py::str>(input) && is_s3_url(input.cast<std::string>());
  const std::string url = from_s3 ? input.cast<std::string>() : std::string();
  if (!s3_given.empty() && !from_s3)
    throw py::value_error(
        fmt::format("{}: only with an 's3://bucket/prefix/' path (it names a server or "
                    "credentials of object storage)",
                    s3_given));
  const std::filesystem::path path = from_list || from_s3 ? std::string() : path_of(input, "path");
  // The rest reads the disk (a listing, a class-map file, the first frame's header, a state
  // file): without the GIL, so that other threads and an event loop run meanwhile.
  const py::gil_scoped_release unlocked;
  apply_class_choice(classes, o);
  o = resolve_defaults(std::move(o));
  std::optional<frame_source> source;
  std::vector<std::filesystem::path> left_out;
  if (from_list) {
    source = frame_source::from_list(files_from, root);
  } else if (from_s3) {
    source = frame_source_from_s3(url, s3, {.include_results = include_results, .left_out = &left_out});
    if (source->size() == 0) throw std::invalid_argument(fmt::format("{}: no *.png objects found", url));
  } else {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
      throw std::invalid_argument(fmt::format("{}: no such file or directory", path.string()));
    source = frame_source::from_directory(
        path, {.exclude = exclude, .include_results = include_results, .left_out = &left_out});
    if (source->size() == 0)
      throw std::invalid_argument(
          fmt::format("{}: no *.png files found (the directory is searched recursively)", path.string()));
  }
  check_memory(*source, o);
  scan_request r{std::move(*source), std::move(o), balance, std::nullopt, {}};
  for (const auto& dir : left_out)
    r.left_out.push_back(from_list || from_s3 ? dir.generic_string() : dir.lexically_relative(path).generic_string());
  std::ranges::sort(r.left_out);
  if (!resume.empty()) {
    r.resumed = resume_source(r.source, load_state(resume), r.options);
    r.source = r.resumed->remaining;
  }
  return r;
}

/// A finished scan's result, shared by the Python objects and arrays that refer to it.
struct result_handle {
  std::shared_ptr<const scan_result> result;
  balance_options balance;
  std::string status = "done";  ///< done, cancelled (partial) or stopped (strict)

  const dataset_stats& stats() const { return result->stats; }
};

/// An array of `shape` over `data`, which `owner` keeps alive: no copy.
template <class T, class Owner>
py::array_t<T> view(std::vector<py::ssize_t> shape, const T* data, std::shared_ptr<Owner> owner) {
  auto* keep = new std::shared_ptr<Owner>(std::move(owner));
  py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<Owner>*>(p); });
  py::array_t<T> array(std::move(shape), data, base);
  // Read-only: the memory is a result's, which other arrays (and the Result) share.
  array.attr("setflags")(py::arg("write") = false);
  return array;
}

/// An array owning `values` (moved into its capsule).
template <class T>
py::array_t<T> owning(std::vector<T> values, std::vector<py::ssize_t> shape = {}) {
  auto owner = std::make_shared<std::vector<T>>(std::move(values));
  if (shape.empty()) shape = {static_cast<py::ssize_t>(owner->size())};
  const T* data = owner->data();
  return view<T>(std::move(shape), data, std::move(owner));
}

py::list heatmap_list(const result_handle& h, bool grid) {
  py::list out;
  const auto& stats = h.stats();
  const auto add = [&](const std::string& group, const heatmap_set& heat) {
    const std::size_t cells = std::size_t{heat.width} * heat.height;
    const auto classes = static_cast<py::ssize_t>(cells ? heat.counts.size() / cells : 0);
    out.append(py::make_tuple(
        group, heat.width, heat.height, heat.frames,
        view<std::uint32_t>({classes, static_cast<py::ssize_t>(heat.height), static_cast<py::ssize_t>(heat.width)},
                            heat.counts.data(), h.result)));
  };
  if (grid) {
    for (const auto& [group, heat] : stats.grid_heatmaps) add(group, heat);
  } else {
    for (const auto& [key, heat] : stats.heatmaps) add(key.group, heat);
  }
  return out;
}

result_handle derived(const result_handle& h, dataset_stats stats) {
  auto r = std::make_shared<scan_result>();
  r->input = h.result->input;
  r->options = h.result->options;
  r->io_used = h.result->io_used;
  r->frames_total = stats.frames.size() + stats.errors.size();
  r->partial = stats.partial;
  r->wall_seconds = h.result->wall_seconds;
  r->stats = std::move(stats);
  return {std::move(r), h.balance, h.status};
}

template <class Write>
std::string to_text(Write&& write) {
  std::ostringstream out;
  write(out);
  return std::move(out).str();
}

/// A scan running on its own thread: the caller waits in slices (Ctrl-C and progress between them).
class scan_job {
 public:
  explicit scan_job(scan_request request)
      : balance_(request.balance), resumed_(std::move(request.resumed)), left_out_(std::move(request.left_out)) {
    scan_context context;
    context.progress_interval = std::chrono::milliseconds(50);
    context.on_progress = [this](const scan_progress& p) {
      const std::lock_guard lock(mutex_);
      progress_ = p;
    };
    async_scan(
        io_.get_executor(), std::move(request.source), std::move(request.options), std::move(context),
        boost::asio::bind_cancellation_slot(cancel_.slot(), [this](boost::system::error_code ec, scan_result result) {
          const std::lock_guard lock(mutex_);
          ec_ = ec;
          result_ = std::move(result);
          done_ = true;
          done_changed_.notify_all();
        }));
    thread_ = std::thread([this] { io_.run(); });
  }
  scan_job(const scan_job&) = delete;
  scan_job& operator=(const scan_job&) = delete;
  ~scan_job() {
    cancel();
    const py::gil_scoped_release unlocked;  // the scan never takes the GIL, but another Python thread may want it
    thread_.join();
  }

  /// Waits up to `seconds` (None: until done) with the GIL released; true when the scan is done.
  bool wait(std::optional<double> seconds) {
    const py::gil_scoped_release unlocked;
    std::unique_lock lock(mutex_);
    if (!seconds) {
      done_changed_.wait(lock, [&] { return done_; });
    } else {
      done_changed_.wait_for(lock, std::chrono::duration<double>(std::max(0.0, *seconds)), [&] { return done_; });
    }
    return done_;
  }
  bool done() {
    const std::lock_guard lock(mutex_);
    return done_;
  }
  /// Asks the scan to stop: frames in flight are finished, the result is partial.
  void cancel() {
    boost::asio::post(io_, [this] { cancel_.emit(boost::asio::cancellation_type::terminal); });
  }
  py::tuple progress() {
    const std::lock_guard lock(mutex_);
    return py::make_tuple(progress_.frames_done, progress_.frames_skipped, progress_.frames_total,
                          progress_.elapsed_seconds);
  }
  const std::vector<std::string>& left_out() const noexcept { return left_out_; }
  /// The result (once done): a ValueError or RuntimeError for a scan that failed.
  result_handle result() {
    if (!wait(std::nullopt)) throw std::logic_error("not done");
    if (taken_) return *taken_;
    if (ec_ == boost::system::errc::invalid_argument) throw py::value_error(result_.failure);
    if (ec_ && ec_ != errc::cancelled && ec_ != errc::stopped_on_error)
      throw std::runtime_error(
          fmt::format("the scan failed: {}", result_.failure.empty() ? ec_.message() : result_.failure));
    const std::string status = ec_ == errc::cancelled          ? "cancelled"
                               : ec_ == errc::stopped_on_error ? "stopped"
                                                               : "done";
    if (resumed_) {
      const py::gil_scoped_release unlocked;
      result_ = complete_resume(std::move(*resumed_), std::move(result_));
      resumed_.reset();
    }
    taken_ = result_handle{std::make_shared<const scan_result>(std::move(result_)), balance_, status};
    return *taken_;
  }

 private:
  boost::asio::io_context io_;
  boost::asio::cancellation_signal cancel_;
  balance_options balance_;
  std::optional<resumed_scan> resumed_;
  std::vector<std::string> left_out_;
  std::mutex mutex_;
  std::condition_variable done_changed_;
  bool done_ = false;
  scan_progress progress_;
  boost::system::error_code ec_;
  scan_result result_;
  std::optional<result_handle> taken_;
  std::thread thread_;  // last: started when everything it uses is made
};

/// The report's options (the CLI's --colormap, --rgb-dir, --overlays, --overlay-alpha), checked.
report_options report_options_from(const py::dict& kw) {
  report_options options;
  for (const auto& [k, v] : kw) {
    const auto key = k.cast<std::string>();
    const char* name = key.c_str();
    if (key == "colormap") {
      options.colormap = choice_of<heatmap_colormap>(v, name);
    } else if (key == "rgb_dir") {
      options.rgb_dir = path_of(v, name);
      if (!std::filesystem::is_directory(options.rgb_dir))
        throw py::value_error(fmt::format("rgb_dir {}: not a directory", options.rgb_dir.string()));
    } else if (key == "overlays") {
      options.overlays = value_of<std::size_t>(v, name, "an int, 0 to 64");
      if (options.overlays > 64) throw py::value_error(fmt::format("overlays {}: expected 0 to 64", options.overlays));
    } else if (key == "overlay_alpha") {
      options.overlay_alpha = value_of<double>(v, name, "a number in [0, 1]");
      if (!(options.overlay_alpha >= 0 && options.overlay_alpha <= 1))
        throw py::value_error(fmt::format("overlay_alpha {}: expected a number in [0, 1]", options.overlay_alpha));
    } else {
      throw py::value_error(fmt::format("unknown option '{}'", key));
    }
  }
  return options;
}

py::dict weights_of(const result_handle& h, py::kwargs kw) {
  py::dict options(kw);
  const balance_options b = balance_from(options, h.balance);
  if (!options.empty())
    throw py::value_error(fmt::format("unknown option '{}'", py::str(options.begin()->first).cast<std::string>()));
  const auto rows = class_weights(h.stats(), b);
  const auto column = [&](auto field) {
    std::vector<float> v;
    for (const auto& r : rows) {
      const std::optional<double> w = r.*field;
      v.push_back(w ? static_cast<float>(*w) : std::numeric_limits<float>::quiet_NaN());
    }
    return owning(std::move(v));
  };
  py::dict out;
  out["inverse_frequency"] = column(&class_balance::inverse_frequency);
  out["inverse_sqrt_frequency"] = column(&class_balance::inverse_sqrt_frequency);
  out["median_frequency_present"] = column(&class_balance::median_frequency_present);
  out["median_frequency_all"] = column(&class_balance::median_frequency_all);
  out["enet"] = column(&class_balance::enet);
  out["effective_number"] = column(&class_balance::effective_number);
  out["repeat_factor"] = column(&class_balance::repeat_factor);
  std::vector<double> frequency, frame_frequency;
  std::vector<std::uint8_t> ignored;
  for (const auto& r : rows) {
    frequency.push_back(r.frequency);
    frame_frequency.push_back(r.frame_frequency);
    ignored.push_back(r.ignored);
  }
  out["frequency"] = owning(std::move(frequency));
  out["frame_frequency"] = owning(std::move(frame_frequency));
  out["ignored"] = owning(std::move(ignored)).attr("astype")("bool");
  return out;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "maskscan's C++ library (pybind11). Use the maskscan package, not this module.";
  static py::exception<duplicate_frame> duplicate(m, "DuplicateFrame", PyExc_ValueError);
  duplicate.doc() = "A frame that two merged results both hold: merging them would count it twice (a ValueError).";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const option_error& e) {
      PyErr_SetString(PyExc_ValueError, e.message([](std::string_view o) { return keyword_of(o); }).c_str());
    } catch (const duplicate_frame& e) {
      duplicate(e.what());
    }
  });

  py::class_<result_handle>(m, "Result")
      .def_property_readonly("status", [](const result_handle& h) { return h.status; })
      .def_property_readonly("input", [](const result_handle& h) { return h.result->input; })
      .def_property_readonly("partial", [](const result_handle& h) { return h.stats().partial; })
      .def_property_readonly("shards",
                             [](const result_handle& h) -> py::object {
                               const auto& s = h.stats().shards;
                               if (s.whole()) return py::none();
                               py::dict d;
                               d["count"] = s.count;
                               d["held"] = s.held;
                               return d;
                             })
      .def_property_readonly("frames_total", [](const result_handle& h) { return h.result->frames_total; })
      .def_property_readonly("wall_seconds", [](const result_handle& h) { return h.result->wall_seconds; })
      .def_property_readonly("stopped_at", [](const result_handle& h) { return h.result->stopped_at; })
      .def_property_readonly("io_used",
                             [](const result_handle& h) { return std::string(to_string(h.result->io_used)); })
      .def_property_readonly("class_names", [](const result_handle& h) { return h.stats().class_names; })
      .def_property_readonly("ignore", [](const result_handle& h) { return h.stats().ignore; })
      .def_property_readonly("classes_from_values",
                             [](const result_handle& h) { return h.stats().classes_from_values; })
      .def("totals",
           [](const result_handle& h) {
             const auto t = compute_totals(h.stats());
             std::vector<std::uint64_t> pixels, present;
             for (const auto& c : t.classes) {
               pixels.push_back(c.pixels);
               present.push_back(c.frames_present);
             }
             py::dict d;
             d["frames"] = t.frames;
             d["skipped"] = t.skipped;
             d["pixels"] = t.pixels;
             d["labelled_pixels"] = t.labelled_pixels;
             d["ignored_pixels"] = t.ignored_pixels;
             d["out_of_range_pixels"] = t.out_of_range_pixels;
             d["unknown_colour_pixels"] = t.unknown_colour_pixels;
             d["class_pixels"] = owning(std::move(pixels));
             d["frames_present"] = owning(std::move(present));
             return d;
           })
      .def("heatmaps", [](const result_handle& h) { return heatmap_list(h, false); })
      .def("grid_heatmaps", [](const result_handle& h) { return heatmap_list(h, true); })
      .def("groups", [](const result_handle& h) { return group_names(h.stats()); })
      .def("warnings", [](const result_handle& h) { return class_map_warnings(h.stats()); })
      .def("group",
           [](const result_handle& h, const std::string& group) {
             const auto names = group_names(h.stats());
             if (std::ranges::find(names, group) == names.end())
               throw py::key_error(fmt::format("no group '{}' (the groups: {})", group, fmt::join(names, ", ")));
             const py::gil_scoped_release unlocked;
             return derived(h, select_group(h.stats(), group));
           })
      .def("ungrouped",
           [](const result_handle& h) {
             const py::gil_scoped_release unlocked;
             return derived(h, ungroup(h.stats()));
           })
      .def("weights", &weights_of)
      .def("repeat_factors",
           [](const result_handle& h, double threshold) {
             balance_options b = h.balance;
             b.repeat_threshold = threshold;
             return owning(repeat_factors(h.stats(), b));
           })
      .def("cooccurrence",
           [](const result_handle& h) {
             const auto matrix = cooccurrence(h.stats());
             std::vector<std::uint64_t> flat;
             for (const auto& row : matrix) flat.insert(flat.end(), row.begin(), row.end());
             const auto n = static_cast<py::ssize_t>(matrix.size());
             return owning(std::move(flat), {n, n});
           })
      .def("frame_paths",
           [](const result_handle& h) {
             std::vector<std::string> paths;
             for (const auto& f : h.stats().frames) paths.push_back(f.path);
             return paths;
           })
      .def("errors",
           [](const result_handle& h) {
             py::list out;
             for (const auto& e : h.stats().errors)
               out.append(py::make_tuple(e.path, to_string(e.code), e.message, e.group));
             return out;
           })
      .def("frames_csv",
           [](const result_handle& h) {
             return to_text([&](std::ostream& o) { write_frames_csv(h.stats(), o, h.balance); });
           })
      .def("weights_csv",
           [](const result_handle& h) {
             return to_text([&](std::ostream& o) { write_weights_csv(h.stats(), h.balance, o); });
           })
      .def("summary_json",
           [](const result_handle& h) {
             return to_text([&](std::ostream& o) { write_summary_json(*h.result, o, h.balance); });
           })
      .def("summary_table",
           [](const result_handle& h, bool unicode) {
             return to_text([&](std::ostream& o) { print_summary(*h.result, o, unicode); });
           })
      .def("save_state",
           [](const result_handle& h, const std::filesystem::path& file) {
             const py::gil_scoped_release unlocked;
             save_state(h.stats(), file);
           })
      .def("state_bytes",
           [](const result_handle& h) {
             std::vector<char> bytes;
             {
               const py::gil_scoped_release unlocked;
               bytes = state_bytes(h.stats());
             }
             return py::bytes(bytes.data(), bytes.size());
           })
      .def("write",
           [](const result_handle& h, const std::filesystem::path& dir, bool report,
              py::kwargs kw) -> std::optional<std::filesystem::path> {
             const report_options options = report_options_from(kw);
             const py::gil_scoped_release unlocked;
             if (!report) {
               write_outputs(*h.result, dir, h.balance);
               return std::nullopt;
             }
             return write_outputs_and_report(*h.result, dir, h.balance, options);
           })
      .def_property_readonly("repeat_threshold", [](const result_handle& h) { return h.balance.repeat_threshold; });

  py::class_<scan_job>(m, "ScanJob")
      .def(py::init([](const py::object& input, py::kwargs kw) {
             return std::make_unique<scan_job>(request_from(input, py::dict(kw)));
           }),
           py::arg("input"))
      .def("wait", &scan_job::wait, py::arg("timeout") = py::none())
      .def("done", &scan_job::done)
      .def("cancel", &scan_job::cancel)
      .def("progress", &scan_job::progress)
      .def("left_out", &scan_job::left_out)
      .def("result", &scan_job::result);

  // Statistics of many parts (a Dask scan's shards) merged as they arrive: one part in memory at a time.
  py::class_<state_merger>(m, "StateMerger")
      .def(py::init<>())
      .def("add",
           [](state_merger& merger, const py::bytes& state, const std::string& name) {
             const std::string_view view = state;
             const std::vector<char> bytes(view.begin(), view.end());
             const py::gil_scoped_release unlocked;
             auto part = stats_from_state_bytes(bytes, name);
             const std::lock_guard lock(merger.mutex);
             if (merger.parts == 0)
               merger.merged = std::move(part);
             else
               merge(merger.merged, part);  // leaves the merged statistics as they were if it throws
             ++merger.parts;
           })
      .def("result", [](state_merger& merger, py::kwargs kw) {
        const std::lock_guard lock(merger.mutex);
        py::dict options(kw);
        const balance_options balance = balance_from(options);  // enet_c=, ... of the merged Result
        if (!options.empty()) throw py::value_error("StateMerger.result takes the balancing options only");
        if (merger.parts == 0) throw py::value_error("no statistics were merged");
        require_every_shard(merger.merged, fmt::format("the {} parts merged", merger.parts));
        auto r = merged_result(std::move(merger.merged), {});
        r.input = "merged";
        merger.parts = 0;
        return result_handle{std::make_shared<const scan_result>(std::move(r)), balance, "done"};
      });

  m.def(
      "load_state",
      [](const std::filesystem::path& file) {
        const py::gil_scoped_release unlocked;
        return result_handle{std::make_shared<const scan_result>(merged_result(load_state(file), {file})), {}, "done"};
      },
      py::arg("path"));
  m.def(
      "merge",
      [](const std::vector<result_handle>& results, const std::vector<std::string>& prefixes) {
        if (results.empty()) throw py::value_error("merge: give at least one result");
        check_prefixes(results.size(), prefixes);
        const py::gil_scoped_release unlocked;
        dataset_stats merged = results.front().stats();
        if (!prefixes.empty()) prefix_frames(merged, prefixes.front());
        for (std::size_t i = 1; i < results.size(); ++i) {
          if (prefixes.empty()) {
            merge(merged, results[i].stats());
          } else {
            dataset_stats s = results[i].stats();
            prefix_frames(s, prefixes[i]);
            merge(merged, s);
          }
        }
        check_frames_unique(merged);  // rows on disk (row_memory) are checked once they are all there
        auto r = merged_result(std::move(merged), {});
        r.input = "merged";
        return result_handle{std::make_shared<const scan_result>(std::move(r)), results.front().balance, "done"};
      },
      py::arg("results"), py::arg("prefixes") = std::vector<std::string>{});
  m.def(
      "tune",
      [](const py::object& input, const py::dict& tuning_kw, py::kwargs kw) {
        tune_options t;
        for (const auto& [k, v] : tuning_kw) {
          const auto key = k.cast<std::string>();
          const char* name = key.c_str();
          if (key == "sample")
            t.sample = positive<std::size_t>(v, name);
          else if (key == "budget_seconds")
            t.budget_seconds = value_of<double>(v, name, "a number of seconds");
          else if (key == "min_trial_seconds")
            t.min_trial_seconds = value_of<double>(v, name, "a number of seconds");
          else if (key == "repeats")
            t.repeats = positive<unsigned>(v, name);
          else if (key == "cold")
            t.cold = value_of<bool>(v, name, "a bool");
          else
            throw py::value_error(fmt::format("{}: not an option of tune", key));
        }
        const py::dict scan_kw(kw);  // a concurrency keyword given is held at its value
        t.search_workers = !scan_kw.contains("workers");
        t.search_io_depth = !scan_kw.contains("io_depth");
        t.search_queue_depth = !scan_kw.contains("queue_depth");
        t.search_io = !scan_kw.contains("io");
        const auto request = request_from(input, scan_kw);
        const py::gil_scoped_release unlocked;
        return to_json(tune(request.source, request.options, t));
      },
      py::arg("input"), py::arg("tuning"));
  m.def("builtin_class_maps", &builtin_class_map_names);
  m.def("check_report_options", [](py::kwargs kw) { (void)report_options_from(kw); });
}
