option(MASKSCAN_BUILD_TESTS "Build the Catch2 test suite" ON)
option(MASKSCAN_BUILD_BENCH "Build the benchmark programs" ON)
# The Python front-end (src/python, python/maskscan): pybind11 from Debian (scripts/install-deps.sh).
# Off under the sanitizers (an instrumented extension needs an instrumented interpreter) and fuzzing.
option(MASKSCAN_BUILD_PYTHON "Build the Python module maskscan._core into <build>/python (pybind11)" ON)
set(MASKSCAN_PYTHON /usr/bin/python3 CACHE FILEPATH
  "Python 3 the Python module is built for, and that runs the tests written in Python (Debian's, with its packages)")
# The MPI front-end (`mpirun -n K maskscan scan DIR --mpi`, src/mpi): Debian's OpenMPI (libopenmpi-dev,
# openmpi-bin). Off by default, so that a plain build needs no MPI; the release preset, which the
# README's commands build after scripts/install-deps.sh installed OpenMPI, turns it on.
option(MASKSCAN_WITH_MPI "Build the MPI front-end: maskscan scan --mpi under mpirun (needs an MPI library)" OFF)
option(MASKSCAN_FUZZ "Build the libFuzzer harnesses in fuzz/ (clang only: the fuzz preset)" OFF)
set(MASKSCAN_SANITIZE "" CACHE STRING "Comma-separated -fsanitize= list for all targets (e.g. address,undefined)")
# The code outside the library (the front-ends: the CLI and the service; and the tests) may take a
# shorter list: UBSan's checks make GCC about 2x slower on the Catch2, Boost.Beast/Asio and CLI11
# templates that code instantiates, and what UBSan is for is the library's arithmetic (decoders,
# statistics, pipeline), which keeps the full list. The asan preset: the library address,undefined,
# the front-ends and the tests address. Empty: the same list as MASKSCAN_SANITIZE.
set(MASKSCAN_SANITIZE_FRONT_ENDS "" CACHE STRING
  "The -fsanitize= list for the CLI, the service and tests/ (empty: MASKSCAN_SANITIZE)")
option(BUILD_SHARED_LIBS "Build libmaskscan as a shared library (soname libmaskscan.so.0, only maskscan::* exported)" OFF)
# While the reader is asio::random_access_file, Asio must be built with io_uring in the library and
# in every program that includes its headers: ON makes BOOST_ASIO_HAS_IO_URING (and liburing) part
# of maskscan::maskscan's public interface. OFF once the reader uses liburing directly: then
# nothing of io_uring reaches the consumer (src/CMakeLists.txt).

# C++20 comes from target_compile_features(... cxx_std_20) on the targets (the library's is PUBLIC, so
# it reaches every program linking it); no extensions (-std=c++20, not gnu++20).
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()

if(MASKSCAN_SANITIZE)
  add_compile_options(-fsanitize=${MASKSCAN_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${MASKSCAN_SANITIZE})
endif()

# Gives `target` (a front-end) MASKSCAN_SANITIZE_FRONT_ENDS instead of MASKSCAN_SANITIZE.
function(maskscan_front_end_sanitizers target)
  if(MASKSCAN_SANITIZE AND MASKSCAN_SANITIZE_FRONT_ENDS AND NOT MASKSCAN_SANITIZE_FRONT_ENDS STREQUAL MASKSCAN_SANITIZE)
    get_target_property(options ${target} COMPILE_OPTIONS)
    if(NOT -fsanitize=${MASKSCAN_SANITIZE} IN_LIST options)  # else the full list would stay, silently
      message(FATAL_ERROR "maskscan_front_end_sanitizers(${target}): -fsanitize=${MASKSCAN_SANITIZE} is not among its options")
    endif()
    list(REMOVE_ITEM options -fsanitize=${MASKSCAN_SANITIZE})
    list(APPEND options -fsanitize=${MASKSCAN_SANITIZE_FRONT_ENDS})
    set_target_properties(${target} PROPERTIES COMPILE_OPTIONS "${options}")
  endif()
endfunction()
