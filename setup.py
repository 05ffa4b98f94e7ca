"""Only for the compiled part: pyproject.toml holds everything else.

``cffi_modules`` (a setup() keyword cffi provides) builds rooms.sfu._fastpath, the SFU's
forwarding loop in C, from rooms/sfu/fastpath.c."""

from setuptools import setup

setup(cffi_modules=["rooms/sfu/fastpath_build.py:ffibuilder"])
