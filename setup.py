"""Builds the compiled scanner (logfilter/engines/scanner.pyx, with json_messages.pyx, its JSON lines
handler) and lists the packages; everything else is in pyproject.toml."""

from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup

setup(
    # Every package under logfilter/ (a new one is never left out of the wheel), and the
    # grammars, which pyproject.toml maps from the top-level grammars/ folder.
    packages=[*find_packages(include=["logfilter", "logfilter.*"]), "logfilter.grammars"],
    ext_modules=cythonize(
        [
            Extension("logfilter.engines.scanner", ["logfilter/engines/scanner.pyx"]),
            Extension("logfilter.engines.json_messages", ["logfilter/engines/json_messages.pyx"]),
        ],
        compiler_directives={"language_level": 3},
    ),
)
