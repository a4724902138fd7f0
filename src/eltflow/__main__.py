from __future__ import annotations

import sys

from eltflow.cli import main

sys.exit(main())
