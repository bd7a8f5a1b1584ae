import numpy as np


class Device:
    DEFAULT = "CPU"


def is_dtype_supported(dt):
    return np.dtype(dt).kind in "fbiu" and np.dtype(dt) != np.float16
