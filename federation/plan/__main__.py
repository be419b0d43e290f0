import sys

from federation.plan.cli import main

sys.exit(main())
