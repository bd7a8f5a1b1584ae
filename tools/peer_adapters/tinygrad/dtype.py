import numpy as np


class dtypes:
    float32 = float = np.dtype(np.float32)
    float64 = double = np.dtype(np.float64)
    float16 = half = np.dtype(np.float16)
    int32 = int = np.dtype(np.int32)
    int64 = long = np.dtype(np.int64)
    int8 = np.dtype(np.int8)
    int16 = np.dtype(np.int16)
    uint8 = uchar = np.dtype(np.uint8)
    uint32 = uint = np.dtype(np.uint32)
    uint64 = ulong = np.dtype(np.uint64)
    bool = np.dtype(np.bool_)
    default_float = np.dtype(np.float32)
    default_int = np.dtype(np.int32)

    @staticmethod
    def max(dt):
        dt = np.dtype(dt)
        return True if dt.kind == "b" else np.iinfo(dt).max if dt.kind in "iu" else float("inf")

    @staticmethod
    def min(dt):
        dt = np.dtype(dt)
        return False if dt.kind == "b" else np.iinfo(dt).min if dt.kind in "iu" else float("-inf")
