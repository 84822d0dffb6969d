#pragma once
// A small dataset that exercises everything the pipeline does: real CamVid frames, synthetic
// WoodScape-like frames of two resolutions, and files that must be skipped with an error.
#include <filesystem>
#include <string>
#include <vector>

#include <maskscan/scan.hpp>
#include <maskscan/synth.hpp>

#include "support/results.hpp"
#include "support/test_data.hpp"

namespace maskscan::test {

struct mixed_dataset {
  temp_dir dir;
  std::size_t bad_files = 0;

  mixed_dataset() {
    namespace fs = std::filesystem;
    synthesize_dataset(dir / "synth_64x48", synth_frames(24, 64, 48));
    synthesize_dataset(dir / "synth_33x17", synth_frames(12, 33, 17, 7));

    fs::create_directories(dir / "camvid");
    const auto camvid = data_root() / "real/gray8_ids/camvid_segnet";
    std::vector<fs::path> frames(fs::directory_iterator(camvid), fs::directory_iterator{});
    std::ranges::sort(frames);
    for (std::size_t i = 0; i < frames.size(); i += 4) fs::copy_file(frames[i], dir / "camvid" / frames[i].filename());

    fs::create_directories(dir / "bad");
    const auto good = read_file(dir / "synth_64x48/00000_FV.png");
    write_file(dir / "bad/truncated.png", good.substr(0, good.size() / 2));
    write_file(dir / "bad/not_a_png.png", "this is a text file\n");
    write_file(dir / "bad/empty.png", "");
    fs::copy_file(data_root() / "pngsuite/basn2c08.png", dir / "bad/rgb.png");
    bad_files = 4;
  }

  frame_source source() const { return frame_source::from_directory(dir.path()); }
};

}  // namespace maskscan::test
