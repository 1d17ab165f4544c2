"""Evaluation: greedy predictions, exact match by length/size/depth and ID vs OOD, failure catalog."""

from behaviorlab.evaluate.metrics import edit_distance, first_wrong, summarize
from behaviorlab.evaluate.predict import Prediction, predict

__all__ = ["Prediction", "edit_distance", "first_wrong", "predict", "summarize"]
