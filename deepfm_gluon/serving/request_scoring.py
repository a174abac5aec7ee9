"""Several requests' raw rows scored in one model call, where a value the
encoder rejects fails its own request alone (issue 21, case 2).

The batch is encoded once (the cheap path, taken whenever every value
encodes). Only when that raises is each request encoded alone, and a
failing one bisected to its first bad row and field, for a 422 that names
them; the other requests of the batch are still scored together.
"""
import numpy as np

from .request_parsing import MAX_ERROR_VALUE_CHARS, RequestError

# What an encoder raises for a value it cannot encode (a lone surrogate has no
# UTF-8 bytes to hash: UnicodeEncodeError, a ValueError). Anything else (out
# of memory, a bug) is the server's failure and fails the batch with a 500.
ENCODER_REJECTS = (ValueError, TypeError, OverflowError, LookupError)


def join_rows(requests):
    """The raw rows of several requests (lists of lists of str), as one list."""
    return [row for rows in requests for row in rows]


def score_requests(encoder, predict_features, requests):
    """requests: list of requests' rows (each a list of rows of num_fields str)
    -> list, one per request: float (n,) probabilities, or a RequestError (422)
    naming that request's first row and field the encoder rejects.
    ``predict_features``: int (n, num_fields) feature indices -> float (n,)."""
    try:
        features, good = encoder.encode(join_rows(requests)), list(range(len(requests)))
        outcomes = [None] * len(requests)
    except ENCODER_REJECTS:
        outcomes = [rejection(encoder, rows) for rows in requests]
        good = [i for i, outcome in enumerate(outcomes) if outcome is None]
        features = encoder.encode(join_rows([requests[i] for i in good])) if good else None
    if good:
        probs = np.asarray(predict_features(features))
        start = 0
        for i in good:
            outcomes[i] = probs[start:start + len(requests[i])]
            start += len(requests[i])
    return outcomes


def rejection(encoder, rows):
    """None if ``rows`` encode, else a RequestError (422) naming the first bad
    row (0-based, as in the request) and field (1-based), found by bisection."""
    try:
        encoder.encode(rows)
        return None
    except ENCODER_REJECTS as err:
        first_error = err
    lo, hi = 0, len(rows)  # rows[lo:hi] holds a value that fails
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fails(encoder, rows[lo:mid]):
            hi = mid
        else:
            lo = mid
    for field, value in enumerate(rows[lo]):
        try:
            encoder.encode_field(field, [value])
        except ENCODER_REJECTS as err:
            return RequestError(422, f"row {lo} field {field + 1}: the model's encoder cannot encode "
                                     f"{value!r:.{MAX_ERROR_VALUE_CHARS}} ({type(err).__name__}: {err})")
    return RequestError(422, f"the model's encoder cannot encode these rows "
                             f"({type(first_error).__name__}: {first_error})")


def fails(encoder, rows):
    try:
        encoder.encode(rows)
        return False
    except ENCODER_REJECTS:
        return True
