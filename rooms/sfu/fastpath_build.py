"""cffi build script of ``rooms.sfu._fastpath`` (fastpath.c), run by ``pip install``
through setup.py's ``cffi_modules`` (``make venv`` reinstalls when the C changes).

The declarations come from fastpath.h itself (its "cffi: begin" ... "cffi: end" parts); of
``fwd_dest`` cffi is told only the fields Python touches, and ``...`` leaves the rest of its
layout to the C compiler."""

import re
from pathlib import Path

from cffi import FFI

HEADER = Path(__file__).with_name("fastpath.h").read_text()
_declared = re.findall(r"/\* cffi: begin \*/(.*?)/\* cffi: end \*/", HEADER, re.DOTALL)
if len(_declared) != 2:
    raise RuntimeError("fastpath.h: expected two 'cffi: begin' ... 'cffi: end' parts")

ffibuilder = FFI()
ffibuilder.cdef(
    _declared[0]
    # The send buffer, socket address and alignment stay C's business.
    + "typedef struct { int ready; int fd; void *srtp; ...; } fwd_dest;\n"
    + _declared[1]
)
ffibuilder.set_source(
    "rooms.sfu._fastpath",
    '#include "fastpath.h"',
    # Relative to the project root: pip builds from there.
    sources=["rooms/sfu/fastpath.c"],
    include_dirs=["rooms/sfu"],
    depends=["rooms/sfu/fastpath.h"],
    extra_compile_args=["-O2", "-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
)
