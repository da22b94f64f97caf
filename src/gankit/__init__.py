"""gankit: train, explore and evaluate GANs and their autoencoder relatives."""
__version__ = "0.1.0"

from .api import Config, Run, load, save_samples, train  # noqa: E402,F401
from .api import explore, write_compare, write_report  # noqa: E402,F401
from .api import evaluate, optimal_d  # noqa: E402,F401
