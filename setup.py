"""Builds maskscan._core with the project's CMake (target maskscan_python: pybind11 over the C++
library) and packages it with python/maskscan. `pip install --no-build-isolation .` runs this.

MASKSCAN_BUILD_DIR=<an existing CMake build of this checkout> builds the module there instead of in
a build directory of its own (the tests use it, so that the library is not compiled twice)."""
import os
import pathlib
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = pathlib.Path(__file__).resolve().parent


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        build_dir = os.environ.get("MASKSCAN_BUILD_DIR")
        if not build_dir:
            build_dir = os.path.join(os.path.abspath(self.build_temp), "cmake")
            generator = ["-G", "Ninja"] if shutil.which("ninja") else []
            subprocess.run(["cmake", "-S", str(ROOT), "-B", build_dir, *generator, "-DCMAKE_BUILD_TYPE=Release",
                            "-DMASKSCAN_BUILD_TESTS=OFF", "-DMASKSCAN_BUILD_BENCH=OFF", "-DMASKSCAN_BUILD_PYTHON=ON",
                            f"-DMASKSCAN_PYTHON={sys.executable}", f"-DPython_EXECUTABLE={sys.executable}"],
                           check=True)
        subprocess.run(["cmake", "--build", build_dir, "--target", "maskscan_python", "-j", str(os.cpu_count() or 2)],
                       check=True)
        suffix = self.get_ext_filename("_core")[len("_core"):]
        built = pathlib.Path(build_dir, "python", "maskscan", "_core" + suffix)
        if not built.exists():
            raise RuntimeError(f"the build made no {built} (is {build_dir} a build for {sys.executable}?)")
        dest = pathlib.Path(self.get_ext_fullpath(ext.name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built, dest)


setup(
    ext_modules=[Extension("maskscan._core", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    package_dir={"": "python"},
    packages=["maskscan"],
    package_data={"maskscan": ["*.pyi", "py.typed"]},
    options={"build": {"build_base": "build-pip"}},  # not build/, the CMake presets' directory
)
