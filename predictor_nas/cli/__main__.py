"""``python -m predictor_nas.cli``: the ``predictor-nas`` command."""

import sys

from predictor_nas.cli._main import main

sys.exit(main())
