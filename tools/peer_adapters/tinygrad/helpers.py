import contextlib
import os

DEBUG = 0
IMAGE = 0
CI = True
CPU_LLVM = False
AMD_LLVM = False
EMULATE = False


def getenv(key, default=0):
    return type(default)(os.getenv(key, default))


@contextlib.contextmanager
def Context(**_):
    yield
