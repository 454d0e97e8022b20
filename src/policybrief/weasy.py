"""Import WeasyPrint without its slow search for system libraries.

WeasyPrint loads Pango, HarfBuzz, fontconfig and GObject by trying up to six names each,
for every platform. On Linux most names miss, and for each miss cffi asks
ctypes.util.find_library, which runs `ldconfig -p` and then gcc and ld: some 20 ms a
miss, about a third of a second in all (measured: the import takes 0.55 s instead of
0.9 s). While WeasyPrint is imported, find_library is replaced by a look-up in the
output of one `ldconfig -p` run, which is what find_library itself reads first.
Anywhere that does not work (no ldconfig, a library only on LD_LIBRARY_PATH), the
import is simply done again the ordinary way.
"""

from __future__ import annotations

import ctypes.util
import importlib
import os
import re
import struct
import subprocess
import sys
from collections.abc import Callable
from types import ModuleType

# ctypes.util's own table: the ABI tag ldconfig prints for 64-bit libraries.
_ABI = {"x86_64-64": "libc6,x86-64", "ppc64-64": "libc6,64bit", "sparc64-64": "libc6,64bit",
        "s390x-64": "libc6,64bit", "ia64-64": "libc6,IA-64"}


def _ldconfig_finder() -> Callable[[str], str | None] | None:
    """find_library over one reading of the ldconfig cache (Linux with glibc), or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        listing = subprocess.run(
            ["/sbin/ldconfig", "-p"], capture_output=True, check=True, timeout=10,
            env={"LC_ALL": "C", "LANG": "C"},
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    bits = "-64" if struct.calcsize("l") == 8 else "-32"
    abi = _ABI.get(os.uname().machine + bits, "libc6")

    def find(name: str) -> str | None:  # the pattern ctypes.util uses on this output
        pattern = rf"\s+(lib{re.escape(name)}\.[^\s]+)\s+\({re.escape(abi)}"
        found = re.search(os.fsencode(pattern), listing)
        return os.fsdecode(found.group(1)) if found else None

    return find


def import_weasyprint() -> ModuleType:
    """The weasyprint module, imported once per process."""
    if "weasyprint" in sys.modules:
        return sys.modules["weasyprint"]
    finder = _ldconfig_finder()
    if finder is not None:
        ordinary = ctypes.util.find_library
        setattr(ctypes.util, "find_library", finder)  # noqa: B010 (typed as a plain def)
        try:
            return importlib.import_module("weasyprint")
        except OSError:  # a library the cache does not list: forget the attempt
            for name in [m for m in sys.modules if m.split(".")[0] == "weasyprint"]:
                del sys.modules[name]
        finally:
            setattr(ctypes.util, "find_library", ordinary)  # noqa: B010
    return importlib.import_module("weasyprint")
