"""Only for the compiled part: pyproject.toml holds everything else.

``cffi_modules`` (a setup() keyword cffi provides) builds rooms.sfu._fastpath, the SFU's
forwarding loop in C, from rooms/sfu/fastpath.c. cffi builds it against the stable ABI
(Py_LIMITED_API: `_fastpath.abi3.so`), so the wheel is tagged cp311-abi3 and one build serves
CPython 3.11 and every later version."""

from setuptools import setup

setup(
    cffi_modules=["rooms/sfu/fastpath_build.py:ffibuilder"],
    options={"bdist_wheel": {"py_limited_api": "cp311"}},
)
