"""`python -m federation.doctor STACK ...`: see federation.doctor.cli."""

import sys

from federation.doctor.cli import main

sys.exit(main())
