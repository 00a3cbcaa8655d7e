import faulthandler
import sys
from pathlib import Path

# A crash in native code prints a Python traceback instead of dying silently.
faulthandler.enable()

ROOT = Path(__file__).resolve().parents[2]
# Import npmean from the source tree (it then finds target/release/libmean.so), unless an
# installed copy is explicitly wanted.
sys.path.insert(0, str(ROOT / "python"))
