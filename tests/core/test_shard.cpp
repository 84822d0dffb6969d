// Shards: which frame belongs to which shard (FNV-1a 64 of its key, modulo the count), the
// `--shard` forms, the job arrays' environments, and how sets of shards merge.
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <maskscan/option_error.hpp>
#include <maskscan/shard.hpp>
#include <maskscan/source.hpp>

#include "support/test_data.hpp"

using namespace maskscan;

namespace {
/// An environment of these variables only.
auto environment(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

/// The message of the option_error `f` throws, which must name option "shard".
template <class F>
std::string refusal(F&& f) {
  try {
    f();
  } catch (const option_error& e) {
    CHECK(e.option() == "shard");
    return e.what();
  }
  FAIL("not refused");
  return {};
}
}  // namespace

TEST_CASE("shard_of is FNV-1a 64 of the key's bytes modulo the count (the published test vectors)", "[shard]") {
  // FNV-1a 64 of "", "a" and "foobar" (Fowler, Noll, Vo: the FNV test suite).
  constexpr std::uint32_t big = 0xFFFFFFFFu;
  CHECK(shard_of("", big) == 0xcbf29ce484222325ull % big);
  CHECK(shard_of("a", big) == 0xaf63dc4c8601ec8cull % big);
  CHECK(shard_of("foobar", big) == 0x85944171f73967e8ull % big);
  CHECK(shard_of("foobar", 8) == 0x85944171f73967e8ull % 8);
  CHECK(shard_of("anything", 1) == 0);
}

TEST_CASE("parse_shard: INDEX/COUNT, the forms taken and the ones refused, with the reason", "[shard]") {
  CHECK(parse_shard("3/8") == shard_spec{3, 8});
  CHECK(parse_shard("0/1") == shard_spec{0, 1});
  CHECK(parse_shard("0/1").whole());
  CHECK(to_string(parse_shard("7/64")) == "7/64");
  CHECK_THAT(refusal([] { parse_shard("8/8"); }), Catch::Contains("must be below the count (8)"));
  CHECK_THAT(refusal([] { parse_shard("0/0"); }), Catch::Contains("the count must be 1.."));
  CHECK_THAT(refusal([] { parse_shard("3"); }), Catch::Contains("takes INDEX/COUNT"));
  CHECK_THAT(refusal([] { parse_shard("-1/8"); }), Catch::Contains("takes INDEX/COUNT"));
  CHECK_THAT(refusal([] { parse_shard("1/8x"); }), Catch::Contains("not '1/8x'"));
  CHECK_THAT(refusal([] { parse_shard("1/99999999999"); }), Catch::Contains("the count must be 1.."));
}

TEST_CASE(
    "shard_from_environment (--shard auto) reads Slurm arrays, Kubernetes Indexed Jobs and AWS Batch, and says which",
    "[shard]") {
  SECTION("Slurm, --array=0-63") {
    const auto s = shard_from_environment(environment({{"SLURM_ARRAY_TASK_ID", "5"},
                                                       {"SLURM_ARRAY_TASK_MIN", "0"},
                                                       {"SLURM_ARRAY_TASK_MAX", "63"},
                                                       {"SLURM_ARRAY_TASK_COUNT", "64"}}));
    CHECK(s.shard == shard_spec{5, 64});
    CHECK_THAT(s.source, Catch::StartsWith("Slurm array (SLURM_ARRAY_TASK_ID=5"));
  }
  SECTION("Slurm, --array=1-8 numbers from 1: task 1 is shard 0") {
    const auto s = shard_from_environment(environment({{"SLURM_ARRAY_TASK_ID", "1"},
                                                       {"SLURM_ARRAY_TASK_MIN", "1"},
                                                       {"SLURM_ARRAY_TASK_MAX", "8"},
                                                       {"SLURM_ARRAY_TASK_COUNT", "8"}}));
    CHECK(s.shard == shard_spec{0, 8});
    CHECK(
        shard_from_environment(
            environment({{"SLURM_ARRAY_TASK_ID", "8"}, {"SLURM_ARRAY_TASK_MIN", "1"}, {"SLURM_ARRAY_TASK_COUNT", "8"}}),
            8)
            .shard == shard_spec{7, 8});
  }
  SECTION("Slurm arrays with gaps or a step are refused: their ids are not shards 0..N-1") {
    CHECK_THAT(refusal([] {
                 shard_from_environment(environment({{"SLURM_ARRAY_TASK_ID", "2"},
                                                     {"SLURM_ARRAY_TASK_MIN", "0"},
                                                     {"SLURM_ARRAY_TASK_MAX", "6"},
                                                     {"SLURM_ARRAY_TASK_STEP", "2"},
                                                     {"SLURM_ARRAY_TASK_COUNT", "4"}}));
               }),
               Catch::Contains("not a contiguous range"));
    CHECK_THAT(refusal([] {  // --array=0,5,9
                 shard_from_environment(environment({{"SLURM_ARRAY_TASK_ID", "5"},
                                                     {"SLURM_ARRAY_TASK_MIN", "0"},
                                                     {"SLURM_ARRAY_TASK_MAX", "9"},
                                                     {"SLURM_ARRAY_TASK_COUNT", "3"}}));
               }),
               Catch::Contains("not a contiguous range"));
    CHECK_THAT(refusal([] {
                 shard_from_environment(environment({{"SLURM_ARRAY_TASK_ID", "5"}}));
               }),
               Catch::Contains("SLURM_ARRAY_TASK_COUNT or SLURM_ARRAY_TASK_MIN is not"));
    CHECK_THAT(refusal([] {
                 shard_from_environment(environment({{"SLURM_ARRAY_TASK_ID", "1"},
                                                     {"SLURM_ARRAY_TASK_MIN", "0"},
                                                     {"SLURM_ARRAY_TASK_COUNT", "4"}}),
                                        8);
               }),
               Catch::Contains("--shard-count 8 differs from the Slurm array's 4 tasks"));
    CHECK_THAT(refusal([] {
                 shard_from_environment(environment(
                     {{"SLURM_ARRAY_TASK_ID", "x"}, {"SLURM_ARRAY_TASK_MIN", "0"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}));
               }),
               Catch::Contains("SLURM_ARRAY_TASK_ID='x' is not a whole number"));
  }
  SECTION("Kubernetes Indexed Job: the index from JOB_COMPLETION_INDEX, the count from --shard-count") {
    const auto s = shard_from_environment(environment({{"JOB_COMPLETION_INDEX", "3"}}), 16);
    CHECK(s.shard == shard_spec{3, 16});
    CHECK(s.source == "Kubernetes Indexed Job (JOB_COMPLETION_INDEX=3)");
    CHECK_THAT(refusal([] {
                 shard_from_environment(environment({{"JOB_COMPLETION_INDEX", "3"}}));
               }),
               Catch::Contains("give --shard-count (the Job's completions)"));
    CHECK_THAT(refusal([] {
                 shard_from_environment(environment({{"JOB_COMPLETION_INDEX", "16"}}), 16);
               }),
               Catch::Contains("is not below the count 16"));
  }
  SECTION("AWS Batch: AWS_BATCH_JOB_ARRAY_INDEX, the count from --shard-count") {
    const auto s = shard_from_environment(environment({{"AWS_BATCH_JOB_ARRAY_INDEX", "0"}}), 2);
    CHECK(s.shard == shard_spec{0, 2});
    CHECK_THAT(s.source, Catch::StartsWith("AWS Batch array job"));
    CHECK_THAT(refusal([] {
                 shard_from_environment(environment({{"AWS_BATCH_JOB_ARRAY_INDEX", "0"}}));
               }),
               Catch::Contains("give --shard-count (the Job's array size)"));
  }
  SECTION("none, or two schedulers at once, is refused") {
    CHECK_THAT(refusal([] { shard_from_environment(environment({})); }),
               Catch::Contains("no job array index in the environment"));
    CHECK_THAT(
        refusal([] {
          shard_from_environment(environment({{"JOB_COMPLETION_INDEX", "1"}, {"AWS_BATCH_JOB_ARRAY_INDEX", "1"}}), 4);
        }),
        Catch::Contains("both JOB_COMPLETION_INDEX and AWS_BATCH_JOB_ARRAY_INDEX are set"));
  }
}

TEST_CASE("shards of a real folder: every frame in exactly one, and a frame keeps its shard as the folder grows",
          "[shard][io]") {
  const auto root = test::data_root() / "real" / "gray8_ids";
  const auto all = frame_source::from_directory(root);
  REQUIRE(all.size() > 100);
  for (const std::uint32_t count : {1u, 2u, 3u, 7u}) {
    std::multiset<std::string> seen;
    for (std::uint32_t i = 0; i < count; ++i) {
      const auto part = all.shard({i, count});
      for (std::size_t k = 0; k < part.size(); ++k) {
        seen.insert(part.name(k));
        CHECK(shard_of(part.name(k), count) == i);
      }
      CHECK(part.root() == all.root());
    }
    CHECK(seen.size() == all.size());
    CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == all.size());
  }
  // A sub-folder is a smaller dataset of the same root: each of its frames is in the shard it has in
  // the whole folder (the key, not the position in the listing, decides).
  std::vector<std::filesystem::path> some;
  for (std::size_t k = 0; k < all.size(); k += 3) some.push_back(root / all.name(k));
  const auto fewer = frame_source::from_paths(some, root);
  const auto whole_shard = all.shard({2, 7}), fewer_shard = fewer.shard({2, 7});
  std::set<std::string> in_whole;
  for (std::size_t k = 0; k < whole_shard.size(); ++k) in_whole.insert(whole_shard.name(k));
  REQUIRE(fewer_shard.size() > 0);
  for (std::size_t k = 0; k < fewer_shard.size(); ++k) CHECK(in_whole.contains(fewer_shard.name(k)));
}

TEST_CASE("sets of shards merge when disjoint and of one count, and a complete set is the whole source", "[shard]") {
  const shard_set s0 = shard_set_of({0, 3}), s1 = shard_set_of({1, 3}), s2 = shard_set_of({2, 3});
  CHECK(shard_set_of({0, 1}) == shard_set{});
  const auto s01 = merge_shards(s0, s1);
  CHECK(s01 == shard_set{3, {0, 1}});
  CHECK(describe(s01) == "shards 0 and 1 of 3");
  CHECK(missing_shards(s01) == std::vector<std::uint32_t>{2});
  CHECK(merge_shards(s2, s01).whole());
  CHECK(merge_shards(shard_set{}, shard_set{}).whole());
  try {
    (void)merge_shards(s01, s1);
    FAIL("a shard held twice was merged");
  } catch (const duplicate_shard& d) {
    CHECK(d.index() == 1);
    CHECK(d.count() == 3);
  }
  CHECK_THROWS_WITH(merge_shards(s0, shard_set_of({0, 4})),
                    Catch::Contains("shard 0 of 3 and shard 0 of 4 do not fit together"));
  CHECK_THROWS_WITH(merge_shards(s0, shard_set{}), Catch::Contains("merge only with other shards of the same count"));
  CHECK(describe(shard_set{8, {0, 1, 2}}) == "shards 0, 1 and 2 of 8");
  CHECK(describe(shard_set{}) == "the whole source");
}
