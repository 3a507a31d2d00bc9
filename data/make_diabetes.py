"""Writes the bundled diabetes data set (Efron, Hastie, Johnstone, Tibshirani, "Least Angle Regression",
Ann. Statist. 2004) as CSV with a header row, from the copy that ships inside scikit-learn (no download).

    pip install scikit-learn==1.7.2 && python3 data/make_diabetes.py

X: 442 patients × 10 baseline variables (age, sex, bmi, bp, s1..s6), each column mean-centred and scaled to
unit Euclidean norm, as scikit-learn ships them. y: disease progression one year after baseline.
"""
import csv
from pathlib import Path

from sklearn.datasets import load_diabetes

here = Path(__file__).parent
d = load_diabetes()
with open(here / "diabetes_X.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(d.feature_names)
    for row in d.data:
        w.writerow([repr(float(v)) for v in row])
with open(here / "diabetes_y.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["progression"])
    for v in d.target:
        w.writerow([repr(float(v))])
