"""predictor_nas: neural architecture search guided by accuracy predictors.

Importing the package is light: torch, torch-geometric and xgboost are imported only by the parts
that need them.
"""

from predictor_nas.exceptions import PredictorNASError

__version__ = "0.1.0"

__all__ = ["PredictorNASError", "__version__"]
