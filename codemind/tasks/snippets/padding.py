# The pieces DSR's padding (codemind/tasks/padding.py) adds to a program. Read as data with
# codemind.resources.text and parsed with ast; never imported or run by the harness itself.
# Everything here is behaviour-preserving by construction: no output, no random state, no
# clock, no exceptions caught, and nothing depends on the program it is put into.

# Unused imports: stdlib modules with no side effect on import (none of them imports random).
import base64
import bisect
import copy
import hashlib
import heapq
import operator
import string
import textwrap
from collections import OrderedDict
from datetime import date
from fractions import Fraction
from functools import partial
from itertools import chain


# A no-op decorator (the name is changed where it would clash with the program's names).
def my_decorator(func):
    def dec_result(*args, **kwargs):
        res = func(*args, **kwargs)
        return res
    return dec_result


# A helper replacing one binary operation (its operator is set to the one it replaces).
def newFunc(arg0, arg1):
    return arg0 + arg1


# Dead pure calls: each statement is one candidate. Integer constants are redrawn (1..99) by the
# seeded transform; a call is used only when every name it needs is free in the program.
def dead_calls():
    len([3, 1, 4])
    sorted([15, 8, 42])
    abs(-17)
    max(21, 34)
    min(55, 89)
    sum([2, 7, 1])
    str(12).zfill(6)
    tuple(range(5))
    int('70')
    hashlib.sha256(b'30129').hexdigest()
    base64.b64encode(b'72846955115789108619')
    heapq.nlargest(2, [59, 26, 53])
    bisect.bisect_left([10, 20, 30], 25)
    date(2024, 10, 14).isoformat()
    string.capwords('dead code')
    textwrap.shorten('nothing to see here', width=12)
    operator.add(19, 23)
    copy.copy([64, 81])
    Fraction(6, 8).limit_denominator()
    list(chain([1], [2]))
    OrderedDict([(1, 2)])
    partial(max, 3)(4)
