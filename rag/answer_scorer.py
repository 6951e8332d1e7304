"""The learned answer scorer: a calibrated probability that a unit answers a question.

Logistic regression over ``answer_features.FEATURES``, trained on public data only
(``python -m eval.train_scorer``; docs/answers.md). The weights ship as JSON with a
version and the feature names, never as a pickle; a file that does not match this
code's features is refused, not silently misread. The refusal threshold in the file
was chosen on a validation split that neither training nor the reported test saw.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .answer_features import FEATURES
from .errors import RagError

SCORER_FORMAT = 1
DEFAULT_SCORER = Path(__file__).parent / "data" / "answer_scorer.json"


@dataclass(frozen=True)
class AnswerScorer:
    """``probabilities(rows)``: P(unit answers the question) for each feature row."""

    mean: np.ndarray  # (F,) float64, feature centring
    scale: np.ndarray  # (F,) float64, feature scaling
    weights: np.ndarray  # (F,) float64
    bias: float
    refusal_threshold: float  # refuse when no unit reaches it
    quote_threshold: float = 0.5  # further units are quoted when more likely than not
    meta: dict = field(default_factory=dict)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        if rows.shape[0] == 0:
            return np.zeros(0)
        z = ((rows - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def save(self, path: str | Path) -> None:
        payload = {
            "format": SCORER_FORMAT,
            "features": list(FEATURES),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "bias": self.bias,
            "refusal_threshold": self.refusal_threshold,
            "quote_threshold": self.quote_threshold,
            "meta": self.meta,
        }
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", "utf-8")

    @classmethod
    def load(cls, path: str | Path = DEFAULT_SCORER) -> AnswerScorer:
        """Raises RagError when the file is missing, unreadable or for other features."""
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RagError(
                f"Cannot read the answer scorer {path}: {exc}. Reinstall the package, or "
                "retrain it with `python -m eval.train_scorer`."
            ) from exc
        if raw.get("format") != SCORER_FORMAT or raw.get("features") != list(FEATURES):
            raise RagError(
                f"The answer scorer {path} was trained for format {raw.get('format')!r} with "
                f"features {raw.get('features')}; this code computes format {SCORER_FORMAT} "
                f"features {list(FEATURES)}. Retrain it with `python -m eval.train_scorer`."
            )
        return cls(
            mean=np.asarray(raw["mean"], dtype=np.float64),
            scale=np.asarray(raw["scale"], dtype=np.float64),
            weights=np.asarray(raw["weights"], dtype=np.float64),
            bias=float(raw["bias"]),
            refusal_threshold=float(raw["refusal_threshold"]),
            quote_threshold=float(raw.get("quote_threshold", 0.5)),
            meta=raw.get("meta", {}),
        )


def fit_logistic(
    rows: np.ndarray,
    labels: np.ndarray,
    *,
    l2: float = 1.0,
    sample_weight: np.ndarray | None = None,
    iterations: int = 50,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method on standardised features.

    Returns ``(mean, scale, weights, bias)``. Deterministic: no random start.
    """
    x = np.asarray(rows, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    sw = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])  # last column: bias
    theta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ theta, -30, 30)))
        grad = z.T @ (sw * (p - y)) + penalty * theta
        hess = (z * (sw * p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    return mean, scale, theta[:-1], float(theta[-1])
