# Everything comes from Debian 12 packages (scripts/install-deps.sh installs them).
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED COMPONENTS json)
find_package(fmt REQUIRED)
find_package(range-v3 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(SPNG REQUIRED)
find_package(LibUring REQUIRED)
find_package(ZLIB REQUIRED)  # zlib's verdict names what is wrong with a broken image stream
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBDEFLATE REQUIRED IMPORTED_TARGET libdeflate)
# Object storage (s3://): HTTP(S) with libcurl's multi interface driven by Asio; SHA-256 and HMAC
# for SigV4 from OpenSSL, the TLS library Debian's libcurl4-openssl-dev already links.
find_package(CURL 7.80 REQUIRED)
find_package(OpenSSL 3 REQUIRED COMPONENTS Crypto)
if(MASKSCAN_BUILD_TESTS)
  find_package(Catch2 2.13 REQUIRED)
endif()
