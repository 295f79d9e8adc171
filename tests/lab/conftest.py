import sys
from pathlib import Path

# lab_harness sits beside the tests; the path entry keeps `import lab_harness` working under any
# import mode (the same arrangement as tests/browser).
sys.path.insert(0, str(Path(__file__).parent))
