"""Builds the compiled scanner (logfilter/engines/scanner.pyx); everything else is in pyproject.toml."""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [Extension("logfilter.engines.scanner", ["logfilter/engines/scanner.pyx"])],
        compiler_directives={"language_level": 3},
    )
)
