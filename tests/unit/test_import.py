"""Importing genmodels is cheap: no torch, pandas or sklearn until they are needed."""

import subprocess
import sys


def test_import_does_not_load_heavy_modules():
    code = ("import sys, time; t = time.perf_counter(); import genmodels; "
            "dt = time.perf_counter() - t; "
            "heavy = [m for m in ('torch', 'pandas', 'sklearn', 'scipy') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
