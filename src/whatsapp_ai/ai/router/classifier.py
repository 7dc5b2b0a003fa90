"""A learned intent classifier over sentence embeddings: multinomial logistic regression.

L2-regularised softmax regression fitted by L-BFGS in numpy (deterministic: zero start, fixed
iteration cap, no randomness). The router may add its probabilities to the similarity scores;
`None` among the labels is the "unknown" class (messages no agent serves).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]

L2 = 1e-4
MAX_ITERATIONS = 300
_HISTORY = 10


@dataclass(frozen=True, slots=True)
class IntentClassifier:
    """Softmax weights, one column per label; the last row is the bias."""

    labels: tuple[str | None, ...]
    weights: Matrix  # (dims + 1, labels)

    def probabilities(self, vectors: npt.NDArray[np.floating]) -> Matrix:
        """One row of label probabilities per vector, columns in `labels` order."""
        logits = np.asarray(vectors, dtype=np.float64) @ self.weights[:-1] + self.weights[-1]
        return _softmax(logits)


def _softmax(logits: Matrix) -> Matrix:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    out: Matrix = shifted / shifted.sum(axis=1, keepdims=True)
    return out


def _objective(flat: Matrix, x: Matrix, y: Matrix, l2: float) -> tuple[float, Matrix]:
    """Mean cross-entropy plus the L2 penalty (bias unpenalised), and its gradient."""
    w = flat.reshape(x.shape[1], y.shape[1])
    logits = x @ w
    logits -= logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(logits).sum(axis=1, keepdims=True))
    n = len(x)
    loss = -float((y * (logits - log_norm)).sum()) / n + 0.5 * l2 * float((w[:-1] ** 2).sum())
    grad = x.T @ (np.exp(logits - log_norm) - y) / n
    grad[:-1] += l2 * w[:-1]
    return loss, grad.ravel()


def train(
    vectors: npt.NDArray[np.floating],
    labels: Sequence[str | None],
    *,
    l2: float = L2,
    max_iterations: int = MAX_ITERATIONS,
) -> IntentClassifier:
    """Fit the classifier to labelled vectors (labels keep their first-seen order)."""
    classes = tuple(dict.fromkeys(labels))
    if len(classes) < 2:
        raise ValueError("training needs at least two labels")
    x = np.hstack([np.asarray(vectors, dtype=np.float64), np.ones((len(labels), 1))])
    y = np.eye(len(classes))[[classes.index(label) for label in labels]]
    flat = np.zeros(x.shape[1] * len(classes))
    loss, grad = _objective(flat, x, y, l2)
    steps: list[tuple[Matrix, Matrix]] = []
    for _ in range(max_iterations):
        direction = -_two_loop(grad, steps)
        slope = float(grad @ direction)
        if slope >= 0:  # not a descent direction: restart from the gradient
            steps.clear()
            direction, slope = -grad, -float(grad @ grad)
        size = 1.0
        while True:  # backtracking until the Armijo condition holds
            candidate = flat + size * direction
            new_loss, new_grad = _objective(candidate, x, y, l2)
            if new_loss <= loss + 1e-4 * size * slope or size < 1e-10:
                break
            size /= 2
        s, change = candidate - flat, new_grad - grad
        if float(s @ change) > 1e-12:
            steps = [*steps[-(_HISTORY - 1) :], (s, change)]
        flat, loss, grad = candidate, new_loss, new_grad
        if float(np.linalg.norm(grad)) < 1e-6:
            break
    return IntentClassifier(classes, flat.reshape(x.shape[1], len(classes)))


def _two_loop(grad: Matrix, steps: list[tuple[Matrix, Matrix]]) -> Matrix:
    """L-BFGS: the inverse-Hessian estimate from recent steps applied to the gradient."""
    q = grad.copy()
    alphas: list[float] = []
    for s, change in reversed(steps):
        alpha = float(s @ q) / float(change @ s)
        alphas.append(alpha)
        q -= alpha * change
    if not steps:
        return q / max(float(np.linalg.norm(grad)), 1e-12)
    s, change = steps[-1]
    q *= float(s @ change) / float(change @ change)
    for (s, change), alpha in zip(steps, reversed(alphas), strict=True):
        q += (alpha - float(change @ q) / float(change @ s)) * s
    return q
